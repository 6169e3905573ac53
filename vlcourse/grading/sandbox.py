"""The OS sandbox around a runner: bubblewrap (``bwrap``) where it exists.

Inside, the runner sees an almost empty file system: the system libraries and the Python
installation read-only, the ``vlcourse`` package read-only with the withheld reference files
replaced by empty files, and its own scratch folder as the only writable place. The hidden tests,
solutions, gradebook, output folder and other students' submissions are simply not there. It gets
no network, its own PID namespace (every process it starts dies with it) and its own IPC and
hostname namespaces, and runs as an unprivileged user id.

Where ``bwrap`` is missing or cannot create namespaces, grading falls back to process separation
with resource limits, and says so (``ForkServer.isolation``, the CSV's ``isolation`` column).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives", "/etc/fonts", "/etc/mime.types"]
NOBODY = 65534


@functools.cache
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can build the sandbox on this machine."""
    if shutil.which("bwrap") is None:
        return False
    probe = sandbox_prefix(writable=[], readonly=[], masked_files=[]) + ["/bin/true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


WEAKER_ISOLATION_NOTE = (
    "bubblewrap is not available: submissions run in separate processes with resource limits, but "
    "without a file-system and network sandbox (install the Debian package 'bubblewrap')"
)


def python_paths() -> list[str]:
    """Folders the runner's Python needs: the environment and its base installation."""
    return sorted({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})


def bind_if_exists(flag: str, paths: list[str]) -> list[str]:
    args = []
    for path in paths:
        if Path(path).exists():
            args += [flag, path, path]
    return args


def sandbox_prefix(writable: list[Path], readonly: list[Path], masked_files: list[Path], empty_file: Path | None = None) -> list[str]:
    """The ``bwrap`` arguments (up to ``--``): ``writable`` folders are the only place it can write to.

    ``readonly`` folders (the package, the submitted files) are visible but unchangeable, and each of
    ``masked_files`` (withheld reference code) shows as ``empty_file`` instead.
    """
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--dir", "/var/tmp"]
    args += bind_if_exists("--ro-bind", SYSTEM_PATHS + ETC_FILES + python_paths())
    for folder in readonly:
        args += ["--ro-bind", str(folder), str(folder)]
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    if masked_files:
        if empty_file is None:
            raise ValueError("masking files needs an empty file to show in their place")
        empty_file.write_text("")
        for path in masked_files:
            args += ["--ro-bind", str(empty_file), str(path)]
    return args
