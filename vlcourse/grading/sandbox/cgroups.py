"""Limits on a runner's whole process tree with Linux control groups (v1 or v2), where writable.

Per-process limits (``setrlimit``) cannot stop a fork bomb run as root, nor many processes each
below the memory limit. A control group can: ``pids.max`` caps the number of processes and
threads, ``memory.max`` / ``memory.limit_in_bytes`` the memory of all of them together. The
grader moves each runner into its groups before it runs student code, so everything it starts is inside. Where no
controller is writable (an unprivileged user), :class:`ProcessGroupLimits` is empty and the
rlimits alone apply (``RLIMIT_NPROC`` does work for unprivileged users).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def own_cgroup(controller: str) -> Path | None:
    """This process's cgroup folder for ``controller`` (v1), or the unified one (v2)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            folder = CGROUP_ROOT / controller / path.lstrip("/")
            return folder if folder.is_dir() else CGROUP_ROOT / controller
    return None


def writable(folder: Path | None) -> bool:
    return folder is not None and folder.is_dir() and os.access(folder, os.W_OK)


class ProcessGroupLimits:
    """One runner's cgroups: create, join (in the child, before exec), kill everything, remove."""

    def __init__(self, max_processes: int, max_memory_bytes: int):
        self.folders: list[Path] = []
        name = f"vlcourse-{uuid.uuid4().hex[:12]}"
        settings = {"pids": {"pids.max": str(max_processes)},
                    "memory": {"memory.limit_in_bytes": str(max_memory_bytes)}}
        for controller, files in settings.items():
            parent = own_cgroup(controller)
            if not writable(parent):
                continue
            folder = parent / name
            try:
                folder.mkdir()
                for file, value in files.items():
                    (folder / file).write_text(value)
            except OSError:
                self._remove(folder)
                continue
            self.folders.append(folder)

    @property
    def active(self) -> bool:
        return bool(self.folders)

    def add(self, pid: int) -> None:
        """Move process ``pid`` into the groups (before it runs any student code)."""
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(pid))

    def kill_all(self, wait_seconds: float = 10.0) -> None:
        """SIGKILL every process in the groups (also ones that left the process group) until none is left.

        Waiting matters: a restarted runner joins the same groups, and a fork bomb's dying children
        would otherwise still count against ``pids.max`` and make the restart fail.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            pids = self._members()
            if not pids or time.monotonic() > deadline:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.02)

    def _members(self) -> list[int]:
        members = []
        for folder in self.folders:
            try:
                members += [int(p) for p in (folder / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                continue
        return members

    def close(self) -> None:
        self.kill_all()
        for folder in self.folders:
            self._remove(folder)
        self.folders = []

    @staticmethod
    def _remove(folder: Path) -> None:
        for _ in range(50):
            try:
                folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
