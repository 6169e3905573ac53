"""Instructor checks in CI: exercises/ is built from solutions/, and every hidden suite verifies."""

import pytest

from vlcourse.building import check_exercises
from vlcourse.grading.assignment import list_assignments, load_assignment
from vlcourse.grading.verify import verify_assignment


def test_exercises_are_up_to_date():
    assert check_exercises() == [], "run `vlcourse build` and commit exercises/"


@pytest.mark.parametrize("name", list_assignments())
def test_hidden_suite_verifies(name):
    checks = verify_assignment(load_assignment(name), log=lambda line: None)
    failed = [check.line() for check in checks if not check.ok]
    assert not failed, "\n".join(failed)
    assert len(checks) >= 2 + 2 + 6  # metadata x2, solution, blank, at least six mistakes
