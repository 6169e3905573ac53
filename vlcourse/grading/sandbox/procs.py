"""Finding and ending processes from the grader's side, through ``/proc``.

A warm runner is forked inside the sandbox by the fork server, so the grader is not its parent
and the sandbox's PID namespace gives it another number inside. These helpers translate between
the two numbers (``NSpid`` in ``/proc/PID/status``) and list every process of a namespace, so the
grader can move a runner into its control groups and end everything a submission left behind.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def namespace_pids(pid: int) -> list[int]:
    """``[host pid, ..., innermost pid]`` of a process (one entry outside any PID namespace)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return [int(p) for p in line.split()[1:]]
    except (OSError, ValueError):
        pass
    return []


def pid_namespace(pid: int) -> str | None:
    """An identifier of the PID namespace ``pid`` lives in, or ``None`` if it is gone."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def processes_in_namespace(namespace: str) -> dict[int, int]:
    """``{host pid: innermost pid}`` of every process in a PID namespace."""
    found = {}
    for pid in all_pids():
        if pid_namespace(pid) == namespace:
            inner = namespace_pids(pid)
            if inner:
                found[pid] = inner[-1]
    return found


def host_pid(namespace: str | None, inner_pid: int) -> int | None:
    """The host pid of the process numbered ``inner_pid`` inside ``namespace`` (``None``: no namespace)."""
    if namespace is None:
        return inner_pid
    for pid, inner in processes_in_namespace(namespace).items():
        if inner == inner_pid:
            return pid
    return None


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (dead, waiting for its parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # the state follows the command name in brackets


def running_with(marker: bytes) -> list[int]:
    """Host pids of live (not zombie) processes whose command line contains ``marker``."""
    found = []
    for pid in all_pids():
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes() and is_running(pid):
                found.append(pid)
        except OSError:
            pass
    return found


def parent_pids() -> dict[int, int]:
    """``{pid: parent pid}`` of every process."""
    parents = {}
    for pid in all_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        parents[pid] = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), 0)
    return parents


def descendants(root: int) -> list[int]:
    """Children, grandchildren... of ``root`` (host pids)."""
    parents = parent_pids()
    found, frontier = [], {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier}
        found += sorted(children)
        frontier = children
    return found


def kill_quietly(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def killpg_quietly(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
