"""``vlcourse verify``: prove a hidden suite grades what it should.

The solution scores full marks, the released blank scores zero, every known mistake loses points
on the cell it breaks, every sample (e.g. a cheating attempt) meets its expectation, and the
points in the notebooks' nbgrader metadata agree with the hidden tests.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.classroom import default_workers, grade_many
from vlcourse.grading.integrity import diagnosis
from vlcourse.grading.grade import SubmissionResult
from vlcourse.grading.authoring.mutation import MutationRun, all_mutants, mutant_folders, mutation_run, summary_lines
from vlcourse.grading.authoring.mutation_report import write_mutation_report
from vlcourse.grading.suite.plugin import GradedTest, cell_points, collect_graded_tests
from vlcourse.grading.workers import Focus
from vlcourse.grading.authoring.variants import Variant, blank_submission, read_variants, solution_submission, variant_submission


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


def clean_full_marks(result: SubmissionResult) -> tuple[bool, str]:
    """Full marks and not one cell error: what the solution and every correct alternative must get."""
    errors = "; ".join(f"{label}: {error.strip().splitlines()[-1][:150] if error.strip() else '?'}"
                       for label, error in result.cell_errors.items())
    ok = result.total == result.max_total > 0 and not result.cell_errors and result.status == "ok"
    return ok, describe(result) + (f" — cell errors: {errors}" if errors else "")


def check_variant(variant: Variant, result: SubmissionResult) -> Check:
    label = f"{variant.name} ({variant.why or variant.cell})"
    if variant.expect == "full":
        ok, detail = clean_full_marks(result)
        return Check(label, ok, f"want full marks with no cell error; {detail}")
    earned, maximum = result.scores.get(variant.cell, 0.0), result.max_scores.get(variant.cell, 0.0)
    ok = earned == 0 if variant.expect == "zero" else earned < maximum
    want = "zero" if variant.expect == "zero" else "less than full marks"
    return Check(label, ok, f"{variant.cell}: {earned:g}/{maximum:g}, want {want}; total {describe(result)}")


def check_signatures(assignment: Assignment, mistakes: list[Variant], results: dict[str, SubmissionResult],
                     write: bool) -> Check:
    """The stored failure signatures (``signatures.json``) are those the known mistakes have now.

    With ``write`` they are stored first. The detail says how many the hidden tests tell apart and
    which are never diagnosed (they fail every test of their cell, as any wrong answer does): where
    a new hidden test would help.
    """
    path = diagnosis.signatures_path(assignment)
    current = [diagnosis.signature_of(v, results[v.name]) for v in mistakes]
    if write:
        diagnosis.write_signatures(path, current)
    stored = sorted(diagnosis.read_signatures(path), key=lambda s: s.mistake)
    ok = stored == sorted(current, key=lambda s: s.mistake)
    blind = sorted(v.name for v in mistakes if diagnosis.failure_key(results[v.name], v.cell) is None)
    detail = (f"{len(current)} known mistakes in {len({s.key for s in current})} signatures; "
              f"never diagnosed (they fail every test of their cell): {', '.join(blind) or 'none'}" if ok else
              f"{path.name} is stale or missing: run `vlcourse verify {assignment.name} --write-signatures`")
    return Check("failure signatures of the known mistakes", ok, detail)


def verify_assignment(assignment: Assignment, log=print, workers: int | None = None,
                      write_signatures: bool = False, mutants: bool = False, cells: list[str] | None = None,
                      report: Path | None = None) -> list[Check]:
    """Run every verification for one assignment; returns the checks (all ok = verified).

    With ``mutants`` the graded cells' mutants are graded in the same class run (see
    :mod:`vlcourse.grading.authoring.mutation`); ``cells`` limits that to some cells and skips the other
    checks but the solution's (quick iteration on one cell's tests); ``report`` writes the HTML page.
    """
    started = time.monotonic()
    tests: list[GradedTest] = collect_graded_tests(assignment.grader_dir)
    checks: list[Check] = []

    def record(check: Check) -> None:
        checks.append(check)
        log(check.line())

    focused = mutants and cells is not None
    if not focused:
        for check in check_metadata(assignment, cell_points(tests)):
            record(check)
    variants = {} if focused else {v.name: v for folder in (assignment.mistakes_dir, assignment.alternatives_dir,
                                                            assignment.samples_dir) for v in read_variants(folder)}
    mutant_list = all_mutants(assignment, tests, cells) if mutants else []
    if mutants:
        log(f"grading {len(mutant_list)} mutants of {len({m.cell for m in mutant_list})} graded cells")
    with tempfile.TemporaryDirectory(prefix="vlcourse-verify-") as tmp:
        tmp = Path(tmp)
        folders = {"solution": solution_submission(assignment, tmp / "solution")}
        if not focused:
            folders["blank"] = blank_submission(assignment, tmp / "blank")
        folders |= {name: variant_submission(assignment, v, tmp / name) for name, v in variants.items()}
        mutant_dirs, focus = mutant_folders(assignment, mutant_list, tmp / "mutants")
        folders |= mutant_dirs
        focus |= variant_focus(variants.values(), {t.cell for t in tests})
        count = workers or default_workers(len(folders), assignment.submissions_per_worker)
        results = {}
        for result in tqdm(grade_many(assignment, folders, tests, count, focus), total=len(folders),
                           desc=f"verifying {assignment.name}", disable=len(folders) < 40, leave=False):
            results[result.student] = result
    record(Check("solution scores full marks with no cell error", *clean_full_marks(results["solution"])))
    if not focused:
        record_suite_checks(assignment, variants, results, write_signatures, record)
    if mutants:
        run = mutation_run(assignment, mutant_list, results, started, cells)
        for line in summary_lines(run):
            log(line)
        for check in mutation_checks(run):
            record(check)
        if report is not None:
            write_mutation_report(run, report)
            log(f"mutation report: {report}")
    return checks


def variant_focus(variants: Iterable[Variant], graded_cells: set[str]) -> dict[str, Focus]:
    """Variants expected to lose points are graded on their own cell only.

    Their check reads nothing else: the cell's score and which of its tests failed (the failure
    signature). Every cell of the notebook still runs; only other cells' hidden tests are skipped.
    Variants expected to score full marks (correct alternatives) are graded on every cell.
    """
    return {v.name: Focus(frozenset({v.cell})) for v in variants if v.expect != "full" and v.cell in graded_cells}


def record_suite_checks(assignment: Assignment, variants: dict[str, Variant], results: dict[str, SubmissionResult],
                        write_signatures: bool, record) -> None:
    """Blank zero, each variant as it expects, the failure signatures, enough known mistakes."""
    blank = results["blank"]
    record(Check("blank scores zero", blank.total == 0, describe(blank)))
    for name, variant in variants.items():
        record(check_variant(variant, results[name]))
    record(check_signatures(assignment, read_variants(assignment.mistakes_dir), results, write_signatures))
    mistakes = len(read_variants(assignment.mistakes_dir))
    if mistakes < 6:
        record(Check("known mistakes", False, f"only {mistakes} in {assignment.mistakes_dir}; at least 6 expected"))


def mutation_checks(run: MutationRun) -> list[Check]:
    """One check per graded cell (no survivor), and one per error of the equivalents list."""
    checks = [Check(f"mutants of {s.cell}", s.survived == 0,
                    f"{s.mutants} mutants: {s.killed} killed, {s.equivalent} equivalent, {s.survived} survived")
              for s in run.by_cell()]
    return checks + [Check("equivalent mutants list", False, error) for error in run.errors]
