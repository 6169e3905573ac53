"""Where vlcourse keeps things on disk.

* ``repo_root()``: the checkout holding ``solutions/``, ``exercises/`` and ``grader/`` (courseware
  lives beside the package, not inside it).
* ``cache_dir()``: downloaded datasets and weights; ``VLCOURSE_CACHE`` overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The course checkout (``VLCOURSE_ROOT`` overrides the folder above the package)."""
    env = os.environ.get("VLCOURSE_ROOT")
    return Path(env).resolve() if env else PACKAGE_DIR.parent


def cache_dir() -> Path:
    """Folder for downloads (datasets, weights); created on demand."""
    env = os.environ.get("VLCOURSE_CACHE")
    path = Path(env) if env else Path.home() / ".cache" / "vlcourse"
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoints_dir() -> Path:
    """Reference checkpoints that ship with the package."""
    return PACKAGE_DIR / "weights"


def ensure_scripts_on_path() -> None:
    """Put this interpreter's scripts folder on PATH (nbgrader runs ``alembic`` as a command).

    ``.venv/bin/vlcourse`` works without activating the environment; the tools it starts should too.
    """
    import sys

    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
