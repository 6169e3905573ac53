"""Resource limits for a submission's runner.

Defaults suit the small CPU exercises of this course; an assignment may override any of them in
its ``grader/NN_name/assignment.toml`` under ``[limits]``.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, fields

GiB = 1 << 30
MiB = 1 << 20


@dataclass
class Limits:
    """Per-submission limits.

    Attributes:
        call_seconds: wall time for one call from a hidden test into the notebook's code (the ceiling:
            calls get ``call_floor_seconds + reference_factor ×`` what the solution needs, see
            :mod:`vlcourse.grading.sandbox.timing`).
        cell_seconds: wall time for one notebook cell (the ceiling, scaled the same way for graded cells).
        call_floor_seconds: the least a call may take, however fast the solution's was.
        cell_floor_seconds: the least a graded cell may take.
        reference_factor: how many times the solution's time a call or graded cell may take.
        submission_seconds: wall time for the whole submission (cells, calls, restarts).
        startup_seconds: wall time for the warm parent of the runners to start (Python, torch, IPython).
        memory_bytes: address-space limit of the runner (torch alone maps about 3.3 GiB).
        file_bytes: largest file the runner may write.
        output_bytes: how much of the printed output is kept (head and tail each).
        cpu_seconds: CPU time of the runner process.
        threads: intra-op threads for torch/OpenMP inside the runner.
        max_restarts: restarts after hangs or crashes before grading of the rest stops.
        processes: processes and threads the runner may have at once (a cgroup's pids.max, or
            RLIMIT_NPROC for an unprivileged grader); stops fork bombs.
        total_memory_bytes: memory of the runner's whole process tree (a cgroup), where available.
    """

    call_seconds: float = 60.0
    cell_seconds: float = 180.0
    call_floor_seconds: float = 5.0
    cell_floor_seconds: float = 3.0
    reference_factor: float = 10.0
    submission_seconds: float = 900.0
    startup_seconds: float = 120.0
    memory_bytes: int = 6 * GiB
    file_bytes: int = 256 * MiB
    output_bytes: int = 64 * 1024
    cpu_seconds: int = 1800
    threads: int = 1
    max_restarts: int = 4
    processes: int = 256
    total_memory_bytes: int = 8 * GiB

    def __post_init__(self):
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"limit {f.name} must be positive, got {getattr(self, f.name)}")
        if self.memory_bytes < 4 * GiB:
            raise ValueError("memory_bytes below 4 GiB leaves no room for torch itself (it maps ~3.3 GiB); raise it")

    @classmethod
    def from_mapping(cls, values: dict) -> Limits:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown limits {sorted(unknown)}; known: {sorted(known)}")
        return cls(**values)


def apply_rlimits(limits: Limits) -> None:
    """Set the kernel's limits in a freshly forked runner, before it runs any student code."""
    import os

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    if os.getuid() != 0:  # not enforced for root; there a cgroup's pids.max does the job
        running = len([p for p in os.listdir("/proc") if p.isdigit()])
        resource.setrlimit(resource.RLIMIT_NPROC, (running + limits.processes,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
