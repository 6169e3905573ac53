"""Results: grades.csv and feedback, the class report, the nbgrader gradebook, LMS import files."""
