"""The red-team suite: attack submissions, each of which must earn nothing it did not honestly write.

Every file in tests/redteam/ replaces the toy assignment's graded ``add`` cell with an attack (its
first line says what it tries). The whole class, one honest student included, is graded in one
run under the sandbox. Each attack must score 0 on ``add`` and keep the 2 points its honest
``scale`` cell earns; the run must complete; the honest student's result, the gradebook, the
package's files and the machine's processes must be untouched.
"""

import csv
import hashlib
import os
import socket
import threading
from pathlib import Path

import nbformat
import pytest

import vlcourse
from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.classroom import grade_class
from vlcourse.grading.sandbox.procs import running_with
from vlcourse.grading.sandbox.sandbox import bwrap_works

COURSE = Path(__file__).parent / "fixtures" / "course"
ATTACKS = sorted((Path(__file__).parent / "redteam").glob("*.py"))
PWNED = Path("/tmp/vlcourse-redteam-pwned")
SLEEPER = "vlcourse-redteam-sleeper"


def package_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(vlcourse.__file__).parent.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def loopback_listener(port: int):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    server.settimeout(0.5)
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                server.accept()[0].close()
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    return server, stop


def write_class(root: Path, toy) -> None:
    honest = nbformat.read(toy.solution_notebook, as_version=4)
    (root / "honest").mkdir(parents=True)
    nbformat.write(honest, root / "honest" / toy.notebook)
    for attack in ATTACKS:
        nb = nbformat.read(toy.solution_notebook, as_version=4)
        cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "add")
        cell.source = attack.read_text()
        folder = root / attack.stem
        folder.mkdir()
        nbformat.write(nb, folder / toy.notebook)
    os.symlink("/etc/hostname", root / "symlinked_secret" / "secret.txt")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    assert bwrap_works(), "the red-team suite needs bubblewrap (./setup.sh installs the Debian package)"
    toy = load_assignment("00_toy", COURSE)
    root = tmp_path_factory.mktemp("redteam")
    write_class(root / "submissions", toy)
    PWNED.unlink(missing_ok=True)
    before = package_digest()
    server, stop = loopback_listener(58123)
    try:
        result = grade_class(toy, root / "submissions", root / "out", progress=False, workers=2)
    finally:
        stop.set()
        server.close()
    return {"result": result, "root": root, "package_before": before}


def test_there_are_at_least_twenty_attacks():
    assert len(ATTACKS) >= 20


@pytest.mark.parametrize("attack", [a.stem for a in ATTACKS])
def test_attack_earns_nothing_it_did_not_write(graded, attack):
    result = {r.student: r for r in graded["result"].results}[attack]
    assert result.scores == {"add": 0.0, "scale": 2.0}, (result.status, result.messages, result.cell_errors)


def test_honest_student_is_unaffected(graded):
    result = {r.student: r for r in graded["result"].results}["honest"]
    assert result.total == 4.0 and result.status == "ok"


def test_gradebook_is_intact(graded):
    with open(graded["root"] / "out" / "grades.csv") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 1 + 1 + len(ATTACKS)
    assert not any(row[0] == "attacker" for row in rows)
    assert ["honest", "2", "2", "4", "4", "sandbox"] in [row[:6] for row in rows]


def test_nothing_ran_in_the_grader_and_nothing_outlived_the_runner(graded):
    assert not PWNED.exists(), "a payload executed on the grader's side"
    assert running_with(SLEEPER.encode()) == [], "a background process outlived its runner"


def test_package_files_unchanged(graded):
    assert package_digest() == graded["package_before"]
