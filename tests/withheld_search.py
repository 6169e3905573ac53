"""Search a sandboxed runner's whole readable file system for any form of the withheld code.

Used by ``tests/test_withheld_unreachable.py`` in two install modes: in-process for the editable
install the test suite runs from, and as a script (``python tests/withheld_search.py``, printing
JSON) with the interpreter of a virtual environment that has a regular install of vlcourse.

Fingerprints are computed here, on the trusted side, from the reference implementation:

* the withheld files' source: their lines (no line that also stands in a visible package file);
* their bytecode: every code object's ``co_code`` and long string constants at each optimisation
  level, as a bytecode cache holds them;
* the solution notebooks' graded cells and the hidden tests' lines (the checkout, its ``.git`` and
  ``build/`` hold these).

A runner then greps every readable file (``/proc``, ``/sys`` and ``/dev`` aside) for all of them
at once and also lists ``.git`` folders and packed copies of the package (wheels, sdists), which a
grep cannot see into. A positive control is staged first: copies of the withheld files and their
bytecode handed in as submitted files, which the search must find.
"""

from __future__ import annotations

import hashlib
import json
import py_compile
import sys
import tempfile
import types
from pathlib import Path

import nbformat

from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.sandbox.forkserver import ForkServer, RunnerSpec
from vlcourse.grading.sandbox.limits import Limits
from vlcourse.grading.sandbox.runner import Cell, StudentRunner
from vlcourse.grading.sandbox.sandbox import visible_in_package
from vlcourse.grading.suite.student import Student
from vlcourse.grading.intake.submission import stage_files
from vlcourse.paths import PACKAGE_DIR, repo_root

ASSIGNMENTS = ("01_simclr", "02_gpt")
MIN_LINE = 30  # characters: shorter lines ("return x", "B, T, C = x.shape") are not distinctive
MIN_BYTES = 32  # bytecode and string constants shorter than this could occur by chance
PER_SOURCE = 6  # fingerprints kept per source file and kind (the longest)
MIN_HITS = 2  # distinct fingerprints a file must match to count as a copy
PATTERNS_FILE = "withheld-fingerprints.bin"

# The student code that runs inside the sandbox: grep for every fingerprint in every readable file.
SEARCH_CELL = f'''
import os, subprocess

def readable_files():
    """path -> identity (device, inode, size, modified and changed times) of every regular file."""
    roots = sorted(os.path.join("/", e) for e in os.listdir("/") if e not in ("proc", "sys", "dev"))
    listing = subprocess.run(["find", *roots, "-type", "f", "!", "-name", "{PATTERNS_FILE}", "-printf", "%D:%i:%s:%T@:%C@ %p\\\\0"],
                             capture_output=True).stdout.decode(errors="surrogateescape")
    return {{path: identity for identity, _, path in (entry.partition(" ") for entry in listing.split("\\0")) if path}}

def search_readable_files(patterns_hex, known_clean=""):
    patterns = "/tmp/{PATTERNS_FILE}"
    with open(patterns, "wb") as handle:
        handle.write(b"\\n".join(bytes.fromhex(h) for h in patterns_hex))
    identities = readable_files()
    skip = set(known_clean.split("\\n")) if known_clean else set()
    todo = [path for path, identity in identities.items() if identity not in skip]
    grep = ["xargs", "-0", "-P", str(len(os.sched_getaffinity(0))), "-n", "500", "grep", "-a", "-F", "-l", "-Z", "-s", "-f", patterns]
    listed = subprocess.run(grep, input="\\0".join(todo).encode(errors="surrogateescape"), capture_output=True,
                            env={{"LC_ALL": "C", "PATH": os.environ["PATH"]}}).stdout.decode(errors="surrogateescape")
    listed = [path for path in listed.split("\\0") if path]
    hit = set(listed)
    found = {{}}
    for path in listed:
        hits = subprocess.run(["grep", "-a", "-F", "-o", "-f", patterns, path], capture_output=True).stdout
        found[path.encode(errors="surrogateescape").decode(errors="replace")] = sorted({{h.hex() for h in hits.split(b"\\n") if h}})
    clean = "\\n".join(identities[path] for path in todo if path not in hit)
    return {{"found": found, "clean": clean, "files": len(identities), "searched": len(todo)}}

def suspicious_names():
    names = []
    for root in sorted(os.path.join("/", e) for e in os.listdir("/") if e not in ("proc", "sys", "dev")):
        for folder, dirs, files in os.walk(root):
            names += [os.path.join(folder, d) for d in dirs if d == ".git"]
            names += [os.path.join(folder, f) for f in files
                      if "vlcourse" in f and f.endswith((".whl", ".tar.gz", ".zip", ".egg"))]
    return names
'''


def code_objects(module: types.CodeType) -> list[types.CodeType]:
    """A compiled module's code object and every code object nested in it (functions, classes, methods)."""
    codes, stack = [], [module]
    while stack:
        code = stack.pop()
        codes.append(code)
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return codes


def usable(pattern: bytes) -> bytes | None:
    """A pattern grep -F -f can take (no newline inside): its longest newline-free piece, if long enough."""
    piece = max(pattern.split(b"\n"), key=len)
    return piece if len(piece) >= MIN_BYTES else None


def visible_text() -> bytes:
    """Everything a runner may legitimately read of the package (the allow-listed files, withheld ones empty)."""
    withheld = set(withheld_files())
    files = [p for p in PACKAGE_DIR.rglob("*") if p.is_file() and visible_in_package(p.relative_to(PACKAGE_DIR))]
    return b"\n".join(p.read_bytes() for p in files if p.resolve() not in withheld)


def longest(candidates: set[bytes], label: str, allowed: bytes, keep: int = PER_SOURCE) -> dict[bytes, str]:
    """The ``keep`` longest candidates that the visible material does not contain, labelled.

    A few long fingerprints per source suffice (a copy matches all of them) and keep the grep fast:
    its speed falls with the number of patterns and rises with their length.
    """
    fresh = sorted((c for c in candidates if c not in allowed), key=lambda c: (-len(c), c))
    return {c: label for c in fresh[:keep]}


def line_patterns(text: str, label: str, allowed: bytes) -> dict[bytes, str]:
    lines = {line.strip().encode() for line in text.splitlines()}
    return longest({line for line in lines if len(line) >= MIN_LINE}, label, allowed)


def withheld_fingerprints(allowed: bytes) -> dict[bytes, str]:
    """pattern -> what it identifies, for every withheld file of every assignment.

    Withheld files hold nothing but the withheld code, so the whole file is fingerprinted: its
    source lines, and the bytecode and string constants of the code objects it compiles to at
    each optimisation level (``-O`` drops asserts and ``-OO`` docstrings, which shifts the bytecode).
    """
    patterns: dict[bytes, str] = {}
    for source in withheld_files():
        name = source.relative_to(PACKAGE_DIR.parent)
        text = source.read_text()
        patterns |= line_patterns(text, f"{name}: source", allowed)
        for optimize in (0, 1, 2):
            codes = code_objects(compile(text, str(source), "exec", dont_inherit=True, optimize=optimize))
            pieces = {code.co_code for code in codes} | {c.encode() for code in codes for c in code.co_consts if isinstance(c, str)}
            patterns |= longest(set(filter(None, map(usable, pieces))), f"{name}: bytecode (-O{optimize})", allowed)
    return patterns


def withheld_files() -> list[Path]:
    return sorted({p for name in ASSIGNMENTS for p in load_assignment(name).withheld_files()})


def course_fingerprints(allowed: bytes) -> dict[bytes, str]:
    """Lines of the solution cells and hidden tests that the released material does not contain."""
    patterns: dict[bytes, str] = {}
    for name in ASSIGNMENTS:
        assignment = load_assignment(name)
        released = allowed + b"\n" + assignment.exercise_notebook.read_bytes()
        solution = nbformat.read(assignment.solution_notebook, as_version=4)
        cells = "\n".join(c.source for c in solution.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
        patterns |= line_patterns(cells, f"{name}: solution notebook", released)
        for test_file in sorted(assignment.grader_dir.glob("test_*.py")):
            patterns |= line_patterns(test_file.read_text(), f"{name}: hidden tests", released)
    return patterns


def positive_control(folder: Path) -> list[str]:
    """Copies of the withheld source files and their bytecode, to hand in as submitted files."""
    names = []
    for index, source in enumerate(withheld_files()):
        stem = f"control_{index}_{source.stem}"
        (folder / f"{stem}.py").write_bytes(source.read_bytes())
        py_compile.compile(str(source), cfile=str(folder / f"{stem}.pyc"), doraise=True, optimize=2)
        names += [f"{stem}.py", f"{stem}.pyc"]
    return names


def patterns_digest(patterns: dict[bytes, str]) -> str:
    return hashlib.sha256(b"\n".join(sorted(patterns))).hexdigest()


def search_sandbox(known_clean: dict | None = None) -> dict:
    """Run the search in a sandboxed runner; returns hits, suspicious names and the control's hits.

    ``known_clean`` is the ``clean`` entry of an earlier search's report: the identities (device,
    inode, size, modified and changed times) of the files it grepped without a hit, and the digest of
    its fingerprints. With the same fingerprints, a file of the same identity is the same unchanged
    file (any write or ``chmod`` moves its changed time, which no user can set), so it is not grepped
    again: the second search of the suite (a regular install) greps what differs from the first.
    """
    allowed = visible_text()
    patterns = withheld_fingerprints(allowed) | course_fingerprints(allowed)
    digest = patterns_digest(patterns)
    skip = known_clean["identities"] if known_clean and known_clean["patterns"] == digest else ""
    masked = withheld_files()
    limits = Limits(call_seconds=1200, cell_seconds=60, submission_seconds=2400, cpu_seconds=2400)
    spec = RunnerSpec(limits=limits, sandbox=True, masked_files=masked)
    with tempfile.TemporaryDirectory() as tmp, ForkServer(spec) as server:
        if not server.sandboxed:
            return {"sandboxed": False}
        control = positive_control(Path(tmp))
        server.prepare(lambda: stage_files(Path(tmp), server.work_dir, control, server.submitted_dir))
        runner = StudentRunner([Cell(0, SEARCH_CELL)], server)
        try:
            assert runner.run_notebook()[0].status == "ok", runner.results[0].error
            student = Student(runner)
            searched = student.search_readable_files(sorted(p.hex() for p in patterns), skip)
            found = searched["found"]
            names = student.suspicious_names()
        finally:
            runner.close()
    labelled = {path: sorted({patterns[bytes.fromhex(h)] for h in hits}) for path, hits in found.items()}
    # One matching line in a third-party file is a coincidence ("p = self.dropout if self.training else 0.0");
    # any real copy, source or bytecode, matches many fingerprints at once.
    coincidences = {p: v for p, v in labelled.items() if len(found[p]) < MIN_HITS}
    labelled = {p: v for p, v in labelled.items() if p not in coincidences}
    staged = (str(server.submitted_dir) + "/", str(server.work_dir) + "/")  # where the control was handed in
    return {
        "sandboxed": True,
        "patterns": len(patterns),
        "package": str(PACKAGE_DIR),
        "leaks": {p: v for p, v in labelled.items() if not p.startswith(staged)},
        "control": {Path(p).name: v for p, v in labelled.items() if p.startswith(staged[0])},
        "control_files": control,
        "suspicious_names": names,
        "coincidences": coincidences,
        "repo_root": str(repo_root()),
        "files": searched["files"],
        "searched": searched["searched"],
        "clean": {"patterns": digest, "identities": searched["clean"]},
    }


if __name__ == "__main__":
    # python withheld_search.py [KNOWN_CLEAN.json]: the report as JSON (without the clean identities)
    earlier = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else None
    json.dump({k: v for k, v in search_sandbox(earlier).items() if k != "clean"}, sys.stdout)
