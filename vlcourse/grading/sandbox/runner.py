"""The grader's handle on one submission's runner process (the trusted side of the boundary).

:class:`StudentRunner` gets a runner process (``vlcourse.grading.sandbox.child``) from a warm
:class:`~vlcourse.grading.sandbox.forkserver.ForkServer`, feeds it the submission's cells one by one,
and forwards calls from hidden tests. A cell or call that hangs or kills the process is recorded,
the process is restarted (a new fork: milliseconds), the cells that ran before are replayed and
the poisoned cell is skipped, so one bad cell costs only what depends on it.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from vlcourse.grading.sandbox.cgroups import ProcessGroupLimits
from vlcourse.grading.sandbox.forkserver import ForkServer, LaunchedRunner, ServerError
from vlcourse.grading.sandbox.output import OutputTail, drain
from vlcourse.grading.sandbox.procs import killpg_quietly
from vlcourse.grading.sandbox.protocol import ChannelClosed, ChannelTimeout, ProtocolError, read_frame, write_frame
from vlcourse.grading.sandbox.timing import TimeLimits


class StudentError(Exception):
    """Something the submission did (raised, hung, crashed, returned junk). Safe to show the student."""


class SubmissionTimeout(StudentError):
    """The submission used up its total time budget."""


class Hang(StudentError):
    """A cell or call ran past its time limit (the runner was killed).

    ``function`` is the notebook function it was stuck in, where the runner's stack dump says so.
    """

    def __init__(self, message: str, function: str | None = None):
        super().__init__(message)
        self.function = function


STACK_HEADER = "Stack (most recent call first):"  # what faulthandler writes on SIGUSR1 (see zygote.become_runner)
NOTEBOOK_FRAME = re.compile(r'  File "<ipython-input-[^"]*>", line \d+ in (\w+)$')


def hung_function(output: str) -> str | None:
    """The innermost notebook function in the last stack dump of a runner's output, if any."""
    _, found, dump = output.rpartition(STACK_HEADER)
    for line in dump.splitlines()[1:] if found else []:
        if not line.startswith("  File "):
            break
        match = NOTEBOOK_FRAME.match(line)
        if match:
            return match.group(1)
    return None


@dataclass
class Cell:
    """A code cell of the submission, as the grader parsed it (trusted)."""

    index: int
    source: str
    grade_id: str | None = None
    skip: bool = False  # an experiment or self-check cell the grader does not need (tag SKIP_TAG)


@dataclass
class CellResult:
    """What happened when a cell ran: status is ok, error, timeout, crashed or skipped."""

    cell: Cell
    status: str
    error: str | None = None
    seconds: float = 0.0


class StudentRunner:
    """One submission's runner process: run its cells, then call into it (see module docstring)."""

    def __init__(self, cells: list[Cell], server: ForkServer, timing: TimeLimits | None = None):
        self.cells = cells
        self.server = server
        self.limits = server.spec.limits
        self.timing = timing or TimeLimits(self.limits)
        self.current_test: str | None = None  # the hidden test whose calls come in now (its limit applies)
        self.call_seconds: dict[str, float] = {}  # hidden test -> its slowest call so far
        self.hung: dict[str, str] = {}  # notebook function -> why calls of it are not made again
        self.results: dict[int, CellResult] = {}
        self.poisoned: set[int] = set()
        self.output = OutputTail(self.limits.output_bytes)
        self.restarts = 0
        self.child: LaunchedRunner | None = None
        self.exit_code: int | None = None  # of the last runner that ended
        self.deadline = time.monotonic() + self.limits.submission_seconds
        self.gave_up: str | None = None
        self.started = False
        self.startup_seconds = 0.0
        self.cgroups = ProcessGroupLimits(self.limits.processes, self.limits.total_memory_bytes)

    # --- process life ------------------------------------------------------------------------
    def _spawn(self) -> None:
        """Get a runner from the fork server, put it in this submission's control groups, await it."""
        if self.gave_up:
            raise StudentError(self.gave_up)
        started = time.monotonic()
        try:
            self.child = self.server.launch()
            self.cgroups.add(self.child.host_pid)
            threading.Thread(target=drain, args=(self.child.output, self.output), daemon=True).start()
            self._receive(self.limits.startup_seconds)
        except (ServerError, ProtocolError) as exc:
            self.kill()
            self.gave_up = f"the runner could not start ({exc}); output:\n{self.output.text()[-1500:]}"
            raise StudentError(self.gave_up) from None
        finally:
            startup = time.monotonic() - started
            self.startup_seconds += startup
            self.deadline += startup  # (re)starting the runner is not the submission's time

    def kill(self) -> None:
        """End the runner and everything it started (control groups, process group, the sandbox's rest)."""
        self.cgroups.kill_all()
        if self.child is None:
            return
        if not self.child.exited():
            try:
                signal.pidfd_send_signal(self.child.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killpg_quietly(self.child.host_pid)
        self.server.sweep()  # also wakes a zygote the submission stopped, before asking it
        self.exit_code = self.server.exit_status(self.child)
        self.child.close_fds()
        self.child = None

    def close(self) -> None:
        self.kill()
        self.cgroups.close()

    def alive(self) -> bool:
        return self.child is not None and not self.child.exited()

    def _restart(self, reason: str) -> None:
        """Kill, then start afresh and replay the cells that ran before (poisoned ones skipped)."""
        self.kill()
        if self.gave_up:
            raise StudentError(self.gave_up)
        self.restarts += 1
        if self.restarts > self.limits.max_restarts:
            self.gave_up = f"grading stopped after {self.limits.max_restarts} restarts of your notebook ({reason})"
            raise StudentError(self.gave_up)
        self._start_and_replay()

    def _start_and_replay(self) -> None:
        self._spawn()
        for index in sorted(self.results):
            if index in self.poisoned or self.cells[index].skip:
                continue
            try:
                self._request({"op": "exec", "source": self.cells[index].source}, self.timing.cell_limit(self.cells[index].grade_id))
            except StudentError as exc:
                self.poisoned.add(index)
                self._restart(f"cell {index} failed on replay: {exc}")
                return

    def _ensure_running(self) -> None:
        if self.alive():
            return
        if self.started:
            self._restart("the runner had stopped")
        else:
            self.started = True
            self._start_and_replay()

    # --- messages ----------------------------------------------------------------------------
    def _remaining(self, limit: float) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.gave_up = f"your submission used up its total time of {self.limits.submission_seconds:.0f} s"
            self.kill()
            raise SubmissionTimeout(self.gave_up)
        return min(limit, left)

    def _receive(self, timeout: float):
        return read_frame(self.child.reply_fd, timeout=timeout)

    def _request(self, message: dict, limit: float) -> dict:
        """Send one request and wait for its reply; hangs and deaths become :class:`StudentError`."""
        timeout = self._remaining(limit)
        try:
            write_frame(self.child.request_fd, message)
            return self._receive(timeout)
        except ChannelTimeout:
            function = self._where_it_hangs()
            self.kill()
            if time.monotonic() >= self.deadline:
                self.gave_up = f"your submission used up its total time of {self.limits.submission_seconds:.0f} s"
                raise SubmissionTimeout(self.gave_up) from None
            where = f" in {function}()" if function else ""
            raise Hang(f"timed out after {timeout:.3g} s{where}", function) from None
        except (ChannelClosed, BrokenPipeError):
            self.kill()
            raise StudentError(f"the notebook's process died ({describe_exit(self.exit_code)})") from None
        except ProtocolError as exc:
            self.kill()
            raise StudentError(f"sent back something that is not plain data: {exc}") from None

    def _where_it_hangs(self, wait: float = 0.5) -> str | None:
        """Ask the stuck runner for its stack (faulthandler, SIGUSR1) and name the notebook function in it."""
        before = self.output.total
        try:
            signal.pidfd_send_signal(self.child.pidfd, signal.SIGUSR1)
        except (ProcessLookupError, OSError):
            return None
        deadline, seen = time.monotonic() + wait, before
        while time.monotonic() < deadline:
            time.sleep(0.02)
            if self.output.total == seen > before:
                break  # it wrote something and has stopped writing
            seen = self.output.total
        return hung_function(self.output.text())

    # --- public API --------------------------------------------------------------------------
    def run_notebook(self, progress: Callable[[int], None] | None = None) -> list[CellResult]:
        """Execute every cell once, in order; returns one :class:`CellResult` per cell."""
        for cell in self.cells:
            started, startup_before = time.monotonic(), self.startup_seconds
            self.results[cell.index] = self._run_cell(cell)
            startup = self.startup_seconds - startup_before  # a (re)start is not the cell's time
            self.results[cell.index].seconds = round(time.monotonic() - started - startup, 3)
            if progress:
                progress(cell.index)
        return [self.results[c.index] for c in self.cells]

    def _run_cell(self, cell: Cell) -> CellResult:
        if cell.skip:
            return CellResult(cell, "not run", "experiment or self-check cell: not run while grading")
        if self.gave_up:
            return CellResult(cell, "skipped", self.gave_up)
        try:
            self._ensure_running()
            reply = self._request({"op": "exec", "source": cell.source}, self.timing.cell_limit(cell.grade_id))
        except StudentError as exc:
            self.poisoned.add(cell.index)
            status = "timeout" if isinstance(exc, (Hang, SubmissionTimeout)) else "crashed"
            return CellResult(cell, status, str(exc))
        if reply.get("ok") is True:
            return CellResult(cell, "ok")
        return CellResult(cell, "error", str(reply.get("error"))[:4000])

    def call(self, target: dict, args: list, kwargs: dict, keep: bool = False):
        """Call into the runner; returns plain data or a handle dict, or raises :class:`StudentError`.

        The call may take :meth:`TimeLimits.call_limit` of the current hidden test; how long it took
        is recorded per test (the slowest call), which is how the reference's needs are measured.
        """
        self._ensure_running()
        started = time.monotonic()
        try:
            reply = self._request(
                {"op": "call", "target": target, "args": args, "kwargs": kwargs, "keep": keep},
                self.timing.call_limit(self.current_test),
            )
        finally:
            if self.current_test is not None:
                took = time.monotonic() - started
                self.call_seconds[self.current_test] = max(took, self.call_seconds.get(self.current_test, 0.0))
        if type(reply) is not dict or reply.get("ok") is not True:
            error = reply.get("error") if type(reply) is dict else "malformed reply"
            raise StudentError(str(error)[:4000])
        return reply.get("value")


def describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " — probably the memory limit" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit status {code}"
