"""``vlcourse verify``: prove a hidden suite grades what it should.

The solution scores full marks, the released blank scores zero, every known mistake loses points
on the cell it breaks, every sample (e.g. a cheating attempt) meets its expectation, and the
points in the notebooks' nbgrader metadata agree with the hidden tests.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from vlcourse.grading.assignment import Assignment
from vlcourse.grading.grade import SubmissionResult, grade_submission
from vlcourse.grading.plugin import GradedTest, cell_points, collect_graded_tests
from vlcourse.grading.variants import Variant, blank_submission, read_variants, solution_submission, variant_submission


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"[{'ok' if self.ok else 'FAIL'}] {self.name}: {self.detail}"


def notebook_points(path: Path) -> dict[str, float]:
    """Points of the graded cells in a notebook's nbgrader metadata."""
    nb = nbformat.read(path, as_version=4)
    points = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


def check_metadata(assignment: Assignment, expected: dict[str, float]) -> list[Check]:
    checks = []
    for label, path in (("solution", assignment.solution_notebook), ("exercise", assignment.exercise_notebook)):
        if not path.exists():
            checks.append(Check(f"{label} notebook", False, f"{path} is missing (run `vlcourse build`)"))
            continue
        found = notebook_points(path)
        ok = found == expected
        detail = "graded cells and points match the hidden tests" if ok else f"notebook says {found}, hidden tests say {expected}"
        checks.append(Check(f"{label} notebook metadata", ok, detail))
    return checks


def describe(result: SubmissionResult) -> str:
    scores = ", ".join(f"{c}={s:g}/{result.max_scores[c]:g}" for c, s in result.scores.items())
    extra = f" [{result.status}: {'; '.join(result.messages)[:200]}]" if result.status != "ok" else ""
    return f"{result.total:g}/{result.max_total:g} ({scores}){extra}"


def check_variant(variant: Variant, result: SubmissionResult) -> Check:
    earned, maximum = result.scores.get(variant.cell, 0.0), result.max_scores.get(variant.cell, 0.0)
    ok = earned == 0 if variant.expect == "zero" else earned < maximum
    want = "zero" if variant.expect == "zero" else "less than full marks"
    return Check(f"{variant.name} ({variant.why or variant.cell})", ok,
                 f"{variant.cell}: {earned:g}/{maximum:g}, want {want}; total {describe(result)}")


def verify_assignment(assignment: Assignment, log=print) -> list[Check]:
    """Run every verification for one assignment; returns the checks (all ok = verified)."""
    tests: list[GradedTest] = collect_graded_tests(assignment.grader_dir)
    expected = cell_points(tests)
    checks = check_metadata(assignment, expected)
    for check in checks:
        log(check.line())
    with tempfile.TemporaryDirectory(prefix="vlcourse-verify-") as tmp:
        tmp = Path(tmp)

        def grade(name: str, folder: Path) -> SubmissionResult:
            return grade_submission(assignment, name, folder, tests, scratch=tmp)

        def record(check: Check) -> None:
            checks.append(check)
            log(check.line())

        solution = grade("solution", solution_submission(assignment, tmp / "solution"))
        record(Check("solution scores full marks", solution.total == solution.max_total and solution.max_total > 0,
                     describe(solution)))
        blank = grade("blank", blank_submission(assignment, tmp / "blank"))
        record(Check("blank scores zero", blank.total == 0, describe(blank)))
        for variant in read_variants(assignment.mistakes_dir) + read_variants(assignment.samples_dir):
            folder = variant_submission(assignment, variant, tmp / variant.name)
            record(check_variant(variant, grade(variant.name, folder)))
    if len(read_variants(assignment.mistakes_dir)) < 6:
        record(Check("known mistakes", False, f"only {len(read_variants(assignment.mistakes_dir))} in {assignment.mistakes_dir}; at least 6 expected"))
    return checks
