"""Grading a class end to end on a toy assignment: scores, CSV, feedback, malformed input, resume."""

import csv
import json
import os
from pathlib import Path

import nbformat
import pytest

from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.classroom import grade_class

COURSE = Path(__file__).parent / "fixtures" / "course"


@pytest.fixture(scope="module")
def toy():
    return load_assignment("00_toy", COURSE)


def solution(toy):
    return nbformat.read(toy.solution_notebook, as_version=4)


def graded_cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def write(folder: Path, nb, name="toy.ipynb"):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)


def build_class(root: Path, toy) -> Path:
    write(root / "correct", solution(toy))
    write(root / "blank", nbformat.read(toy.exercise_notebook, as_version=4))
    nb = solution(toy)
    graded_cell(nb, "scale").source = "print('printed by wrong_scale')\ndef scale(x, k):\n    return x + k"
    write(root / "wrong_scale", nb)
    nb = solution(toy)
    nb.cells.remove(graded_cell(nb, "scale"))
    write(root / "deleted_cell", nb)
    nb = solution(toy)
    graded_cell(nb, "scale").metadata["nbgrader"]["grade_id"] = "my_scale"
    write(root / "renamed_cell", nb)
    nb = solution(toy)
    add, scale = graded_cell(nb, "add"), graded_cell(nb, "scale")
    nb.cells.remove(scale)
    nb.cells.insert(nb.cells.index(add), scale)
    write(root / "reordered", nb)
    nb = solution(toy)
    copy = nbformat.from_dict(json.loads(json.dumps(graded_cell(nb, "add"))))
    copy.source = "def add(a, b):\n    return a - b"
    copy.id = "duplicate-of-add"
    nb.cells.append(copy)
    write(root / "duplicated_cell", nb)
    (root / "not_json").mkdir()
    (root / "not_json" / "toy.ipynb").write_text('{"cells": [ oops')
    (root / "nbformat3").mkdir()
    (root / "nbformat3" / "toy.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}))
    (root / "not_utf8").mkdir()
    (root / "not_utf8" / "toy.ipynb").write_bytes(b'{"cells": "\xff\xfe caf\xe9"}')
    (root / "huge").mkdir()
    with open(root / "huge" / "toy.ipynb", "wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # a 200 MB notebook (sparse, so the test stays cheap)
    (root / "empty_folder").mkdir()
    write(root / "two_notebooks", solution(toy), "first.ipynb")
    write(root / "two_notebooks", solution(toy), "second.ipynb")
    other = solution(toy)
    for cell in other.cells:
        cell.get("metadata", {}).get("nbgrader", {}).update(grade_id="something_else") if cell.get("metadata", {}).get("nbgrader") else None
    write(root / "wrong_assignment", other)
    write(root / "with_symlink", solution(toy))
    os.symlink("/etc/passwd", root / "with_symlink" / "passwd.txt")
    return root


@pytest.fixture(scope="module")
def graded(toy, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    submissions = build_class(root / "submissions", toy)
    result = grade_class(toy, submissions, root / "out", progress=False)
    return result, root


def by_student(result):
    return {r.student: r for r in result.results}


def test_scores(graded):
    results = by_student(graded[0])
    expect = {
        "correct": 4, "blank": 0, "wrong_scale": 2, "deleted_cell": 2, "renamed_cell": 2, "reordered": 4,
        "duplicated_cell": 2, "not_json": 0, "nbformat3": 0, "not_utf8": 0, "huge": 0, "empty_folder": 0,
        "two_notebooks": 0, "wrong_assignment": 0, "with_symlink": 4,
    }
    assert {name: results[name].total for name in expect} == expect
    assert all(r.max_total == 4 for r in results.values())


@pytest.mark.parametrize("student, status, words", [
    ("not_json", "malformed", "not valid notebook JSON"),
    ("nbformat3", "malformed", "nbformat 3"),
    ("not_utf8", "malformed", "not UTF-8"),
    ("huge", "malformed", "MB limit"),
    ("empty_folder", "malformed", "no notebook found"),
    ("two_notebooks", "malformed", "several notebooks"),
    ("wrong_assignment", "malformed", "right notebook"),
    ("deleted_cell", "ok", "missing (deleted or renamed): scale"),
    ("renamed_cell", "ok", "missing (deleted or renamed): scale"),
    ("reordered", "ok", "not in their original order"),
    ("duplicated_cell", "ok", "more than once"),
    ("with_symlink", "ok", "ignored symbolic link passwd.txt"),
])
def test_clear_messages(graded, student, status, words):
    result = by_student(graded[0])[student]
    assert result.status == status
    assert any(words in message for message in result.messages), result.messages


def test_csv_columns_and_rows(graded):
    result, root = graded
    with open(root / "out" / "grades.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "add", "scale", "total", "max_total", "isolation", "review"]
    table = {row[0]: row for row in rows[1:]}
    assert len(table) == 15
    assert table["wrong_scale"][:5] == ["wrong_scale", "2", "0", "2", "4"]
    assert table["wrong_scale"][5] in ("sandbox", "process")


def test_feedback_pages_give_hints_not_answers(graded):
    result, root = graded
    page = (root / "out" / "feedback" / "wrong_scale.html").read_text()
    assert "Multiply every entry by k." in page
    assert "2 / 2" in page and "0 / 2" in page
    assert "assert_close" not in page and "Mismatched elements" not in page  # no hidden test internals
    saved = json.loads((root / "out" / "results" / "wrong_scale.json").read_text())
    assert "printed by wrong_scale" in saved["output"]  # kept for TAs...
    assert "printed by wrong_scale" not in (root / "out" / "feedback" / "wrong_scale.html").read_text()  # ...only
    page = (root / "out" / "feedback" / "deleted_cell.html").read_text()
    assert "missing from your notebook" in page


def test_summary_lists_who_needs_attention(graded):
    summary = graded[0].summary()
    assert "Malformed notebook:" in summary
    for name in ("not_json", "huge", "empty_folder"):
        assert name in summary.split("Malformed notebook:")[1]
    assert "80-100%" in summary
    slowest = max((r for r in graded[0].results if r.status != "malformed"), key=lambda r: r.seconds)
    assert f"slowest {slowest.student} ({slowest.seconds:.1f} s)" in summary


def test_rerun_resumes_and_force_regrades(graded, toy):
    result, root = graded
    saved = root / "out" / "results" / "correct.json"
    raw = json.loads(saved.read_text())
    raw["messages"] = ["marker from the first run"]
    saved.write_text(json.dumps(raw))
    again = grade_class(toy, root / "submissions", root / "out", progress=False)
    assert by_student(again)["correct"].messages == ["marker from the first run"]  # not regraded
    assert {r.student: r.total for r in again.results} == {r.student: r.total for r in result.results}


def test_nbgrader_submitted_layout(toy, tmp_path):
    write(tmp_path / "course" / "submitted" / "ada" / "00_toy", solution(toy))
    result = grade_class(toy, tmp_path / "course", tmp_path / "out", progress=False)
    assert [(r.student, r.total) for r in result.results] == [("ada", 4)]


def test_same_submission_same_scores_ten_times(toy, tmp_path):
    """A cell whose answer depends on random numbers still scores the same every time (the runner is seeded)."""
    nb = solution(toy)
    graded_cell(nb, "add").source = "def add(a, b):\n    return a + b if torch.rand(()) < 0.5 else a - b"
    for i in range(10):
        write(tmp_path / "class" / f"copy{i}", nb)
    result = grade_class(toy, tmp_path / "class", tmp_path / "out", progress=False, workers=2)
    assert len({r.scores["add"] for r in result.results}) == 1
    assert len(result.results) == 10


def test_interrupted_run_resumes_without_loss(toy, tmp_path):
    """Ctrl-C in the middle of a class: finished grades are kept and the rerun grades only the rest."""
    import signal
    import subprocess
    import sys
    import time

    for i in range(6):
        nb = solution(toy)
        if i >= 2:  # warm runners grade a toy notebook in a blink: give the interrupt something to cut
            nb.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(4)"))
        write(tmp_path / "class" / f"s{i}", nb)
    command = [sys.executable, "-m", "vlcourse.cli", "grade", str(toy.grader_dir), str(tmp_path / "class"),
               "--out", str(tmp_path / "out"), "--workers", "1"]
    # As from a terminal: SIGINT at its default (a CI job started in the background ignores it).
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    results = tmp_path / "out" / "results"
    deadline = time.monotonic() + 300
    while len(list(results.glob("*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    kept = {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    assert 2 <= len(kept) < 6
    again = grade_class(toy, tmp_path / "class", tmp_path / "out", progress=False, workers=1)
    assert [r.total for r in again.results] == [4.0] * 6
    assert all(results.joinpath(name).stat().st_mtime_ns == mtime for name, mtime in kept.items())


def test_workers_follow_the_class_size_and_the_assignments_cost(tmp_path, monkeypatch):
    from vlcourse.grading.classroom import SUBMISSIONS_PER_WORKER, default_workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)))
    assert default_workers(5) == 1 and default_workers(2 * SUBMISSIONS_PER_WORKER) == 2
    assert default_workers(1000) == 4  # never more than one per core
    assert default_workers(47, per_worker=10) == 4 and default_workers(25, per_worker=10) == 2
    assert load_assignment("06_icl").submissions_per_worker == 10  # its submissions call the LLM endpoint
    assert load_assignment("01_simclr").submissions_per_worker is None
    folder = tmp_path / "99_bad"
    folder.mkdir()
    (folder / "assignment.toml").write_text('notebook = "x.ipynb"\nsubmissions_per_worker = 0\n')
    with pytest.raises(ValueError, match="submissions_per_worker must be a positive integer"):
        load_assignment(str(folder))
