"""Submissions as a TA receives them: Canvas and Moodle bulk downloads, zipped or unpacked.

nbgrader's ``zip_collect`` is the model: a regular expression with named groups turns each file
name into a student and a file, and among several copies of a file the newest counts. We go
further: the layout is recognised on its own, a student may hand in several files, Canvas's
resubmission copies (``simclr-1.ipynb``) are ranked, and zips inside a student's hand-in are
unpacked safely (:mod:`vlcourse.grading.intake.unzip`).

* **Canvas** names every file ``<name>[_LATE]_<user id>_<submission id>_<original file name>``
  in one flat folder (``doejane_LATE_1234_5678_simclr.ipynb``). The late marker is read in any case
  (``_late_``, ``_Late_``): downloads renamed by hand or by another tool still count as Canvas files.
* **Moodle** makes a folder per participant, ``<Full Name>_<participant id>_assignsubmission_file_``,
  or, with "download in folders" off, prefixes each file the same way.
* Anything else goes to :func:`vlcourse.grading.intake.submission.find_submissions` (a folder per
  student, nbgrader's ``submitted/`` and exchange layouts), with the exchange's hand-in times.

Every hand-in is staged (copied) under the output folder, so the download itself is never changed.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from vlcourse.grading.intake.due import parse_time
from vlcourse.grading.intake.submission import find_submissions
from vlcourse.grading.intake.unzip import DOWNLOAD_ZIP, JUNK, content_root, safe_extract, unpack_student_zip
from vlcourse.usererrors import UserError

# The name holds no underscore, so "late" inside a name (``slater``) is never taken for the marker.
CANVAS_NAME = re.compile(r"^(?P<name>[^_/]+?)(?P<late>_(?i:late))?_(?P<user_id>\d+)_(?P<submission_id>\d+)_(?P<file>.+)$")
MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
CANVAS_COPY = re.compile(r"^(?P<stem>.+?)-(?P<copy>\d+)(?P<ext>\.[^.]+)$")  # Canvas renames a resubmitted file


@dataclass
class HandIn:
    """One student's hand-in: where its files are staged and what the download says about it."""

    student: str  # the key in results/ and grades.csv
    folder: Path
    layout: str  # canvas | moodle | folders
    display_name: str = ""
    lms_id: str = ""  # Canvas user id, Moodle participant id
    handed_in: datetime | None = None
    late_marker: bool = False  # the LMS marks it late
    notes: list[str] = field(default_factory=list)  # shown in the feedback and the summary


@dataclass
class Intake:
    """A class of hand-ins, the layout it came in, and notes about the download as a whole."""

    layout: str
    hand_ins: dict[str, HandIn]
    notes: list[str] = field(default_factory=list)

    @property
    def folders(self) -> dict[str, Path]:
        return {student: hand_in.folder for student, hand_in in self.hand_ins.items()}

    def summary_lines(self) -> list[str]:
        """What the TA should know about how the submissions were read."""
        lines = [f"Submissions: {len(self.hand_ins)} read as a {LAYOUT_NAMES[self.layout]}"]
        lines += [f"  {note}" for note in self.notes]
        lines += [f"  {h.student}: {note}" for h in self.hand_ins.values() for note in h.notes]
        return lines


LAYOUT_NAMES = {"canvas": "Canvas bulk download", "moodle": "Moodle download", "folders": "folder per student"}


def visible_entries(folder: Path) -> list[Path]:
    """The entries of a download worth reading: no hidden files, archiver junk or symbolic links."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in JUNK and not p.is_symlink())


def detect_layout(folder: Path) -> str:
    """``canvas``, ``moodle`` or ``folders``: the layout most entries of ``folder`` follow."""
    entries = visible_entries(folder)
    if not entries:
        return "folders"
    moodle = sum(bool(MOODLE_NAME.match(p.name)) for p in entries)
    canvas = sum(bool(CANVAS_NAME.match(p.name)) and p.is_file() for p in entries)
    if moodle * 2 >= len(entries) and moodle:
        return "moodle"
    if canvas * 2 >= len(entries) and canvas:
        return "canvas"
    return "folders"


def unique_keys(names: dict[str, str]) -> dict[str, str]:
    """Map LMS id -> student key: the name, or ``name_<id>`` where two students share a name."""
    counts = Counter(names.values())
    return {lms_id: name if counts[name] == 1 else f"{name}_{lms_id}" for lms_id, name in names.items()}


def canvas_file_key(name: str) -> tuple[str, int]:
    """A file's name without Canvas's resubmission suffix, and the suffix (0 when none)."""
    match = CANVAS_COPY.match(name)
    return (match["stem"] + match["ext"], int(match["copy"])) if match else (name, 0)


def read_canvas(folder: Path, staging: Path) -> Intake:
    """Canvas: group files by user id; per original file name keep the latest hand-in.

    "Latest" is the highest submission id, then the highest resubmission suffix (``-2`` over ``-1``).
    """
    notes, names = [], {}
    candidates: dict[str, dict[str, list[tuple[tuple[int, int], Path, bool]]]] = defaultdict(lambda: defaultdict(list))
    for path in visible_entries(folder):
        match = CANVAS_NAME.match(path.name)
        if not match or not path.is_file():
            notes.append(f"ignored {path.name}: not a Canvas submission file")
            continue
        names[match["user_id"]] = match["name"]
        original, copy = canvas_file_key(match["file"])
        candidates[match["user_id"]][original].append(((int(match["submission_id"]), copy), path, bool(match["late"])))
    keys = unique_keys(names)
    hand_ins = {}
    for user, files in candidates.items():
        target = staging / keys[user]
        target.mkdir(parents=True, exist_ok=True)
        late = False
        for original, versions in files.items():
            _, path, marked = max(versions, key=lambda v: v[0])
            late |= marked
            shutil.copyfile(path, target / original)
            if len(versions) > 1:
                notes.append(f"{keys[user]}: {len(versions)} hand-ins of {original}; the latest ({path.name}) counts")
        hand_ins[keys[user]] = HandIn(keys[user], target, "canvas", names[user], user, late_marker=late)
    return Intake("canvas", dict(sorted(hand_ins.items())), notes)


def read_moodle(folder: Path, staging: Path) -> Intake:
    """Moodle: a folder (or file prefix) per participant; online-text entries are skipped."""
    notes, names, entries = [], {}, defaultdict(list)
    for path in visible_entries(folder):
        match = MOODLE_NAME.match(path.name)
        if not match:
            notes.append(f"ignored {path.name}: not a Moodle submission entry")
            continue
        if match["plugin"] != "file":
            notes.append(f"ignored {path.name}: only file submissions are graded (not {match['plugin']})")
            continue
        names[match["participant"]] = match["name"]
        entries[match["participant"]].append((path, match["file"]))
    keys = unique_keys(names)
    hand_ins = {}
    for participant, items in entries.items():
        target = staging / keys[participant]
        target.mkdir(parents=True, exist_ok=True)
        for path, original in items:
            if path.is_dir():
                shutil.copytree(path, target, dirs_exist_ok=True, symlinks=True)
            elif path.is_file():
                shutil.copyfile(path, target / original)
        hand_ins[keys[participant]] = HandIn(keys[participant], target, "moodle", names[participant], participant)
    return Intake("moodle", dict(sorted(hand_ins.items())), notes)


def exchange_time(folder: Path) -> datetime | None:
    """The hand-in time nbgrader recorded: the exchange folder name, or ``timestamp.txt``."""
    parts = folder.name.split("+")
    candidates = [parts[2]] if len(parts) >= 3 else []
    if (folder / "timestamp.txt").is_file():
        candidates.append((folder / "timestamp.txt").read_text(errors="replace").strip())
    for text in candidates:
        try:
            return parse_time(text)
        except (ValueError, OverflowError):
            continue
    return None


def read_folders(folder: Path, assignment: str) -> Intake:
    """A folder per student or nbgrader's layouts (see find_submissions), with exchange times."""
    found = find_submissions(folder, assignment)
    hand_ins = {student: HandIn(student, path, "folders", student, handed_in=exchange_time(path))
                for student, path in found.items()}
    return Intake("folders", hand_ins)


def unpack_download(archive: Path, staging: Path) -> Path:
    """A download kept as a zip: unpacked (safely) into ``staging``; returns the folder it holds."""
    try:
        extracted = safe_extract(archive, staging, DOWNLOAD_ZIP)
    except zipfile.BadZipFile:
        raise UserError(f"{archive} is not a zip file; pass the LMS download as it came, or its unpacked folder") from None
    if not extracted.files:
        raise UserError(f"{archive} holds no files to grade ({'; '.join(extracted.notes) or 'it is empty'})")
    return content_root(staging)


def stage_student_zips(intake: Intake, staging: Path) -> None:
    """Unpack every zip a student handed in; hand-ins read in place are copied to ``staging`` first."""
    for hand_in in intake.hand_ins.values():
        zips = sorted(p for p in hand_in.folder.glob("*.zip") if p.is_file() and not p.is_symlink())
        if not zips:
            continue
        if not hand_in.folder.is_relative_to(staging):
            copy = staging / "students" / hand_in.student
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(hand_in.folder, copy, symlinks=True)
            hand_in.folder = copy
            zips = [copy / z.name for z in zips]
        for archive in zips:
            hand_in.notes += unpack_student_zip(archive, hand_in.folder)


def read_submissions(source: Path, assignment: str, staging: Path) -> Intake:
    """Every hand-in under ``source`` (a folder, or a zipped LMS download), staged under ``staging``.

    ``staging`` is emptied first: it belongs to this run (the output folder's ``intake/``).
    """
    if source.resolve().is_relative_to(staging.resolve()):
        raise UserError(f"submissions {source} lie inside {staging}, which each run empties; move them out of --out")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    folder = unpack_download(source, staging / "download") if source.is_file() else source
    if not folder.is_dir():
        raise UserError(f"submissions folder {source} does not exist; check the path")
    layout = detect_layout(folder)
    if layout == "canvas":
        intake = read_canvas(folder, staging / "students")
    elif layout == "moodle":
        intake = read_moodle(folder, staging / "students")
    else:
        intake = read_folders(folder, assignment)
    if not intake.hand_ins:
        raise UserError(f"no submissions found in {source}: expected a folder per student, nbgrader's submitted/ or "
                        "exchange layout, or a Canvas or Moodle download (zipped or unpacked)")
    stage_student_zips(intake, staging)
    return intake
