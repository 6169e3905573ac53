"""Grade a whole class: every submission in a folder, with a progress bar and resumable results.

Each finished submission is saved at once to ``OUT/results/<student>.json``; a rerun skips the
students already graded unless ``force`` is set, so an interrupted run loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from vlcourse.grading.assignment import Assignment
from vlcourse.grading.grade import SubmissionResult, grade_submission, load_result, save_result
from vlcourse.grading.plugin import cell_points, collect_graded_tests
from vlcourse.grading.report import summary_text, write_csv, write_feedback
from vlcourse.grading.submission import find_submissions


@dataclass
class ClassResult:
    assignment: Assignment
    results: list[SubmissionResult]
    cells: list[str]
    out: Path

    def summary(self) -> str:
        return summary_text(self.results, self.cells)


def grade_class(
    assignment: Assignment,
    submissions: Path,
    out: Path,
    force: bool = False,
    progress: bool = True,
) -> ClassResult:
    """Grade every submission under ``submissions``; write ``grades.csv``, feedback and results."""
    tests = collect_graded_tests(assignment.grader_dir)
    cells = list(cell_points(tests))
    folders = find_submissions(submissions, assignment.name)
    results_dir = out / "results"
    results = []
    for student, folder in tqdm(folders.items(), desc=f"grading {assignment.name}", disable=not progress):
        previous = None if force else load_result(results_dir, student)
        if previous is None:
            previous = grade_submission(assignment, student, folder, tests)
            save_result(previous, results_dir)
        results.append(previous)
    write_csv(results, cells, out / "grades.csv")
    write_feedback(results, f"{assignment.name}: {assignment.title}", out / "feedback")
    return ClassResult(assignment, results, cells, out)
