"""Grade one submission, or a whole class, against an assignment's hidden suite.

``grade_submission`` parses the notebook (trusted side), stages the files in the fork server's
folders, gets a warm runner, executes the cells and runs the hidden suite through the ``student`` fixture.
Whatever goes wrong with a submission ends up in its :class:`SubmissionResult` — never as an
exception that would stop the class.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.suite.plugin import GradedTest, GradingPlugin, SubmittedFiles, TestOutcome, cell_points, pytest_args
from vlcourse.grading.sandbox.forkserver import ForkServer, RunnerSpec
from vlcourse.grading.integrity.similarity import normalised_tokens
from vlcourse.grading.sandbox.runner import Cell, CellResult, StudentError, StudentRunner
from vlcourse.grading.sandbox.timing import TimeLimits
from vlcourse.grading.intake.submission import MalformedSubmission, find_notebook, parse_notebook, stage_files


@dataclass
class TestReport:
    """One hidden test's result as stored and shown (no hidden values)."""

    cell: str
    description: str
    points: float
    earned: float
    passed: bool
    reason: str = ""
    hint: str = ""
    grader_error: bool = False
    detail: str = ""  # TAs only: never written into student feedback
    call_seconds: float = 0.0  # the slowest call into the submission this test made
    call_limit: float = 0.0  # how long each of its calls could take (vlcourse.grading.sandbox.timing)
    name: str = ""  # the hidden test's function name (failure signatures: vlcourse.grading.integrity.diagnosis)


@dataclass
class SubmissionResult:
    """Everything the gradebook and the feedback need about one student."""

    student: str
    scores: dict[str, float]
    max_scores: dict[str, float]
    status: str = "ok"  # ok | malformed | timeout | crashed
    messages: list[str] = field(default_factory=list)
    cell_errors: dict[str, str] = field(default_factory=dict)  # grade_id, or "cell N" if ungraded -> its error
    tests: list[TestReport] = field(default_factory=list)
    seconds: float = 0.0  # grading time, without the runner's interpreter and torch start-up
    startup_seconds: float = 0.0
    needs_review: bool = False
    isolation: str = ""  # sandbox | process (see vlcourse.grading.sandbox.sandbox)
    fingerprints: dict[str, list[str]] = field(default_factory=dict)  # graded cell -> normalised tokens (copy detection)
    flags: list[str] = field(default_factory=list)  # copy detection; set for the whole class
    output: str = ""  # TAs only: what the notebook printed (head and tail, see Limits.output_bytes)
    cell_seconds: dict[str, float] = field(default_factory=dict)  # cell label -> how long it ran
    diagnoses: dict[str, list[str]] = field(default_factory=dict)  # graded cell -> known mistakes its failures match

    @property
    def total(self) -> float:
        return round(sum(self.scores.values()), 4)

    @property
    def max_total(self) -> float:
        return round(sum(self.max_scores.values()), 4)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict) -> SubmissionResult:
        raw = dict(raw)
        raw["tests"] = [TestReport(**t) for t in raw.get("tests", [])]
        return cls(**raw)


def zero_result(student: str, max_scores: dict[str, float], status: str, message: str) -> SubmissionResult:
    return SubmissionResult(student, {c: 0.0 for c in max_scores}, dict(max_scores), status, [message])


def unavailable_cells(expected: set[str], present: set[str], runs: list[CellResult]) -> dict[str, str]:
    """Graded cells whose tests cannot pass: missing from the notebook, or killed/hung the runner."""
    reasons = {cell: "this graded cell is missing from your notebook (deleted or renamed?)" for cell in expected - present}
    for run in runs:
        if run.cell.grade_id in expected and run.status in ("timeout", "crashed", "skipped"):
            reasons[run.cell.grade_id] = f"this cell did not finish: {run.error}"
    return reasons


def runner_spec(assignment: Assignment, sandbox: bool = True) -> RunnerSpec:
    """How this assignment's runners start: its limits, withheld and preloaded code, the sandbox."""
    return RunnerSpec(limits=assignment.limits, withheld=assignment.withheld, preload=assignment.preload,
                      sandbox=sandbox, masked_files=assignment.withheld_files(), llm=assignment.llm)


def grade_submission(
    assignment: Assignment,
    student: str,
    folder: Path,
    tests: list[GradedTest],
    scratch: Path | None = None,
    sandbox: bool = True,
    server: ForkServer | None = None,
    timing: TimeLimits | None = None,
    stop_at_first_loss: bool = False,
) -> SubmissionResult:
    """Grade one submission folder; never raises for anything the submission did.

    Only ``tests`` run (a subset of the suite grades only their cells); ``stop_at_first_loss`` ends
    the suite at the first test that loses points (the rest score zero: for mutation testing only).

    The runner comes from ``server`` (warm, reused for a whole class, see
    :mod:`vlcourse.grading.sandbox.forkserver`); without one, a server is started for this submission
    alone, under bubblewrap where it works if ``sandbox`` is set. ``timing`` says how long its
    cells and calls may take (default: the assignment's flat limits).
    """
    if server is None:
        with ForkServer(runner_spec(assignment, sandbox), scratch) as own:
            return grade_submission(assignment, student, folder, tests, server=own, timing=timing,
                                    stop_at_first_loss=stop_at_first_loss)
    started = time.monotonic()
    max_scores = cell_points(tests)
    try:
        notebook = parse_notebook(find_notebook(folder, assignment.notebook), assignment.graded_cells())
    except MalformedSubmission as exc:
        return zero_result(student, max_scores, "malformed", str(exc))
    waited_before = server.waited_seconds
    notes = notebook.notes + server.prepare(
        lambda: stage_files(folder, server.work_dir, assignment.files, server.submitted_dir))
    server_startup = server.waited_seconds - waited_before  # a zygote still starting (or restarted)
    prints = {c.grade_id: normalised_tokens(c.source) for c in notebook.cells if c.grade_id in max_scores}
    runner = StudentRunner(notebook.cells, server, timing)
    try:
        runs = runner.run_notebook()
        plugin = GradingPlugin(
            runner,
            SubmittedFiles(server.submitted_dir, f"../{server.submitted_dir.name}"),
            unavailable_cells(set(max_scores), notebook.grade_ids(), runs),
            selected={t.nodeid for t in tests}, stop_at_first_loss=stop_at_first_loss,
        )
        pytest.main(pytest_args(assignment.grader_dir), plugins=[plugin])
    finally:
        runner.close()
        server.reset()  # nothing of this submission stays for the next one
    result = assemble(student, max_scores, tests, plugin.outcomes, runs, notes, runner)
    result.startup_seconds = round(runner.startup_seconds + server_startup, 2)
    result.isolation = server.isolation
    result.fingerprints = prints
    result.output = runner.output.text()
    result.seconds = round(time.monotonic() - started - result.startup_seconds, 2)
    return result


def assemble(student, max_scores, tests, outcomes: dict[str, TestOutcome], runs, notes, runner) -> SubmissionResult:
    scores = {cell: 0.0 for cell in max_scores}
    reports = []
    for test in tests:
        outcome = outcomes.get(test.nodeid) or TestOutcome(test, 0.0, False, "this check did not run", grader_error=True)
        scores[test.cell] += outcome.earned
        reports.append(TestReport(
            cell=test.cell, description=test.description, points=test.points, name=test.name, earned=round(outcome.earned, 4),
            passed=outcome.passed, reason=outcome.reason, hint="" if outcome.passed else test.hint,
            grader_error=outcome.grader_error, detail=outcome.detail,
            call_seconds=round(runner.call_seconds.get(test.name, 0.0), 3),
            call_limit=runner.timing.call_limit(test.name),
        ))
    cell_errors = {cell_label(r.cell): r.error or r.status for r in runs if r.status not in ("ok", "not run")}
    statuses = {r.status for r in runs if r.status != "not run"}
    status = "timeout" if "timeout" in statuses else "crashed" if "crashed" in statuses else "ok"
    messages = list(notes)
    if runner.gave_up:
        messages.append(runner.gave_up)
        status = "timeout" if "time" in runner.gave_up else "crashed"
    return SubmissionResult(
        student=student, scores={k: round(v, 4) for k, v in scores.items()}, max_scores=dict(max_scores),
        status=status, messages=messages, cell_errors=cell_errors, tests=reports,
        needs_review=any(r.grader_error for r in reports),
        cell_seconds={cell_label(r.cell): r.seconds for r in runs if r.status != "not run"},
    )


def cell_label(cell: Cell) -> str:
    """How feedback names a cell: its grade_id, or its position among the code cells (from 1)."""
    return cell.grade_id or f"cell {cell.index + 1}"


def safe_name(student: str) -> str:
    """A student name usable in a file name (folder names can hold anything)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in student)[:100] or "student"


def save_result(result: SubmissionResult, folder: Path) -> None:
    """Write ``folder/<student>.json`` atomically; a file that already holds the same result is left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{safe_name(result.student)}.json"
    text = json.dumps(result.to_json(), indent=1)
    if path.exists() and path.read_text() == text:
        return
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def load_result(folder: Path, student: str) -> SubmissionResult | None:
    path = folder / f"{safe_name(student)}.json"
    if not path.exists():
        return None
    try:
        return SubmissionResult.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


__all__ = ["SubmissionResult", "TestReport", "grade_submission", "save_result", "load_result", "StudentError"]
