"""Warm runners: one sandbox per grading worker, whose zygote forks a fresh runner per submission.

Starting Python, torch and IPython takes seconds, far longer than grading a small notebook. A
:class:`ForkServer` starts :mod:`vlcourse.grading.sandbox.zygote` once, under bubblewrap where it works,
and :meth:`ForkServer.launch` then gets a new runner process in milliseconds. Every runner starts
from the same clean, trusted state (a fork of the zygote, which never runs student code), with its
own limits, control groups (moved in by the grader), process group and pipes.

The sandbox's only writable folder is ``work/``; ``submitted/`` (the files the tests read) is
visible read-only. Between submissions :meth:`ForkServer.reset` ends every process the last one
left in the sandbox and empties both folders, and the zygote empties the shared temporary folders.
If the zygote dies, the next launch starts a new sandbox.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vlcourse.grading.sandbox.limits import Limits
from vlcourse.grading.sandbox.output import OutputTail, drain
from vlcourse.grading.sandbox.procs import (descendants, host_pid, is_running, kill_quietly, namespace_pids, pid_namespace,
                                   processes_in_namespace)
from vlcourse.grading.sandbox.sandbox import build_package_view, bwrap_works, sandbox_prefix
from vlcourse.grading.sandbox.zygote import receive_message, send_message
from vlcourse.paths import PACKAGE_DIR

CONTROL_SECONDS = 30.0  # longest wait for the zygote to answer a fork or wait request


class ServerError(Exception):
    """The zygote did not start or stopped answering (a submission may have killed it)."""


@dataclass
class RunnerSpec:
    """What all runners of one assignment share.

    Attributes:
        limits: resource limits of each runner (see :class:`vlcourse.grading.sandbox.limits.Limits`).
        withheld: ``package.module.attr`` names replaced by stubs before any student code runs.
        preload: modules the zygote imports once (so no runner pays for them); ``module:function`` also
            calls ``function()`` there (a cached loader: see :func:`vlcourse.grading.sandbox.child.preload`).
        env: extra environment variables for the zygote and its runners.
        sandbox: use bubblewrap where it works (otherwise: process separation and limits only).
        masked_files: withheld reference source files, empty in the sandbox's view of the package.
        seed: seed of Python's, numpy's and torch's generators in each runner.
        llm: serve the course's LLM endpoint to the runners on a Unix socket bound into the sandbox
            (see :mod:`vlcourse.llm.grading`); the sandbox still has no network.
    """

    limits: Limits = field(default_factory=Limits)
    withheld: list[str] = field(default_factory=list)
    preload: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    sandbox: bool = False
    masked_files: list[Path] = field(default_factory=list)
    seed: int = 0
    llm: bool = False


def child_environment(spec: RunnerSpec, workdir: Path) -> dict[str, str]:
    """A small, explicit environment: nothing of the grader's own leaks into the runners."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "IPYTHONDIR": str(workdir / ".ipython"),
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "MALLOC_ARENA_MAX": "2",
        "OMP_NUM_THREADS": str(spec.limits.threads),
        "MKL_NUM_THREADS": str(spec.limits.threads),
        "VLCOURSE_BUDGET": "grade",
        "VLCOURSE_CACHE": str(workdir / ".cache"),
        "VLCOURSE_WITHHELD": ",".join(spec.withheld),
        "VLCOURSE_PRELOAD": ",".join(spec.preload),
        "TQDM_DISABLE": "1",
    }
    env.update(spec.env)
    return env


@dataclass
class LaunchedRunner:
    """A runner the zygote forked: its pids and the grader's ends of its pipes."""

    host_pid: int
    inner_pid: int
    pidfd: int
    request_fd: int
    reply_fd: int
    output: object  # a binary file object over the output pipe

    def exited(self) -> bool:
        return bool(select.select([self.pidfd], [], [], 0)[0])

    def close_fds(self) -> None:
        for fd in (self.pidfd, self.request_fd, self.reply_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.output.close()


def empty_folder(folder: Path) -> None:
    """Delete everything inside ``folder`` (also read-only leftovers) but keep the folder itself.

    The folder must stay: the sandbox has it bind-mounted, and a new folder would not be seen.
    """
    def make_writable_and_retry(function, path, _exc):
        try:
            os.chmod(os.path.dirname(path), stat.S_IRWXU)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
            function(path)
        except OSError:
            pass

    os.chmod(folder, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=make_writable_and_retry)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                make_writable_and_retry(os.unlink, entry.path, None)


def set_parent_death_signal() -> None:
    import ctypes

    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the grader


class ForkServer:
    """One warm sandbox for one assignment, reused for submission after submission."""

    def __init__(self, spec: RunnerSpec, scratch: Path | None = None):
        self.spec = spec
        self.root = Path(tempfile.mkdtemp(prefix="vlcourse-runner-", dir=scratch))
        self.work_dir = self.root / "work"
        self.submitted_dir = self.root / "submitted"
        self.package_view = self.root / "package"  # what the sandbox sees of vlcourse (built on first start)
        self.work_dir.mkdir()
        self.submitted_dir.mkdir()
        self.sandboxed = spec.sandbox and bwrap_works()
        self.proc: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self.namespace: str | None = None  # the sandbox's PID namespace (None: no sandbox)
        self.zygote_pid: int | None = None  # host pid
        self.log = OutputTail(1 << 16)
        self.startup_seconds = 0.0  # all start-ups so far
        self.waited_seconds = 0.0  # how long callers were kept waiting for start-ups (they may overlap other work)
        self.started_at = 0.0
        self._stage: Callable[[], list[str]] | None = None  # puts the current submission in place
        self.starts = 0
        self.llm = None  # the LLM endpoint runners reach through a Unix socket (spec.llm)

    @property
    def isolation(self) -> str:
        return "sandbox" if self.sandboxed else "process"

    # --- the zygote ---------------------------------------------------------------------------------
    def _command(self, control_fd: int) -> list[str]:
        # -P: the folder the zygote starts in is not on its import path. The path to the venv's
        # python is kept as it is (resolving its symlink would leave the venv) but made absolute.
        command = [os.path.abspath(sys.executable), "-P", "-m", "vlcourse.grading.sandbox.zygote", str(control_fd)]
        if not self.sandboxed:
            return command
        if not self.package_view.is_dir():
            build_package_view(PACKAGE_DIR, self.spec.masked_files, self.package_view)
        readonly = [self.submitted_dir] + ([self.llm.folder] if self.llm else [])
        prefix = sandbox_prefix(writable=[self.work_dir], readonly=readonly, package_view=self.package_view)
        # --as-pid-1: the zygote is the sandbox's init, which the kernel shields from SIGKILL and
        # SIGSTOP (and from signals it has no handler for) sent from inside the sandbox.
        return prefix + ["--as-pid-1", "--chdir", str(self.work_dir), "--"] + command + ["sandboxed"]

    def begin(self) -> None:
        """Start the zygote without waiting for it (its start-up can overlap other work)."""
        self.stop()
        self.started_at = time.monotonic()
        env = child_environment(self.spec, self.work_dir)
        if self.spec.llm:
            from vlcourse.llm.grading import SandboxEndpoint

            self.llm = self.llm or SandboxEndpoint()
            self.llm.start()
            env.update(self.llm.environment())
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            self._command(theirs.fileno()), cwd=self.work_dir, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(theirs.fileno(),), start_new_session=True, preexec_fn=set_parent_death_signal,
        )
        theirs.close()
        self.control = ours
        threading.Thread(target=drain, args=(self.proc.stdout, self.log), daemon=True).start()

    def start(self) -> None:
        """Have a running zygote: begun earlier, or begun now; its time adds to ``startup_seconds``."""
        if self.alive():
            return
        entered = time.monotonic()
        pending = self.proc is not None and self.proc.poll() is None and self.zygote_pid is None
        if not pending:
            self.begin()
        try:
            ready, _ = receive_message(self.control, timeout=self.spec.limits.startup_seconds)
            self._locate_zygote(int(ready["pid"]))
        except (TimeoutError, EOFError, OSError, ValueError, KeyError, ServerError) as exc:
            self.stop()
            raise ServerError(f"the runner could not start ({exc}); output:\n{self.log.text()[-1500:]}") from None
        finally:
            self.waited_seconds += time.monotonic() - entered
        self.starts += 1
        self.startup_seconds += time.monotonic() - self.started_at

    def _locate_zygote(self, inner_pid: int) -> None:
        if not self.sandboxed:
            self.namespace, self.zygote_pid = None, self.proc.pid
            return
        ours = pid_namespace(os.getpid())
        for pid in descendants(self.proc.pid):
            pids = namespace_pids(pid)
            if len(pids) > 1 and pids[-1] == inner_pid and pid_namespace(pid) != ours:
                self.namespace, self.zygote_pid = pid_namespace(pid), pid
                return
        raise ServerError("the zygote's process was not found")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.zygote_pid is not None \
            and is_running(self.zygote_pid)

    def stop(self) -> None:
        """End the zygote, its sandbox and everything in it."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self._sweep(keep_zygote=False)
            self.proc.wait()
            self.proc = None
        if self.control is not None:
            self.control.close()
            self.control = None
        self.zygote_pid = None

    def close(self) -> None:
        self.stop()
        if self.llm is not None:
            self.llm.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- runners --------------------------------------------------------------------------------------
    def _ask(self, message: dict, fds: list[int] = ()) -> dict:
        try:
            send_message(self.control, message, fds)
            reply, extra = receive_message(self.control, timeout=CONTROL_SECONDS)
        except (TimeoutError, EOFError, OSError, ValueError) as exc:
            self.stop()  # a late reply would answer the next question: start afresh instead
            raise ServerError(f"the zygote stopped answering ({exc})") from None
        for fd in extra:
            os.close(fd)
        if "error" in reply:
            raise ServerError(f"the zygote refused: {reply['error']}")
        return reply

    def prepare(self, stage: Callable[[], list[str]]) -> list[str]:
        """Ready the sandbox for a new submission and return what ``stage`` says.

        Leftovers of the last submission are removed, the zygote is started if it is not running,
        and only then does ``stage`` put the new submission's files in place. The zygote therefore
        always starts with empty folders: nothing a student hands in (a ``torch.py``, a
        ``matplotlibrc``) can reach the process every later runner is forked from. Raises
        :class:`ServerError` if no zygote starts (a problem of the grading machine, not the student's).
        """
        self.reset()
        self.start()
        self._stage = stage
        return stage()

    def launch(self) -> LaunchedRunner:
        """A new runner, forked from the zygote.

        If the zygote is gone (runners cannot kill it inside the sandbox, but it can crash, and
        without the sandbox they can), the sandbox is rebuilt from scratch: every process ended,
        both folders emptied, a new zygote started, then the submission staged again (the runner
        replays its cells, which write their files anew).
        """
        for attempt in range(2):
            if not self.alive():
                self.reset()
                self.start()
                if self._stage is not None:
                    self._stage()
            try:
                return self._fork()
            except ServerError:
                if attempt:
                    raise
                self.stop()
        raise AssertionError("unreachable")

    def _fork(self) -> LaunchedRunner:
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        output_r, output_w = os.pipe()
        theirs = [request_r, reply_w, output_w]
        message = {"op": "fork", "workdir": str(self.work_dir), "limits": asdict(self.spec.limits), "seed": self.spec.seed}
        try:
            reply = self._ask(message, theirs)
        except ServerError:
            for fd in (request_w, reply_r, output_r):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        if type(reply.get("pid")) is not int:
            raise ServerError(f"unexpected reply to a fork request: {reply}")
        inner = reply["pid"]
        pid = host_pid(self.namespace, inner)
        if pid is None:
            raise ServerError("the forked runner vanished at once")
        return LaunchedRunner(pid, inner, os.pidfd_open(pid), request_w, reply_r, os.fdopen(output_r, "rb"))

    def exit_status(self, runner: LaunchedRunner, timeout: float = 2.0) -> int | None:
        """The runner's exit status (negative: killed by that signal), or ``None`` if not known."""
        if not self.alive():
            return None
        try:
            return self._ask({"op": "wait", "pid": runner.inner_pid, "timeout": timeout})["status"]
        except (ServerError, KeyError):
            return None

    def _sweep(self, keep_zygote: bool = True) -> None:
        """Kill every process in the sandbox but (if ``keep_zygote``) the zygote, its init."""
        if self.namespace is None:
            return
        for pid in processes_in_namespace(self.namespace):
            if not (keep_zygote and pid == self.zygote_pid):
                kill_quietly(pid)

    def sweep(self) -> None:
        """End whatever a submission left running in the sandbox; wake the zygote if it was stopped."""
        self._sweep()
        if self.zygote_pid is not None:
            kill_quietly(self.zygote_pid, signal.SIGCONT)

    def reset(self) -> None:
        """Ready for the next submission: no leftover processes, empty ``work/`` and ``submitted/``."""
        self.sweep()
        empty_folder(self.work_dir)
        empty_folder(self.submitted_dir)
