"""Authoring: the assignment's configuration, verification, variants of the solution and mutation testing."""
