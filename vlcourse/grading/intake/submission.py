"""Reading a submission folder on the trusted side: find the notebook, parse it, stage the files.

Every problem becomes a :class:`MalformedSubmission` with a message meant for the student; the
grader turns it into zeros for what it breaks and carries on with the class.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from vlcourse.grading.sandbox.runner import Cell

SKIP_TAG = "skip-grading"  # cells (experiments, self-checks) the grader need not run
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_FOLDER_BYTES = 200 * 1024 * 1024


class MalformedSubmission(Exception):
    """The submission cannot be graded as it is; the message says why (shown to the student)."""


@dataclass
class ParsedNotebook:
    """The code cells of a submitted notebook and what we noticed about its graded cells."""

    path: Path
    cells: list[Cell]
    notes: list[str] = field(default_factory=list)

    def grade_ids(self) -> set[str]:
        return {c.grade_id for c in self.cells if c.grade_id}


def find_submissions(folder: Path, assignment: str) -> dict[str, Path]:
    """Map student name -> folder holding their files.

    Accepts ``folder/<student>/``, nbgrader's ``submitted/<student>/<assignment>/`` (``folder``
    being the course root, its ``submitted`` folder, or a folder of students) and nbgrader's
    exchange ``inbound/<student>+<assignment>+<timestamp>/`` (the latest submission per student).
    """
    if (folder / "submitted").is_dir():
        folder = folder / "submitted"
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder {folder} does not exist")
    if folder.name == "inbound" or (folder / "inbound").is_dir():
        return find_exchange_submissions(folder if folder.name == "inbound" else folder / "inbound", assignment)
    found = {}
    for student_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        nested = student_dir / assignment
        found[student_dir.name] = nested if nested.is_dir() else student_dir
    return found


def find_exchange_submissions(inbound: Path, assignment: str) -> dict[str, Path]:
    """nbgrader's exchange layout: ``<student>+<assignment>+<timestamp>[+<random>]`` folders."""
    latest: dict[str, tuple[str, Path]] = {}
    for entry in sorted(inbound.iterdir()):
        parts = entry.name.split("+")
        if len(parts) < 3 or parts[1] != assignment or not entry.is_dir():
            continue
        student, timestamp = parts[0], parts[2]
        if student not in latest or timestamp > latest[student][0]:
            latest[student] = (timestamp, entry)
    return {student: path for student, (_, path) in sorted(latest.items())}


def find_notebook(folder: Path, expected_name: str) -> Path:
    if not folder.is_dir():
        raise MalformedSubmission(f"{folder.name} is not a folder")
    if (folder / expected_name).is_file() and not (folder / expected_name).is_symlink():
        return folder / expected_name
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
    if not notebooks:
        raise MalformedSubmission(f"no notebook found (expected {expected_name})")
    if len(notebooks) > 1:
        names = ", ".join(p.name for p in notebooks)
        raise MalformedSubmission(f"found several notebooks ({names}) and none named {expected_name}; submit one")
    return notebooks[0]


def parse_notebook(path: Path, expected_ids: list[str]) -> ParsedNotebook:
    """Parse and validate a notebook; raise :class:`MalformedSubmission` with a clear reason."""
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise MalformedSubmission(
            f"{path.name} is {size / 1e6:.0f} MB, over the {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB limit; clear large outputs and resubmit"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedSubmission(f"{path.name} is not UTF-8 text (byte {exc.start}); re-save it from Jupyter") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedSubmission(f"{path.name} is not valid notebook JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(raw, dict) or raw.get("nbformat") != 4:
        found = raw.get("nbformat") if isinstance(raw, dict) else type(raw).__name__
        raise MalformedSubmission(f"{path.name} has nbformat {found!r}; only version 4 notebooks are graded")
    try:
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)  # joins multi-line sources
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several types
        raise MalformedSubmission(f"{path.name} is not a valid notebook: {str(exc).splitlines()[0][:300]}") from None
    return ParsedNotebook(path, *extract_cells(nb, expected_ids))


def extract_cells(nb, expected_ids: list[str]) -> tuple[list[Cell], list[str]]:
    """Code cells in order, plus notes on missing, duplicated or reordered graded cells.

    ``expected_ids`` are the graded cells in the order the released notebook has them.
    """
    cells, notes, seen = [], [], set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        grade_id = grade_id if isinstance(grade_id, str) else None
        if grade_id is not None and grade_id in seen:
            notes.append(f"graded cell {grade_id!r} appears more than once; the last copy wins")
        seen.add(grade_id)
        tags = cell.get("metadata", {}).get("tags", [])
        skip = grade_id is None and isinstance(tags, list) and SKIP_TAG in tags
        cells.append(Cell(index=len(cells), source=str(cell.source), grade_id=grade_id, skip=skip))
    present = seen & set(expected_ids)
    if expected_ids and not present:
        raise MalformedSubmission(
            "none of this assignment's graded cells were found — is this the right notebook? "
            f"(expected cells: {', '.join(sorted(expected_ids))})"
        )
    missing = [cell for cell in expected_ids if cell not in seen]
    if missing:
        notes.append(f"graded cells missing (deleted or renamed): {', '.join(missing)}")
    order = [c.grade_id for c in cells if c.grade_id in expected_ids]
    if order != sorted(order, key=expected_ids.index):
        notes.append("graded cells are not in their original order; they ran in the order you left them")
    return cells, notes


def walk_without_links(folder: Path) -> list[Path]:
    """Every entry below ``folder``, never descending through symbolic links."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        base = Path(dirpath)
        entries += [base / name for name in dirnames if (base / name).is_symlink()]
        entries += [base / name for name in filenames]
    return sorted(entries)


def stage_files(source: Path, work: Path, keep: list[str], pristine: Path) -> list[str]:
    """Copy the submission's regular files into the runner's folder; return notes on what was skipped.

    Symbolic links and special files are never followed. ``keep`` files are also copied, read-only,
    into ``pristine`` (tests read them from there, untouched by the notebook's own run).
    """
    notes, total = [], 0
    work.mkdir(parents=True, exist_ok=True)
    pristine.mkdir(parents=True, exist_ok=True)
    for path in walk_without_links(source):
        relative = path.relative_to(source)
        if path.is_symlink():
            notes.append(f"ignored symbolic link {relative}")
            continue
        if not path.is_file():
            continue
        total += path.stat().st_size
        if total > MAX_FOLDER_BYTES:
            notes.append(f"submission folder is over {MAX_FOLDER_BYTES >> 20} MiB; ignored {relative} and the rest")
            break
        target = work / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        if str(relative) in keep:
            shutil.copyfile(path, pristine / relative.name)
            (pristine / relative.name).chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return notes
