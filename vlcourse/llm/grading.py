"""The endpoint as the grader serves it to sandboxed runners: a Unix socket bound into the sandbox.

The sandbox has no network at all (bubblewrap's ``--unshare-all`` gives it an empty network
namespace). For an assignment with ``llm = true`` in its ``assignment.toml``, the grading side
starts ``vlcourse serve`` on a Unix socket in a folder of its own, shows that folder read-only inside
the sandbox at the same path, and names the socket in ``VLCOURSE_LLM_SOCKET``; :mod:`vlcourse.llm`
then reaches it through an httpx transport on the socket. That socket speaks only our HTTP API: the
runner still reaches nothing else (no TCP, no DNS, no other socket).
"""

from __future__ import annotations

import os
from pathlib import Path

from vlcourse.llm.local import LocalEndpoint

SOCKET_VARIABLE = "VLCOURSE_LLM_SOCKET"
# The grader's endpoint keeps the answers of this many reproducible requests (temperature 0 or seeded; about
# a kilobyte each): a class sends the same requests once per submission, and only the first is computed
# (vlcourse.serve.replay).
REPLAY_ENTRIES = 20_000


class SandboxEndpoint:
    """One endpoint per fork server, started with it and stopped with it."""

    def __init__(self, threads: int = 1):
        self.threads = threads
        self.endpoint: LocalEndpoint | None = None

    def start(self) -> None:
        """Start (or restart, if it died) the endpoint; the sandbox user may enter its folder."""
        if self.endpoint is not None and self.endpoint.proc.poll() is None:
            return
        self.endpoint = LocalEndpoint(threads=self.threads, replay=REPLAY_ENTRIES).wait()
        os.chmod(self.endpoint.folder, 0o755)  # the sandbox runs as another user id

    @property
    def folder(self) -> Path:
        return self.endpoint.folder

    def environment(self) -> dict[str, str]:
        """What the runners' environment needs to reach the endpoint."""
        return {SOCKET_VARIABLE: self.endpoint.socket}

    def close(self) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None
