"""The grader's handle on one submission's runner process (the trusted side of the boundary).

:class:`StudentRunner` starts ``vlcourse.grading.child`` in a scratch folder with resource limits,
feeds it the submission's cells one by one, and forwards calls from hidden tests. A cell or call
that hangs or kills the process is recorded, the process is restarted, the cells that ran before
are replayed and the poisoned cell is skipped, so one bad cell costs only what depends on it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vlcourse.grading.cgroups import ProcessGroupLimits
from vlcourse.grading.limits import Limits, apply_rlimits
from vlcourse.grading.protocol import ChannelClosed, ChannelTimeout, ProtocolError, read_frame, write_frame


class StudentError(Exception):
    """Something the submission did (raised, hung, crashed, returned junk). Safe to show the student."""


class SubmissionTimeout(StudentError):
    """The submission used up its total time budget."""


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


class OutputTail:
    """Keeps the first and last ``limit`` bytes of a stream, drops the middle, counts everything."""

    def __init__(self, limit: int):
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            room = self.limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[: max(0, len(self.tail) - self.limit)]

    def text(self) -> str:
        with self.lock:
            dropped = self.total - len(self.head) - len(self.tail)
            middle = f"\n[... {dropped} bytes of output dropped ...]\n" if dropped > 0 else ""
            return self.head.decode(errors="replace") + middle + self.tail.decode(errors="replace")


def drain(stream, sink: OutputTail) -> None:
    for chunk in iter(lambda: stream.read1(1 << 16), b""):
        sink.feed(chunk)


@dataclass
class RunnerSpec:
    """How to start a runner: where, with which limits, and what the environment says."""

    workdir: Path
    limits: Limits = field(default_factory=Limits)
    withheld: list[str] = field(default_factory=list)
    preload: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    wrap: Callable[[list[str]], list[str]] | None = None  # e.g. a sandbox command in front


def child_environment(spec: RunnerSpec) -> dict[str, str]:
    """A small, explicit environment: nothing of the grader's own leaks into the runner."""
    home = str(spec.workdir)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "IPYTHONDIR": str(spec.workdir / ".ipython"),
        "MPLCONFIGDIR": str(spec.workdir / ".matplotlib"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "MALLOC_ARENA_MAX": "2",
        "OMP_NUM_THREADS": str(spec.limits.threads),
        "MKL_NUM_THREADS": str(spec.limits.threads),
        "VLCOURSE_BUDGET": "grade",
        "VLCOURSE_SEED": "0",
        "VLCOURSE_CACHE": str(spec.workdir / ".cache"),
        "VLCOURSE_WITHHELD": ",".join(spec.withheld),
        "VLCOURSE_PRELOAD": ",".join(spec.preload),
        "TQDM_DISABLE": "1",
    }
    env.update(spec.env)
    return env


class StudentRunner:
    """One submission's runner process: run its cells, then call into it (see module docstring)."""

    def __init__(self, cells: list[Cell], spec: RunnerSpec):
        self.cells = cells
        self.spec = spec
        self.limits = spec.limits
        self.results: dict[int, CellResult] = {}
        self.poisoned: set[int] = set()
        self.output = OutputTail(self.limits.output_bytes)
        self.restarts = 0
        self.proc: subprocess.Popen | None = None
        self.deadline = time.monotonic() + self.limits.submission_seconds
        self._fds: tuple[int, int] | None = None
        self.gave_up: str | None = None
        self.started = False
        self.startup_seconds = 0.0
        self.cgroups = ProcessGroupLimits(self.limits.processes, self.limits.total_memory_bytes)

    # --- process life ------------------------------------------------------------------------
    def _spawn(self) -> None:
        if self.gave_up:
            raise StudentError(self.gave_up)
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        command = [sys.executable, "-m", "vlcourse.grading.child", str(req_r), str(rep_w)]
        if self.spec.wrap is not None:
            command = self.spec.wrap(command)
        self.spec.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            command,
            cwd=self.spec.workdir,
            env=child_environment(self.spec),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(req_r, rep_w),
            start_new_session=True,
            preexec_fn=self._prepare_child,
        )
        os.close(req_r)
        os.close(rep_w)
        self._fds = (req_w, rep_r)
        threading.Thread(target=drain, args=(self.proc.stdout, self.output), daemon=True).start()
        started = time.monotonic()
        try:
            self._receive(self.limits.startup_seconds)
            startup = time.monotonic() - started
            self.startup_seconds += startup
            self.deadline += startup  # interpreter and torch start-up is not the submission's time
        except ProtocolError as exc:
            self.kill()
            self.gave_up = f"the runner could not start ({exc}); output:\n{self.output.text()[-1500:]}"
            raise StudentError(self.gave_up) from None

    def _prepare_child(self) -> None:
        """Runs in the child between fork and exec: limits, then join the control groups."""
        apply_rlimits(self.limits)
        self.cgroups.join()

    def kill(self) -> None:
        """End the runner and everything it started (its process group and its control groups)."""
        self.cgroups.kill_all()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.proc = None
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None

    def close(self) -> None:
        self.kill()
        self.cgroups.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

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
                self._request({"op": "exec", "source": self.cells[index].source}, self.limits.cell_seconds)
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
        return read_frame(self._fds[1], timeout=timeout)

    def _request(self, message: dict, limit: float) -> dict:
        """Send one request and wait for its reply; hangs and deaths become :class:`StudentError`."""
        timeout = self._remaining(limit)
        try:
            write_frame(self._fds[0], message)
            return self._receive(timeout)
        except ChannelTimeout:
            self.kill()
            if time.monotonic() >= self.deadline:
                self.gave_up = f"your submission used up its total time of {self.limits.submission_seconds:.0f} s"
                raise SubmissionTimeout(self.gave_up) from None
            raise StudentError(f"timed out after {timeout:.0f} s") from None
        except (ChannelClosed, BrokenPipeError):
            code = self.proc.wait() if self.proc else None
            self.kill()
            raise StudentError(f"the notebook's process died ({describe_exit(code)})") from None
        except ProtocolError as exc:
            self.kill()
            raise StudentError(f"sent back something that is not plain data: {exc}") from None

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
            reply = self._request({"op": "exec", "source": cell.source}, self.limits.cell_seconds)
        except StudentError as exc:
            self.poisoned.add(cell.index)
            status = "timeout" if "timed out" in str(exc) or isinstance(exc, SubmissionTimeout) else "crashed"
            return CellResult(cell, status, str(exc))
        if reply.get("ok") is True:
            return CellResult(cell, "ok")
        return CellResult(cell, "error", str(reply.get("error"))[:4000])

    def call(self, target: dict, args: list, kwargs: dict, keep: bool = False):
        """Call into the runner; returns plain data or a handle dict, or raises :class:`StudentError`."""
        self._ensure_running()
        reply = self._request(
            {"op": "call", "target": target, "args": args, "kwargs": kwargs, "keep": keep},
            self.limits.call_seconds,
        )
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
