"""Instructor checks in CI: exercises/ is built from solutions/, and every hidden suite verifies."""

import pytest

from vlcourse.building import check_exercises
from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
from vlcourse.grading.authoring.verify import verify_assignment


def test_exercises_are_up_to_date():
    assert check_exercises() == [], "run `vlcourse build` and commit exercises/"


@pytest.mark.parametrize("name", list_assignments())
def test_hidden_suite_verifies(name):
    # One grading process each: the suite's two xdist workers already keep both cores busy, and a second
    # process would only add its start-up (interpreter, torch, zygote, LLM endpoint). `vlcourse verify`
    # itself uses one per core; several workers are tested in test_grading_class and test_redteam.
    checks = verify_assignment(load_assignment(name), log=lambda line: None, workers=1)
    failed = [check.line() for check in checks if not check.ok]
    assert not failed, "\n".join(failed)
    assert len(checks) >= 2 + 2 + 6  # metadata x2, solution, blank, at least six mistakes


def test_full_marks_with_a_cell_error_does_not_verify():
    """The solution (and every correct alternative) must earn every point *and* run every cell cleanly."""
    from vlcourse.grading.grade import SubmissionResult
    from vlcourse.grading.authoring.verify import clean_full_marks

    clean = SubmissionResult("solution", {"a": 2.0}, {"a": 2.0})
    assert clean_full_marks(clean)[0]
    noisy = SubmissionResult("solution", {"a": 2.0}, {"a": 2.0}, cell_errors={"cell 7": "Withheld: ... is withheld"})
    ok, detail = clean_full_marks(noisy)
    assert not ok and "cell 7" in detail and "is withheld" in detail
    short = SubmissionResult("solution", {"a": 1.5}, {"a": 2.0})
    assert not clean_full_marks(short)[0]


def test_only_variants_that_must_lose_points_are_graded_on_their_cell_alone():
    from vlcourse.grading.authoring.variants import Variant
    from vlcourse.grading.authoring.verify import variant_focus

    variants = [Variant("off_by_one", "loss", "", "below", ""), Variant("cheat", "loss", "", "zero", ""),
                Variant("other_style", "loss", "", "full", ""), Variant("typo_in_header", "losss", "", "below", "")]
    focus = variant_focus(variants, {"loss", "sampler"})
    assert set(focus) == {"off_by_one", "cheat"}  # a correct alternative must earn every cell; an unknown cell gets all
    assert all(f.cells == frozenset({"loss"}) and not f.stop_at_first_loss for f in focus.values())  # every test: signatures
