"""Export to nbgrader's gradebook (formgrader, `nbgrader export`) and import from its exchange layout."""

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.classroom import grade_class
from vlcourse.grading.results.gradebook import export_to_gradebook

COURSE = Path(__file__).parent / "fixtures" / "course"


@pytest.fixture(scope="module")
def graded_exchange(tmp_path_factory):
    """Two students handed in through nbgrader's exchange; ada twice (the later one counts)."""
    toy = load_assignment("00_toy", COURSE)
    root = tmp_path_factory.mktemp("exchange")
    inbound = root / "exchange" / "course101" / "inbound"
    solution = nbformat.read(toy.solution_notebook, as_version=4)
    blank = nbformat.read(toy.exercise_notebook, as_version=4)
    for folder, nb in (("ada+00_toy+2026-11-01 10:00:00.000000 UTC+x1", blank),
                       ("ada+00_toy+2026-11-02 09:00:00.000000 UTC+x2", solution),
                       ("bob+00_toy+2026-11-01 12:00:00.000000 UTC+x3", blank),
                       ("bob+99_other+2026-11-03 12:00:00.000000 UTC+x4", solution)):
        (inbound / folder).mkdir(parents=True)
        nbformat.write(nb, inbound / folder / toy.notebook)
    result = grade_class(toy, inbound, root / "out", progress=False, workers=1)
    return toy, root, result


def test_exchange_layout_takes_the_latest_submission_of_this_assignment(graded_exchange):
    _, _, result = graded_exchange
    assert {r.student: r.total for r in result.results} == {"ada": 4.0, "bob": 0.0}


def test_export_is_read_by_nbgrader(graded_exchange):
    toy, root, result = graded_exchange
    db = f"sqlite:///{root / 'gradebook.db'}"
    for _ in range(2):  # exporting twice must not duplicate anything
        export_to_gradebook(toy.name, toy.notebook, result.max_scores, result.results, db)
    with Gradebook(db) as gradebook:
        assert gradebook.find_submission("00_toy", "ada").score == 4.0
        assert gradebook.find_submission("00_toy", "bob").score == 0.0
        assert gradebook.find_assignment("00_toy").max_score == 4.0
        assert len(gradebook.students) == 2

    subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", f"--CourseDirectory.root={root}",
                    f"--CourseDirectory.db_url={db}", "--CsvExportPlugin.to=nbgrader_grades.csv"],
                   cwd=root, check=True, capture_output=True)
    with open(root / "nbgrader_grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert float(rows["ada"]["score"]) == 4.0 and float(rows["ada"]["max_score"]) == 4.0
    assert float(rows["bob"]["score"]) == 0.0
