"""Integrity: copy detection and the diagnosis of known mistakes."""
