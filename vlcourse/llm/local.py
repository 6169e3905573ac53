"""The course's endpoint, started on demand in a subprocess listening on a private Unix socket.

A Unix socket in a fresh private folder (mode 0700) is reachable by this user only and takes no TCP
port, so two notebooks never collide. The subprocess dies with the process that started it.

Linux's parent-death signal (``PR_SET_PDEATHSIG``) fires when the *thread* that forked the child
ends, not the process. An endpoint first needed inside a short-lived thread (a batch helper's
worker, a Jupyter callback) would otherwise be killed as soon as that thread returned, so every
endpoint is forked by one long-lived spawner thread that ends only when the interpreter exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vlcourse.serve.run import READY_LINE

STARTUP_SECONDS = 120.0


class LocalEndpoint:
    """``python -m vlcourse.serve --uds <private folder>/llm.sock`` as a child process.

    Example::

        with LocalEndpoint() as endpoint:
            client = make_client(LLMConfig(socket=endpoint.socket))
    """

    def __init__(self, models: tuple[str, ...] = (), threads: int | None = None, replay: int = 0):
        self.folder = Path(tempfile.mkdtemp(prefix="vlcourse-llm-"))
        self.socket = str(self.folder / "llm.sock")
        command = [sys.executable, "-m", "vlcourse.serve", "--uds", self.socket]
        for model in models:
            command += ["--model", model]
        if threads:
            command += ["--threads", str(threads)]
        if replay:  # answers of reproducible requests kept and replayed (vlcourse.serve.replay)
            command += ["--replay", str(replay)]
        self.output: list[str] = []
        self.proc = _SPAWNER.submit(subprocess.Popen, command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent).result()
        self._ready = threading.Event()
        threading.Thread(target=self._read_output, daemon=True).start()

    def _read_output(self) -> None:
        for line in self.proc.stdout:
            self.output.append(line)
            del self.output[:-50]
            if line.startswith(READY_LINE):
                self._ready.set()
        self._ready.set()  # the process ended: wait() reports it

    def wait(self, timeout: float = STARTUP_SECONDS) -> LocalEndpoint:
        """Block until the endpoint listens; raises ``RuntimeError`` with its output if it does not start."""
        self._ready.wait(timeout)
        if self.proc.poll() is not None or not Path(self.socket).exists():
            self.close()
            raise RuntimeError("the local LLM endpoint did not start; its output:\n" + "".join(self.output[-20:]))
        return self

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalEndpoint:
        return self.wait()

    def __exit__(self, *exc) -> None:
        self.close()


# Forks every endpoint, so that its parent-death signal is tied to a thread that lives as long as
# the interpreter (see the module docstring).
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vlcourse-llm-spawner")


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    os.setpgrp()


_shared: LocalEndpoint | None = None
_lock = threading.Lock()


def shared_endpoint() -> LocalEndpoint:
    """This process's on-demand endpoint, started on first use and stopped at exit."""
    global _shared
    with _lock:
        if _shared is None or _shared.proc.poll() is not None:
            _shared = LocalEndpoint().wait()
            atexit.register(_shared.close)
        return _shared
