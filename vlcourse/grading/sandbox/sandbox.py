"""The OS sandbox around a runner: bubblewrap (``bwrap``) where it exists.

Inside, the runner sees an almost empty file system: the system libraries and the Python
installation read-only, a read-only view of the ``vlcourse`` package built from an allow-list
(source and data files; the withheld reference files empty; no bytecode caches), shown wherever a
copy of the package lies, and its own scratch folder as the only writable place. The hidden tests,
solutions, gradebook, output folder and other students' submissions are simply not there. It gets
no network, its own PID namespace (every process it starts dies with it) and its own IPC and
hostname namespaces, and runs as an unprivileged user id.

Where ``bwrap`` is missing or cannot create namespaces, grading falls back to process separation
with resource limits, and says so (``ForkServer.isolation``, the CSV's ``isolation`` column).
"""

from __future__ import annotations

import fnmatch
import functools
import shutil
import subprocess
import sys
from pathlib import Path

from vlcourse.paths import PACKAGE_DIR, repo_root

SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]
ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
             "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives", "/etc/fonts", "/etc/mime.types"]
NOBODY = 65534


@functools.cache
def bwrap_works() -> bool:
    """True when bubblewrap is installed and can build the sandbox on this machine."""
    if shutil.which("bwrap") is None:
        return False
    probe = sandbox_prefix(writable=[], readonly=[]) + ["/bin/true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


WEAKER_ISOLATION_NOTE = (
    "bubblewrap is not available: submissions run in separate processes with resource limits, but "
    "without a file-system and network sandbox (install the Debian package 'bubblewrap')"
)


def python_paths() -> list[str]:
    """Folders the runner's Python needs: the environment, its base installation and its site folders.

    Site folders added by ``.pth`` files (a venv layered on another) count too; plain folders on
    ``sys.path`` such as the current directory or a checkout do not: they could hold anything.
    """
    folders = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    folders |= {Path(p).resolve() for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()}
    outermost = {p for p in folders if not any(p != q and p.is_relative_to(q) for q in folders)}
    return sorted(str(p) for p in outermost)


def bind_if_exists(flag: str, paths: list[str]) -> list[str]:
    args = []
    for path in paths:
        if Path(path).exists():
            args += [flag, path, path]
    return args


# What the sandbox may see of the package: an allow-list of file kinds, never whole folders.
PACKAGE_FILE_PATTERNS = ("*.py", "*.json", "*.safetensors", "py.typed")


def visible_in_package(relative: Path) -> bool:
    """True for package files a runner may read: source and data, no caches or hidden files."""
    if any(part.startswith((".", "__pycache__")) for part in relative.parts[:-1]) or relative.name.startswith("."):
        return False
    return any(fnmatch.fnmatchcase(relative.name, pattern) for pattern in PACKAGE_FILE_PATTERNS)


def build_package_view(package: Path, withheld_files: list[Path], view: Path) -> Path:
    """Copy into ``view`` what a runner may see of ``package``; withheld source files become empty.

    The view is built from an allow-list (:data:`PACKAGE_FILE_PATTERNS`), so no other form of the
    withheld code — bytecode caches of any Python version, editor backups, stray build output —
    can reach the sandbox, whatever lies in the package folder. Symbolic links are not followed.
    """
    withheld = {Path(p).resolve() for p in withheld_files}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_symlink() or not path.is_file() or not visible_in_package(relative):
            continue
        target = view / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.resolve() in withheld:
            target.write_text("")
        else:
            shutil.copyfile(path, target)
    return view


def package_locations() -> list[Path]:
    """Every place the runner's Python could import ``vlcourse`` from or read it in.

    The package itself (a checkout with an editable install, or site-packages), and any other
    copy in a visible folder on ``sys.path`` (an older regular install beside an editable one).
    """
    visible = [Path(p) for p in python_paths()]
    entries = {Path(e).resolve() for e in sys.path if e}
    copies = {e / PACKAGE_DIR.name for e in entries if any(e.is_relative_to(v) for v in visible)}
    return sorted({PACKAGE_DIR} | {c for c in copies if c.is_dir()})


def hidden_roots(visible: list[str]) -> list[Path]:
    """Course folders (hidden tests, solutions, ``.git``, ``build/``) that lie inside a visible folder.

    They are covered with an empty folder; normally the checkout is outside every visible folder
    and this is empty.
    """
    root = repo_root()
    return [root] if any(root.is_relative_to(folder) for folder in visible) else []


def sandbox_prefix(writable: list[Path], readonly: list[Path], package_view: Path | None = None) -> list[str]:
    """The ``bwrap`` arguments (up to ``--``): ``writable`` folders are the only place it can write to.

    The system and Python folders and the ``readonly`` folders (the submitted files) are visible but
    unchangeable; ``package_view`` (see :func:`build_package_view`) is shown in place of every copy
    of the package, and the course checkout is covered where a visible folder contains it.
    """
    visible = [p for p in SYSTEM_PATHS + python_paths() if Path(p).exists()]
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
            "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--dir", "/var/tmp"]
    args += bind_if_exists("--ro-bind", SYSTEM_PATHS + ETC_FILES + python_paths())
    hidden = hidden_roots(visible)
    for root in hidden:
        args += ["--tmpfs", str(root)]
        args += bind_if_exists("--ro-bind", [p for p in python_paths() if Path(p).is_relative_to(root)])
    if package_view is not None:
        for location in package_locations():
            args += ["--ro-bind", str(package_view), str(location)]
    for root in hidden:
        args += ["--remount-ro", str(root)]
    for folder in readonly:
        args += ["--ro-bind", str(folder), str(folder)]
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    return args
