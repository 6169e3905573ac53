"""Mistakes a person makes at the command line, told in one sentence instead of a traceback.

A :class:`UserError` says what is wrong and how to fix it; ``vlcourse`` prints it as one line and
exits with status 2 (``--debug`` shows the traceback instead). The ``require_*`` helpers check a
command's inputs before any slow work starts, so a typo costs a second, not a grading run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

USER_ERROR_STATUS = 2


class UserError(Exception):
    """Something the user can fix; the message says what is wrong and what to do."""


def require_folder(path: Path, what: str) -> Path:
    """``path`` must be an existing folder (``what`` names it in the message)."""
    if not path.exists():
        raise UserError(f"{what} {path} does not exist; check the path (relative paths start from {Path.cwd()})")
    if not path.is_dir():
        raise UserError(f"{what} {path} is a file, not a folder; pass the folder that holds it")
    return path


def require_submissions(path: Path) -> Path:
    """A folder of submissions, or an LMS bulk download kept as a ``.zip`` file."""
    if path.is_file() and path.suffix.lower() == ".zip":
        return path
    if path.is_file():
        raise UserError(f"submissions {path} is a file; pass a folder of submissions or an LMS download (.zip)")
    return require_folder(path, "submissions folder")


def require_writable_folder(path: Path, what: str = "output folder") -> Path:
    """``path`` must be a folder we can create (if needed) and write into; made if missing."""
    if path.exists() and not path.is_dir():
        raise UserError(f"{what} {path} is a file; pass a folder name (it is created if missing)")
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise UserError(f"{what} {path} cannot be created: {existing} is a file; choose another --out")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".vlcourse-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{what} {path} is not writable ({exc.strerror or exc}); choose another --out "
                        "or fix its permissions") from None
    if not os.access(path, os.W_OK):
        raise UserError(f"{what} {path} is not writable; choose another --out or fix its permissions")
    return path


def require_assignment(name: str):
    """Load an assignment by name or grader folder, or say which names exist."""
    from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
    from vlcourse.paths import repo_root

    try:
        return load_assignment(name)
    except FileNotFoundError:
        known = ", ".join(list_assignments()) or "none"
        raise UserError(f"unknown assignment {name!r} in {repo_root()} (known: {known}); "
                        "check the spelling or pass --course DIR") from None
    except (KeyError, ValueError) as exc:
        raise UserError(f"assignment {name!r} has a broken assignment.toml ({exc}); fix grader/{name}/assignment.toml") from None


def require_gradebook(url: str) -> str:
    """The nbgrader gradebook database at ``url`` must open (checked before grading starts)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    hint = "use a database URL such as sqlite:///course/gradebook.db"
    try:
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UserError(f"--gradebook {url!r} is not a database URL ({str(exc).splitlines()[0]}); {hint}") from None
    except ImportError as exc:
        raise UserError(f"--gradebook {url!r} needs a database driver that is not installed ({exc}); {hint}") from None
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise UserError(f"--gradebook {url!r} does not open ({reason}); check that its folder exists and is writable, or {hint}") from None
    finally:
        engine.dispose()
    return url


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give e.g. 2") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small; give at least 1")
    return value


def require_suite(assignment, built: bool = False) -> None:
    """The assignment's source notebook is there (and, if ``built``, the student notebook) and its hidden tests collect."""
    if not assignment.solution_notebook.is_file():
        raise UserError(f"{assignment.solution_notebook} is missing; put the source notebook of {assignment.name} there "
                        f"(its name is `notebook` in grader/{assignment.name}/assignment.toml)")
    if built and not assignment.exercise_notebook.is_file():
        raise UserError(f"{assignment.exercise_notebook} is missing; run `vlcourse build {assignment.name}` first")
    from vlcourse.grading.suite.plugin import collect_graded_tests

    try:
        collect_graded_tests(assignment.grader_dir)
    except Exception:  # noqa: BLE001 - pytest reports usage and collection errors several ways
        raise UserError(f"the hidden tests in {assignment.grader_dir} do not collect (a syntax or import error, or a test "
                        f"without @pytest.mark.grade); run `python -m pytest --collect-only {assignment.grader_dir}` to see why") from None
