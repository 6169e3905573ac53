"""Unpacking zip files from students and LMS downloads without trusting them.

A zip can name paths outside the folder it is unpacked into (``../../.bashrc``, ``/etc/x``), hold
symbolic links, or expand a few kilobytes into gigabytes (a zip bomb). :func:`safe_extract` refuses
every such member by name, and stops at a file count and at a number of bytes actually written
(the sizes a zip declares can lie). Everything it skipped is reported as notes.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

JUNK = ("__MACOSX", ".DS_Store", "Thumbs.db")  # what archivers add on their own
CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits:
    """How much a zip may unpack to: files, bytes in all, bytes per compressed byte."""

    max_files: int = 1000
    max_bytes: int = 200 * 1024 * 1024
    max_ratio: float = 200.0  # a notebook compresses ~5-10x; a bomb compresses ~1000x

    def __post_init__(self):
        if self.max_files < 1 or self.max_bytes < 1 or self.max_ratio < 1:
            raise ValueError(f"ZipLimits must be positive, got {self}; e.g. ZipLimits(max_files=1000, max_bytes=2**27)")


STUDENT_ZIP = ZipLimits()
DOWNLOAD_ZIP = ZipLimits(max_files=50_000, max_bytes=8 * 1024 ** 3)  # a whole class


@dataclass
class Extracted:
    """What :func:`safe_extract` wrote (relative paths) and what it refused, in words."""

    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The member's path inside the target folder, or None if it would leave it (or is junk)."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        return None
    if any(part in JUNK or part.startswith("._") for part in path.parts):
        return None
    return path


def is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def copy_limited(source, target: Path, budget: int) -> int:
    """Copy at most ``budget`` bytes; return how many were written, or -1 if there was more."""
    written = 0
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > budget:
                return -1
            out.write(chunk)
    return written


def safe_extract(archive: Path, folder: Path, limits: ZipLimits = STUDENT_ZIP) -> Extracted:
    """Unpack ``archive`` into ``folder``; refuse escaping paths and links; stop at ``limits``.

    Raises ``zipfile.BadZipFile`` for a file that is not a zip at all.
    """
    result = Extracted()
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > limits.max_files:
            result.notes.append(f"{archive.name} holds {len(members)} files, over the limit of {limits.max_files}; "
                                "nothing was unpacked")
            return result
        for info in members:
            relative = member_path(info)
            if relative is None:
                if not any(part in JUNK for part in PurePosixPath(info.filename).parts):
                    result.notes.append(f"refused {info.filename!r} from {archive.name}: its path leaves the folder")
                continue
            if is_link(info):
                result.notes.append(f"refused {info.filename!r} from {archive.name}: symbolic links are not unpacked")
                continue
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > CHUNK:
                result.notes.append(f"refused {info.filename!r} from {archive.name}: it expands {info.file_size / info.compress_size:.0f}x "
                                    "(a zip bomb?)")
                continue
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as source:
                size = copy_limited(source, target, limits.max_bytes - written)
            if size < 0:
                target.unlink()
                result.notes.append(f"{archive.name} unpacks to more than {limits.max_bytes >> 20} MiB; "
                                    f"stopped at {info.filename!r}, the rest was not unpacked")
                break
            written += size
            result.files.append(str(relative))
    return result


def unpack_student_zip(archive: Path, folder: Path, limits: ZipLimits = STUDENT_ZIP) -> list[str]:
    """Unpack a zip a student handed in into their (staged) ``folder``; return notes for the summary.

    Where the zip holds everything in one folder (``simclr/simclr.ipynb``), that folder's contents
    land beside the zip, as if the student had handed in the files themselves. Files already there
    are kept; the zip itself is removed from the staged copy.
    """
    scratch = folder / f".unzip-{archive.stem}"
    try:
        extracted = safe_extract(archive, scratch, limits)
    except (zipfile.BadZipFile, OSError) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        return [f"{archive.name} could not be unpacked ({exc}); graded without it"]
    root = content_root(scratch)
    kept, clashes = 0, []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        target = folder / path.relative_to(root)
        if target.exists():
            clashes.append(str(path.relative_to(root)))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        kept += 1
    shutil.rmtree(scratch, ignore_errors=True)
    archive.unlink()
    notes = [f"unpacked {archive.name} ({kept} files)"] + extracted.notes
    if clashes:
        notes.append(f"kept the loose copies of {', '.join(clashes[:5])} over those inside {archive.name}")
    return notes


def content_root(folder: Path) -> Path:
    """Descend through folders that hold nothing but one folder (``work/simclr/...``)."""
    while True:
        entries = list(folder.iterdir())
        if len(entries) != 1 or not entries[0].is_dir():
            return folder
        folder = entries[0]
