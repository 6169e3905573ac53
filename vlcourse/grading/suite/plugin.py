"""The pytest plugin that turns a hidden suite into scores for one submission.

Each hidden test carries ``@pytest.mark.grade(cell=..., points=..., hint=...)``: the graded cell it
scores, its points, and a hint shown when it fails. A failing test shows only its description and
hint, never the assertion message (that could reveal expected values); errors raised by the
student's own code (:class:`StudentError`) are shown as they are, since they are the student's.
The ``credit`` fixture lets a test award part of its points (e.g. scaled by an accuracy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vlcourse.grading.sandbox.runner import StudentError, StudentRunner
from vlcourse.grading.suite.student import Student

MARKER_HELP = ("grade(cell, points, hint='', call_seconds=None): the graded cell this hidden test scores, its points, "
               "and optionally its own limit per call (default: scaled from the reference, see vlcourse.grading.sandbox.timing)")


@dataclass
class GradedTest:
    """A hidden test as collected: which cell, how many points, what it checks, the hint."""

    nodeid: str
    name: str
    cell: str
    points: float
    description: str
    hint: str
    call_seconds: float | None = None  # this test's own limit per call, if it sets one
    fixtures: tuple[str, ...] = ()  # the fixtures it asks for (``submitted``: it grades a handed-in file)


@dataclass
class TestOutcome:
    test: GradedTest
    earned: float
    passed: bool
    reason: str = ""  # safe to show the student
    grader_error: bool = False  # the hidden test itself broke: needs a human look
    detail: str = ""  # for TAs only (may contain expected values): the failure as pytest saw it


def graded_test_from_item(item) -> GradedTest:
    marker = item.get_closest_marker("grade")
    if marker is None:
        raise pytest.UsageError(f"hidden test {item.nodeid} has no @pytest.mark.grade(cell=..., points=...)")
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("cell", marker.args[0])
    if "cell" not in kwargs or "points" not in kwargs:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.grade needs cell= and points=")
    doc = (getattr(item.function, "__doc__", None) or item.name).strip().splitlines()[0]
    return GradedTest(
        nodeid=item.nodeid, name=item.name, cell=str(kwargs["cell"]), points=float(kwargs["points"]),
        description=doc, hint=str(kwargs.get("hint", "")),
        call_seconds=float(kwargs["call_seconds"]) if kwargs.get("call_seconds") else None,
        fixtures=tuple(getattr(item, "fixturenames", ())),
    )


class Credit:
    """Fraction of a test's points to award if it passes (default: all of them)."""

    def __init__(self):
        self.fraction = 1.0

    def award(self, fraction: float) -> None:
        self.fraction = min(1.0, max(0.0, float(fraction)))


class SubmittedFiles:
    """Paths, as the runner sees them, of files the submission handed in (pristine copies)."""

    def __init__(self, folder: Path, runner_view: str):
        self.folder = folder
        self.runner_view = runner_view

    def path(self, name: str) -> str:
        if not (self.folder / name).is_file():
            raise StudentError(f"your submission has no file {name!r}: run the cell that saves it, and submit it")
        return f"{self.runner_view}/{name}"


class CollectPlugin:
    """Collect-only: what a hidden suite grades (cells and points), without any submission."""

    def __init__(self):
        self.tests: list[GradedTest] = []

    def pytest_configure(self, config):
        config.addinivalue_line("markers", MARKER_HELP)

    def pytest_collection_modifyitems(self, items):
        self.tests = [graded_test_from_item(item) for item in items]


class GradingPlugin(CollectPlugin):
    """Runs a hidden suite against one submission (see module docstring).

    ``selected`` (node ids) runs only those tests, the others deselected; with ``stop_at_first_loss``
    the session ends at the first test that does not earn all its points (mutation testing only asks
    whether a cell loses points, see :mod:`vlcourse.grading.authoring.mutation`).
    """

    def __init__(self, runner: StudentRunner, submitted: SubmittedFiles, unavailable_cells: dict[str, str],
                 selected: set[str] | None = None, stop_at_first_loss: bool = False):
        super().__init__()
        self._runner = runner
        self._student = Student(runner)
        self._submitted = submitted
        self.unavailable_cells = unavailable_cells  # cell id -> why its tests cannot pass
        self.outcomes: dict[str, TestOutcome] = {}
        self._credits: dict[str, Credit] = {}
        self._selected = selected
        self._stop_at_first_loss = stop_at_first_loss

    def pytest_configure(self, config):
        super().pytest_configure(config)
        # A failed test's traceback (the TAs' detail) as Python prints it: pytest's own styles parse the
        # whole source file of every frame to find its statement, about 80 ms for each failing test.
        config.option.tbstyle = "native"

    def pytest_collection_modifyitems(self, config, items):
        if self._selected is not None:
            deselected = [item for item in items if item.nodeid not in self._selected]
            if self._selected and len(deselected) == len(items):
                raise pytest.UsageError(f"none of the {len(self._selected)} selected hidden tests was collected")
            items[:] = [item for item in items if item.nodeid in self._selected]
            if deselected:
                config.hook.pytest_deselected(items=deselected)
        super().pytest_collection_modifyitems(items)

    @pytest.fixture(scope="session")
    def student(self) -> Student:
        return self._student

    @pytest.fixture(scope="session")
    def submitted(self) -> SubmittedFiles:
        return self._submitted

    @pytest.fixture
    def credit(self, request) -> Credit:
        credit = Credit()
        self._credits[request.node.nodeid] = credit
        return credit

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        test = graded_test_from_item(item)
        self._runner.current_test = test.name  # its calls get its limit (vlcourse.grading.sandbox.timing)
        if test.cell in self.unavailable_cells:
            raise StudentError(self.unavailable_cells[test.cell])

    def pytest_runtest_teardown(self, item):
        self._runner.current_test = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        counts = report.when == "call" or (report.when == "setup" and not report.passed) or report.failed
        previous = self.outcomes.get(item.nodeid)
        if counts and (previous is None or previous.passed):
            outcome = self.outcomes[item.nodeid] = self._outcome(item, report, call)
            if self._stop_at_first_loss and outcome.earned < outcome.test.points:
                item.session.shouldstop = "a test lost points"

    def _outcome(self, item, report, call) -> TestOutcome:
        test = graded_test_from_item(item)
        if report.passed:
            fraction = self._credits.get(item.nodeid, Credit()).fraction
            return TestOutcome(test, earned=test.points * fraction, passed=True)
        if report.skipped:
            return TestOutcome(test, 0.0, False, "this check could not run (the grader skipped it)", grader_error=True)
        excinfo = call.excinfo
        detail = str(report.longreprtext)[-1500:]
        if excinfo is not None and excinfo.errisinstance(StudentError):
            return TestOutcome(test, 0.0, False, str(excinfo.value))
        if excinfo is not None and excinfo.errisinstance(AssertionError):
            return TestOutcome(test, 0.0, False, "the result did not match", detail=detail)
        kind = excinfo.typename if excinfo is not None else "error"
        return TestOutcome(test, 0.0, False, f"the check itself failed ({kind}); a TA will look at it",
                           grader_error=True, detail=detail)


def pytest_args(tests_dir: Path, collect_only: bool = False) -> list[str]:
    ini = tests_dir.parent / "pytest.ini"
    args = [str(tests_dir), "-c", str(ini), "--import-mode=importlib", "-W", "ignore"]
    # Plugins a hidden suite does not need. unraisableexception and threadexception run full garbage
    # collections at the end of every session, which in a grading process full of torch costs ~0.4 s
    # per submission.
    for plugin in ("cacheprovider", "terminal", "unraisableexception", "threadexception", "doctest",
                   "junitxml", "pastebin", "stepwise"):
        args += ["-p", f"no:{plugin}"]
    return args + (["--collect-only"] if collect_only else [])


def collect_graded_tests(tests_dir: Path) -> list[GradedTest]:
    """The graded tests of a hidden suite, in file order."""
    plugin = CollectPlugin()
    code = pytest.main(pytest_args(tests_dir, collect_only=True), plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) or not plugin.tests:
        raise RuntimeError(f"could not collect the hidden tests in {tests_dir} (pytest exit code {code})")
    return plugin.tests


def cell_points(tests: list[GradedTest]) -> dict[str, float]:
    """Maximum points per graded cell, in the order cells first appear in the suite."""
    points: dict[str, float] = {}
    for test in tests:
        points[test.cell] = points.get(test.cell, 0.0) + test.points
    return points
