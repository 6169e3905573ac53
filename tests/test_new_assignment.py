"""The README's "Writing a new assignment" guide, followed from scaffold to a graded class.

Everything goes through the real ``vlcourse`` command in a temporary course folder (``--course``):
scaffold, fill in (prose and the known mistakes ``verify`` asks for), build with nbgrader, verify,
then grade a Canvas download of three students and read the import file.
"""

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

NAME = "04_norms"

MORE_MISTAKES = {
    "squared_norm": "return x / (x ** 2).sum(dim=1, keepdim=True).clamp_min(1e-8)",
    "column_norms": "return x / x.norm(dim=0, keepdim=True).clamp_min(1e-8)",
    "l1_norm": "return x / x.abs().sum(dim=1, keepdim=True).clamp_min(1e-8)",
    "clamp_too_large": "return x / x.norm(dim=1, keepdim=True).clamp_min(1.0)",
    "max_norm": "return x / x.abs().max(dim=1, keepdim=True).values.clamp_min(1e-8)",
}


def vlcourse(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlcourse.cli", "--course", str(course), *args],
                          cwd=course.parent, capture_output=True, text=True, timeout=900)


def fill_in(course: Path) -> None:
    """What the author does between `new` and `verify`: the prose, and five more known mistakes."""
    notebook = course / "solutions" / NAME / "norms.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    intro = nb.cells[0]
    intro.source = intro.source.replace(intro.source.split("\n\n")[1], "Unit-length rows are how SimCLR and CLIP "
                                        "compare embeddings: here you write the normalisation they share.")
    nbformat.write(nb, notebook)
    for name, body in MORE_MISTAKES.items():
        (course / "grader" / NAME / "mistakes" / f"{name}.py").write_text(
            f"# cell: normalize_rows\n# why: {name.replace('_', ' ')}\ndef normalize_rows(x):\n    {body}\n")


def canvas_download(course: Path, path: Path) -> Path:
    """Three students as Canvas names their files: the solution, the blank, the scaffold's known mistake."""
    solution = nbformat.read(course / "solutions" / NAME / "norms.ipynb", as_version=4)
    mistake = nbformat.read(course / "solutions" / NAME / "norms.ipynb", as_version=4)
    cell = next(c for c in mistake.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "normalize_rows")
    cell.source = (course / "grader" / NAME / "mistakes" / "no_zero_guard.py").read_text()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("adalovelace_11_901_norms.ipynb", nbformat.writes(solution))
        zf.writestr("bobtables_12_902_norms.ipynb", (course / "exercises" / NAME / "norms.ipynb").read_text())
        zf.writestr("carlgauss_LATE_13_903_norms.ipynb", nbformat.writes(mistake))
    return path


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return tmp_path_factory.mktemp("guide") / "course"


def test_scaffold(course):
    course.mkdir()
    done = vlcourse(course, "new", NAME, "--title", "Row norms")
    assert done.returncode == 0, done.stderr
    grader = course / "grader" / NAME
    for path in (course / "solutions" / NAME / "norms.ipynb", grader / "assignment.toml", grader / "test_norms.py",
                 grader / "README.md", grader / "mistakes" / "no_zero_guard.py", grader / "samples" / "returns_input.py",
                 course / "grader" / "pytest.ini"):
        assert path.is_file(), path
    assert "| promised behaviour | hidden tests | known mistakes |" in (grader / "README.md").read_text()
    assert "def test_" in (grader / "test_norms.py").read_text() and "(student)" in (grader / "test_norms.py").read_text()
    assert "vlcourse verify 04_norms --write-signatures" in done.stdout


def test_scaffold_refuses_to_overwrite_and_bad_names(course):
    again = vlcourse(course, "new", NAME)
    assert again.returncode == 2 and "already exists" in again.stderr and len(again.stderr.splitlines()) == 1
    bad = vlcourse(course, "new", "Norms")
    assert bad.returncode == 2 and "NN_topic" in bad.stderr


def test_unfilled_scaffold_verifies_except_for_the_mistakes_only_an_author_can_write(course):
    assert vlcourse(course, "build", NAME).returncode == 0
    done = vlcourse(course, "verify", NAME, "--write-signatures")
    failed = [line for line in done.stdout.splitlines() if line.startswith("[FAIL]")]
    assert done.returncode == 1
    assert len(failed) == 1 and "at least 6 expected" in failed[0], done.stdout


def test_filled_assignment_builds_and_verifies(course):
    fill_in(course)
    built = vlcourse(course, "build", NAME)
    assert built.returncode == 0, built.stderr
    exercise = (course / "exercises" / NAME / "norms.ipynb").read_text()
    assert "NotImplementedError" in exercise and "clamp_min(1e-8)  # (N, D)" not in exercise
    assert "Unit-length rows" in exercise
    done = vlcourse(course, "verify", NAME, "--write-signatures")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[FAIL]" not in done.stdout and f"== {NAME}: 12/12 checks passed" in done.stdout


def test_filled_assignment_kills_every_mutant(course, tmp_path):
    """Step 5: the example suite catches every mutant of its cell, and the author gets the report."""
    done = vlcourse(course, "verify", NAME, "--mutants", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line.split() for line in done.stdout.splitlines() if line.startswith("normalize_rows "))
    mutants, killed, equivalent, survived = map(int, row[1:5])
    assert mutants >= 10 and killed == mutants and equivalent == survived == 0, done.stdout
    assert (tmp_path / f"{NAME}_mutants.html").is_file()


def test_graded_from_a_canvas_download(course, tmp_path):
    download = canvas_download(course, tmp_path / "canvas.zip")
    done = vlcourse(course, "grade", NAME, str(download), "--out", str(tmp_path / "out"), "--late-penalty", "0.5")
    assert done.returncode == 0, done.stderr
    assert "canvas_import.csv" in done.stdout
    with open(tmp_path / "out" / "canvas_import.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert {row[1]: row[-1] for row in rows[2:]} == {"11": "2", "12": "0", "13": "0.75"}  # 1.5 less half for late


def test_build_error_is_one_line_with_the_reason(course):
    notebook = course / "solutions" / NAME / "norms.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("Quote a marker: ### BEGIN SOLUTION, but never end it."))
    nbformat.write(nb, notebook)
    done = vlcourse(course, "build", NAME)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "no end solution statement found" in done.stderr and "fix the source notebook" in done.stderr
