"""``vlcourse new NN_topic``: the skeleton of a new assignment, ready to fill, build and verify.

It writes, in the course folder (``--course`` / ``VLCOURSE_ROOT``):

* ``solutions/NN_topic/topic.ipynb``: a source notebook with one graded cell (a small working
  example, ``normalize_rows``), its public self-check, and prose placeholders in *italics* saying
  what to write;
* ``grader/NN_topic/``: ``assignment.toml``, a hidden test file using the ``student`` fixture,
  ``README.md`` (the contract table), one known mistake in ``mistakes/`` and one sample in ``samples/``;
* ``grader/pytest.ini`` where the course has none yet.

The example is complete: ``vlcourse build`` and ``vlcourse verify`` run on it at once, and
verify then asks for what only the author can add (more known mistakes, their signatures).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from vlcourse.usererrors import UserError

NAME = re.compile(r"^(?P<number>\d{2})_(?P<topic>[a-z][a-z0-9_]*)$")
CELL = "normalize_rows"
POINTS = 2

PYTEST_INI = """\
# pytest settings for the hidden suites; `vlcourse grade` runs them with `-c grader/pytest.ini`.
[pytest]
python_files = test_*.py
"""

ASSIGNMENT_TOML = """\
# Assignment {name}. Read by `vlcourse grade` / `vlcourse verify` (see vlcourse/grading/authoring/assignment.py).
title = "{title}"
notebook = "{topic}.ipynb"
# Reference functions the students write, unavailable to their code while grading, e.g.
# ["vlcourse.{topic}.functions.normalize_rows"] (each in a file of its own kind).
withheld = []
# Modules the runner imports during start-up (not counted as the submission's time).
preload = ["torch"]
# Files the notebook writes beside itself that hidden tests use (e.g. a trained checkpoint).
files = []

[limits]
call_seconds = 10
cell_seconds = 60
submission_seconds = 300

# [due]                                   # optional: deadline and late policy (vlcourse.grading.intake.due)
# deadline = 2026-03-01T23:59:00+01:00
# penalty_per_day = 0.1
"""

TESTS = '''\
"""Hidden tests of assignment {name}. Run by `vlcourse grade`, never shipped to students.

Each test names the graded cell it scores and its points; the points of a cell add up to the
notebook's. The student's code runs in its own process, reached through the ``student`` fixture;
every expected value is computed here, on the trusted side.
"""

import pytest
import torch

from vlcourse.grading.suite.tolerances import assert_close

grade = pytest.mark.grade


def reference(x):
    """The answer key. For a function later assignments reuse, put it in vlcourse/ and withhold it."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)


def randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@grade(cell="{cell}", points=1.5, hint="Divide every row by its own Euclidean length.")
def test_rows_have_unit_length(student):
    """normalize_rows matches the reference on random float64 rows of different lengths"""
    x = randn(5, 4, seed=1) * torch.tensor([[0.5], [1.0], [3.0], [20.0], [0.1]], dtype=torch.float64)
    assert_close(student.normalize_rows(x), reference(x))


@grade(cell="{cell}", points=0.5, hint="Clamp the norms so that an all-zero row does not divide by zero.")
def test_zero_rows_stay_finite(student):
    """an all-zero row gives zeros, not nan"""
    x = torch.cat([torch.zeros(1, 3, dtype=torch.float64), randn(2, 3, seed=2)])
    assert_close(student.normalize_rows(x), reference(x))
'''

README = """\
# {name}: the contract and what checks it

*(Write one line on what the assignment teaches.)* The markdown above each graded cell of
`solutions/{name}/{topic}.ipynb` is the contract. Every behaviour it promises has a hidden test in
`test_{topic}.py` (points in brackets; per cell they add up to the notebook's points) and, where a
plausible wrong answer breaks it, a known mistake in `mistakes/` that `vlcourse verify {name}`
proves loses points. `vlcourse verify {name} --mutants` measures the suite: every mutant of a graded
cell's solution lines loses points on that cell, or is listed in `equivalent_mutants.toml` with why
it behaves like the solution on every input the contract allows.

## {cell} ({points} points): `normalize_rows(x)`

| promised behaviour | hidden tests | known mistakes |
|---|---|---|
| `(N, D)` -> `(N, D)`, each row divided by its Euclidean length | `test_rows_have_unit_length` [1.5] | *(add one)* |
| all-zero rows give zeros (norms clamped at 1e-8) | `test_zero_rows_stay_finite` [0.5] | `no_zero_guard` |
"""

MISTAKE = """\
# cell: {cell}
# why: divides by the row norms without a guard, so an all-zero row becomes nan
# feedback: an all-zero row divides by zero; clamp the norms (e.g. at 1e-8) before dividing
def normalize_rows(x):
    return x / x.norm(dim=1, keepdim=True)
"""

SAMPLE = """\
# cell: {cell}
# why: hands the input back unchanged (a demo submission: it must score nothing)
# expect: zero
def normalize_rows(x):
    return x.clone()
"""

INTRO = """\
# Assignment {number} — {title}

*(Write two or three sentences: what the students build, the paper or idea it comes from, and what
they will see at the end.)*

**What you hand in.** This notebook *(and any file it saves that the hidden tests read; list those
under `files` in `grader/{name}/assignment.toml`)*.

**How it is graded.** One cell is graded ({points} points). Each graded cell states the name and
signature it must define; keep them, the grader calls them by name. Cells tagged `skip-grading`
(self-checks, experiments) are not run by the grader.
"""

PART = """\
## 1. Normalising rows ({points} points)

*(Explain the idea in your own words, with the formula where it helps.)*

Write `normalize_rows(x)`:

* `x` has shape `(N, D)`; return the `(N, D)` tensor whose row `n` is `x[n]` divided by its
  Euclidean length;
* an all-zero row must stay finite: clamp the lengths at `1e-8` before dividing;
* it must work for any floating dtype (the grader uses float64).

*(Replace this example with your own function; every promise you make here needs a hidden test.)*
"""

SOLUTION = """\
def normalize_rows(x):
    ### BEGIN SOLUTION
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)  # (N, D)
    ### END SOLUTION
"""

SELF_CHECK = """\
# Self-check (public): a case you can work out by hand.
x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
got = normalize_rows(x)
assert torch.allclose(got, torch.tensor([[0.6, 0.8], [0.0, 0.0]])), got
print("self-check passed")
"""

NEXT = """\
## 2. *(Next part)*

*(Add more graded cells the same way: a markdown contract, then a code cell with nbgrader metadata
`grade_id` and `points` and its answer between the BEGIN and END SOLUTION marker lines, as
above (nbgrader reads those markers in every cell, so never quote them in prose). Give each hidden
tests in `grader/{name}/`, a row in its README and known mistakes.)*
"""


def check_name(name: str) -> re.Match:
    match = NAME.match(name)
    if match is None:
        raise UserError(f"assignment name {name!r} must look like NN_topic (two digits, an underscore, lower-case "
                        "letters, digits or underscores), e.g. 04_clip")
    return match


def source_notebook(name: str, number: str, title: str) -> nbformat.NotebookNode:
    """The source notebook: intro, imports, one graded cell with its self-check, a next-part placeholder."""
    v4 = nbformat.v4
    graded = v4.new_code_cell(SOLUTION.rstrip())
    graded.metadata["nbgrader"] = {"grade": True, "grade_id": CELL, "locked": False, "points": POINTS,
                                   "schema_version": 3, "solution": True, "task": False}
    check = v4.new_code_cell(SELF_CHECK.rstrip())
    check.metadata["tags"] = ["skip-grading"]
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell(INTRO.format(number=number, title=title, name=name, points=POINTS)),
        v4.new_code_cell("import torch\n\ntorch.manual_seed(0)"),
        v4.new_markdown_cell(PART.format(points=POINTS)),
        graded,
        check,
        v4.new_markdown_cell(NEXT.format(name=name)),
    ])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def grader_files(name: str, topic: str, title: str) -> dict[str, str]:
    """Relative path inside ``grader/<name>/`` -> text."""
    values = {"name": name, "topic": topic, "title": title, "cell": CELL, "points": POINTS}
    return {
        "assignment.toml": ASSIGNMENT_TOML.format(**values),
        f"test_{topic}.py": TESTS.format(**values),
        "README.md": README.format(**values),
        "mistakes/no_zero_guard.py": MISTAKE.format(**values),
        "samples/returns_input.py": SAMPLE.format(**values),
    }


def new_assignment(name: str, root: Path, title: str | None = None) -> list[Path]:
    """Scaffold assignment ``name`` in the course at ``root``; returns the files written.

    Refuses a malformed name and an assignment that already exists (nothing is overwritten).
    """
    match = check_name(name)
    topic = match["topic"]
    title = title or topic.replace("_", " ").capitalize()
    for folder in (root / "solutions" / name, root / "grader" / name, root / "exercises" / name):
        if folder.exists():
            raise UserError(f"{folder} already exists; choose another name or remove it first")
    written = []
    notebook = root / "solutions" / name / f"{topic}.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(source_notebook(name, match["number"], title), notebook)
    written.append(notebook)
    for relative, text in grader_files(name, topic, title).items():
        path = root / "grader" / name / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    ini = root / "grader" / "pytest.ini"
    if not ini.exists():
        ini.write_text(PYTEST_INI)
        written.append(ini)
    return written


NEXT_STEPS = """\
next steps (README, "Writing a new assignment"):
  1. write the prose in solutions/{name}/{topic}.ipynb and replace the example cell with your own
  2. hidden tests in grader/{name}/test_{topic}.py, the contract in grader/{name}/README.md,
     at least six known mistakes in grader/{name}/mistakes/
  3. vlcourse build {name}
  4. vlcourse verify {name} --write-signatures
  5. vlcourse verify {name} --mutants: every mutant of a graded cell must lose points on it, or be listed in
     grader/{name}/equivalent_mutants.toml with the reason it behaves like the solution (see verify_out/)"""
