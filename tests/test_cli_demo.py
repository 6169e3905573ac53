"""``vlcourse demo`` as a new user runs it: the score table, the summary and where the files are.

The demo runs for real, in a subprocess, on a copy of the toy course (building writes into the course).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

COURSE = Path(__file__).parent / "fixtures" / "course"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The toy course's demo: its output and the folder it wrote."""
    root = tmp_path_factory.mktemp("demo")
    course = shutil.copytree(COURSE, root / "course")
    done = subprocess.run([sys.executable, "-m", "vlcourse.cli", "--course", str(course), "demo", "00_toy", "--out", "out"],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, root / "out" / "00_toy"


def test_demo_prints_the_score_table_and_the_summary(demo):
    stdout, _ = demo
    assert "== grading the sample class of 00_toy" in stdout
    header = next(line for line in stdout.splitlines() if line.startswith("student"))
    assert header.split()[-2:] == ["total", "status"]
    assert "Score distribution (share of max):" in stdout
    assert "Malformed notebook: " in stdout  # the sample class has one


def test_demo_says_where_the_files_are_not_what_the_csv_holds(demo):
    stdout, folder = demo
    csv_lines = (folder / "grades.csv").read_text().splitlines()
    assert csv_lines[0].startswith("student,")
    assert csv_lines[0] not in stdout
    assert not any(line in stdout.splitlines() for line in csv_lines[1:])
    for path in ("out/00_toy/grades.csv", "out/00_toy/feedback/", "out/00_toy/report.html", "out/00_toy/results/"):
        assert path in stdout, path
        assert (folder.parent.parent / path).exists(), path
