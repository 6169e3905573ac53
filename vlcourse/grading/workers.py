"""What each grading process does: one warm fork server per assignment, its time limits, one submission.

The local worker processes of :func:`vlcourse.grading.classroom.grade_many` and the Dask workers of
:mod:`vlcourse.grading.cluster` both run :func:`grade_in_worker`; this module holds each process's
warm server and the limits measured on it, so both drivers import it and neither imports the other.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.sandbox.child import preload
from vlcourse.grading.sandbox.forkserver import ForkServer, ServerError
from vlcourse.grading.grade import SubmissionResult, grade_submission, runner_spec
from vlcourse.grading.suite.plugin import GradedTest
from vlcourse.grading.sandbox.timing import TimeLimits
from vlcourse.grading.authoring.variants import solution_submission
from vlcourse.grading.sandbox.zygote import warm_up_torch


_servers: dict[str, ForkServer] = {}  # one warm fork server per assignment in each grading process
_timings: dict[str, TimeLimits] = {}  # and the time limits measured on it


def warm_server(assignment: Assignment, scratch: Path | None = None) -> ForkServer:
    """This process's fork server for ``assignment``, started on first use and kept for the next submissions."""
    if assignment.name not in _servers:
        server = _servers[assignment.name] = ForkServer(runner_spec(assignment), scratch)
        server.begin()  # the zygote starts while this process warms up
        warm_up_grader(assignment)
    return _servers[assignment.name]


def warm_up_grader(assignment: Assignment) -> None:
    """Pay the grading process's own first-use costs once (the hidden tests use the same libraries).

    Without this the first submission of each worker takes seconds longer than the rest: lazy
    imports (sympy, scipy's docstrings, the optimisers' machinery) happen in its first hidden test.
    """
    preload(assignment.preload)
    warm_up_torch()


def close_servers() -> None:
    while _servers:
        _servers.popitem()[1].close()
    _timings.clear()


def forget_server(name: str) -> None:
    """Close this process's fork server for assignment ``name`` and forget its time limits (the assignment changed)."""
    server = _servers.pop(name, None)
    if server is not None:
        server.close()
    _timings.pop(name, None)


def server_starts(name: str) -> int:
    """How many times this process's fork server for assignment ``name`` started its zygote (0: none yet)."""
    return _servers[name].starts if name in _servers else 0


def time_limits(assignment: Assignment, tests: list[GradedTest], server: ForkServer) -> TimeLimits:
    """This process's time limits for ``assignment``: the solution graded once on ``server``, timed.

    See :mod:`vlcourse.grading.sandbox.timing`. If the solution cannot be graded cleanly here (the machine
    is broken or the assignment is), the flat limits apply: slower for hanging submissions, never unfair.
    """
    if assignment.name not in _timings:
        explicit = {t.name: t.call_seconds for t in tests if t.call_seconds}
        timing = TimeLimits(assignment.limits, explicit_calls=explicit)
        with tempfile.TemporaryDirectory(prefix="vlcourse-calibrate-") as tmp:
            folder = solution_submission(assignment, Path(tmp) / "solution")
            result = grade_submission(assignment, "reference solution", folder, tests, server=server, timing=timing)
        if result.total == result.max_total and not result.cell_errors:
            timing.reference_calls = {t.name: r.call_seconds for t, r in zip(tests, result.tests)}
            timing.reference_cells = {c: result.cell_seconds[c] for c in assignment.graded_cells() if c in result.cell_seconds}
        _timings[assignment.name] = timing
    return _timings[assignment.name]


def grade_in_worker(assignment: Assignment, student: str, folder: Path, tests, scratch: Path,
                    focus: Focus | None = None) -> SubmissionResult:
    """What each worker process runs: one submission, on the worker's warm fork server, timed as the solution."""
    server = warm_server(assignment, scratch)
    timing = time_limits(assignment, tests, server)
    if focus is not None:
        return grade_submission(assignment, student, folder, [t for t in tests if t.cell in focus.cells], server=server,
                                timing=timing, stop_at_first_loss=focus.stop_at_first_loss)
    return grade_submission(assignment, student, folder, tests, server=server, timing=timing)


@dataclass(frozen=True)
class Focus:
    """Grade only some cells of a submission, and optionally stop at its first lost point (mutation testing)."""

    cells: frozenset[str]
    stop_at_first_loss: bool = False


def start_worker(assignment: Assignment, scratch: Path) -> None:
    """Worker initialiser: one torch thread (workers already fill the cores), then start the fork server.

    Ctrl-C is the main process's to handle (it stops the workers), so workers ignore SIGINT instead
    of each printing a traceback.
    """
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(1)
    try:
        warm_server(assignment, scratch).start()
    except ServerError:
        pass  # each submission then reports it (see StudentRunner), and the class goes on


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Interrupted: end the workers now (their sandboxes die with them) instead of waiting for them."""
    for process in list((pool._processes or {}).values()):  # noqa: SLF001 - the executor has no public way
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
