"""Intake: submission folders, LMS downloads (Canvas, Moodle), zips inside hand-ins, due dates."""
