"""Every mistake a person makes at the command line gets one line and exit status 2, never a traceback.

Each case runs the real ``vlcourse`` command in a subprocess, as a TA or instructor would.
"""

import subprocess
import sys
from pathlib import Path

import pytest

COURSE = Path(__file__).parent / "fixtures" / "course"


def vlcourse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vlcourse.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def places(tmp_path):
    """A folder of one (empty) student, a plain file, and an output folder."""
    (tmp_path / "class" / "ada").mkdir(parents=True)
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "empty").mkdir()
    (tmp_path / "fake.zip").write_text("not a zip")
    return tmp_path


# (arguments, words the one line must hold: what is wrong, then how to fix it)
CASES = {
    "missing submissions folder": (["grade", "00_toy", "missing/", "--out", "out"], ["missing does not exist", "check the path"]),
    "submissions is a plain file": (["grade", "00_toy", "a_file", "--out", "out"], ["is a file", "pass a folder"]),
    "unknown assignment": (["grade", "99_nothing", "class", "--out", "out"], ["unknown assignment '99_nothing'", "00_toy"]),
    "output is a file": (["grade", "00_toy", "class", "--out", "a_file"], ["output folder", "is a file"]),
    "output below a file": (["grade", "00_toy", "class", "--out", "a_file/out"], ["cannot be created", "choose another --out"]),
    "workers zero": (["grade", "00_toy", "class", "--out", "out", "--workers", "0"], ["--workers", "at least 1"]),
    "workers not a number": (["grade", "00_toy", "class", "--out", "out", "--workers", "many"], ["--workers", "whole number"]),
    "gradebook not a URL": (["grade", "00_toy", "class", "--out", "out", "--gradebook", "grades.db"],
                            ["not a database URL", "sqlite:///"]),
    "gradebook that does not open": (["grade", "00_toy", "class", "--out", "out", "--gradebook", "sqlite:///no/such/dir/g.db"],
                                     ["does not open", "folder exists"]),
    "no submissions in the folder": (["grade", "00_toy", "empty", "--out", "out"], ["no submissions found", "Canvas or Moodle"]),
    "download that is not a zip": (["grade", "00_toy", "fake.zip", "--out", "out"], ["not a zip file", "as it came"]),
    "deadline not a time": (["grade", "00_toy", "class", "--out", "out", "--deadline", "friday"], ["--deadline", "2026-03-01"]),
    "late penalty over 1": (["grade", "00_toy", "class", "--out", "out", "--late-penalty", "2"], ["--late-penalty", "between 0 and 1"]),
    "missing option": (["grade", "00_toy", "class"], ["--out", "vlcourse grade --help"]),
    "unknown command": (["frobnicate"], ["invalid choice", "vlcourse --help"]),
    "build unknown assignment": (["build", "99_nothing"], ["no source notebook for 99_nothing", "vlcourse new"]),
    "verify unknown assignment": (["verify", "99_nothing"], ["unknown assignment '99_nothing'", "known: 00_toy"]),
    "demo unknown assignment": (["demo", "99_nothing", "--out", "demo"], ["unknown assignment", "check the spelling"]),
    "demo output is a file": (["demo", "00_toy", "--out", "a_file"], ["is a file", "folder name"]),
    "train unknown preset": (["train", "simclr", "--preset", "huge"], ["unknown preset 'huge'", "tiny"]),
    "train unknown topic": (["train", "resnet"], ["invalid choice", "simclr"]),
    "course folder missing": (["--course", "nowhere", "build"], ["course folder", "does not exist"]),
    "jupyter role unknown": (["jupyter-role", "teacher"], ["invalid choice: 'teacher'", "vlcourse jupyter-role --help"]),
    "jupyter role --unless-set alone": (["jupyter-role", "--unless-set"], ["--unless-set needs a role", "jupyter-role student"]),
    "jupyter role config under a file": (["jupyter-role", "student", "--config-dir", "a_file/jupyter"],
                                         ["cannot write Jupyter's settings", "--config-dir"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_user_error_is_one_line_and_status_2(case, places):
    args, words = CASES[case]
    course = [] if "--course" in args else ["--course", str(COURSE)]
    done = vlcourse(*course, *args, cwd=places)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for word in words:
        assert word in lines[0], lines[0]


def test_debug_shows_the_traceback(places):
    done = vlcourse("--course", str(COURSE), "grade", "99_nothing", "class", "--out", "out", "--debug", cwd=places)
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "UserError" in done.stderr


def test_nothing_is_written_when_an_input_is_wrong(places):
    """A wrong gradebook URL stops the run before any grading: no grades.csv appears."""
    done = vlcourse("--course", str(COURSE), "grade", "00_toy", "class", "--out", "out", "--gradebook", "nope", cwd=places)
    assert done.returncode == 2
    assert not (places / "out" / "grades.csv").exists()


@pytest.fixture
def broken_course(tmp_path):
    """A copy of the toy course with a hidden suite that does not parse, one without its source
    notebook, and the toy's student notebook not built."""
    import shutil

    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    shutil.copytree(course / "grader" / "00_toy", course / "grader" / "01_bad")
    shutil.copytree(course / "solutions" / "00_toy", course / "solutions" / "01_bad")
    (course / "grader" / "01_bad" / "test_toy.py").write_text("def test_broken(:\n")
    shutil.copytree(course / "grader" / "00_toy", course / "grader" / "02_nosource")
    shutil.rmtree(course / "exercises" / "00_toy")
    (tmp_path / "class" / "ada").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("args, words", [
    (["grade", "01_bad", "class", "--out", "out"], ["do not collect", "pytest --collect-only"]),
    (["grade", "02_nosource", "class", "--out", "out"], ["02_nosource/toy.ipynb is missing", "put the source notebook"]),
    (["verify", "00_toy"], ["exercises/00_toy/toy.ipynb is missing", "vlcourse build 00_toy"]),
])
def test_broken_assignment_is_one_line(broken_course, args, words):
    done = vlcourse("--course", str(broken_course / "course"), *args, cwd=broken_course)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
