"""Build student notebooks from source notebooks with nbgrader's ``generate_assignment``.

``solutions/NN_name/*.ipynb`` (nbgrader source format: solution regions between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, graded cells with ``grade_id`` and ``points``)
becomes ``exercises/NN_name/*.ipynb`` with the solutions replaced by ``raise NotImplementedError()``
and outputs cleared. The build runs in a throw-away nbgrader course folder, so no gradebook or
release folder is left behind; ``check_exercises`` reports exercises that are stale.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from vlcourse.paths import ensure_scripts_on_path, repo_root


class BuildError(RuntimeError):
    """nbgrader refused to build an assignment; the message carries its log."""


def generate_student_notebooks(name: str, source_dir: Path, out_dir: Path) -> list[Path]:
    """Run nbgrader's generate_assignment on ``source_dir`` and write the notebooks to ``out_dir``."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    ensure_scripts_on_path()
    with tempfile.TemporaryDirectory(prefix="vlcourse-build-") as course:
        course = Path(course)
        shutil.copytree(source_dir, course / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.safetensors"))
        config = Config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        result = api.generate_assignment(name, force=True, create=True)
        if not result.get("success"):
            raise BuildError(f"nbgrader could not build {name}: {failure_reason(result.get('log') or '')}\n"
                             f"{result.get('error') or result.get('log')}")
        out_dir.mkdir(parents=True, exist_ok=True)
        built = []
        for notebook in sorted((course / "release" / name).glob("*.ipynb")):
            target = out_dir / notebook.name
            target.write_text(normalise(notebook.read_text()))
            built.append(target)
        return built


def failure_reason(log: str) -> str:
    """The exception line of nbgrader's log (e.g. ``RuntimeError: no end solution statement found``)."""
    lines = [line.strip() for line in log.splitlines() if re.match(r"^\s*\w+(Error|Exception): ", line)]
    return lines[-1] if lines else "see its log"


def normalise(text: str) -> str:
    """Stable formatting so rebuilding an unchanged source gives byte-identical files."""
    return json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def source_assignments(root: Path | None = None) -> list[str]:
    root = root or repo_root()
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def build(names: list[str] | None = None, root: Path | None = None) -> list[Path]:
    """Build the named assignments (default: all) into ``exercises/``."""
    root = root or repo_root()
    built = []
    for name in names or source_assignments(root):
        built += generate_student_notebooks(name, root / "solutions" / name, root / "exercises" / name)
    return built


def check_exercises(names: list[str] | None = None, root: Path | None = None) -> list[str]:
    """Names of student notebooks in ``exercises/`` that differ from a fresh build (empty: up to date)."""
    root = root or repo_root()
    stale = []
    with tempfile.TemporaryDirectory(prefix="vlcourse-check-") as tmp:
        for name in names or source_assignments(root):
            for fresh in generate_student_notebooks(name, root / "solutions" / name, Path(tmp) / name):
                committed = root / "exercises" / name / fresh.name
                if not committed.exists() or committed.read_text() != fresh.read_text():
                    stale.append(f"exercises/{name}/{fresh.name}")
    return stale
