"""Telling a student which known mistake their failures look like (vlcourse.grading.integrity.diagnosis)."""

import pytest

from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
from vlcourse.grading.integrity.diagnosis import (WRONG_RESULT, Signature, attach_diagnoses, diagnose, mistake_counts,
                                        mistake_students, read_signatures, signatures_path)
from vlcourse.grading.grade import SubmissionResult, TestReport, load_result
from vlcourse.grading.results.report import feedback_html
from vlcourse.grading.authoring.variants import read_variants

SIGNATURES = [
    Signature("temperature_twice", "loss", ("test_other_temperatures", "test_values"), "the temperature is applied twice"),
    Signature("sum_not_mean", "loss", ("test_values",), "the per-view losses are summed"),
    Signature("sum_too", "loss", ("test_values",), "the loss is not averaged over the batch"),
    Signature("mask_transposed", "mask", ("test_mask",), "the mask looks at the future"),
]


CELLS = {"loss": ["test_values", "test_other_temperatures", "test_gradients"], "mask": ["test_mask"]}


def report(cell: str, name: str, failed: bool, reason: str = WRONG_RESULT) -> TestReport:
    return TestReport(cell, "a check", 1.0, 0.0 if failed else 1.0, not failed, reason=reason if failed else "", name=name)


def result(failed: dict[str, list[str]], student: str = "s", reason: str = WRONG_RESULT) -> SubmissionResult:
    """Wrong results (or, with another ``reason``, errors) on the ``failed`` tests; the rest pass."""
    tests = [report(cell, name, name in failed.get(cell, []), reason) for cell, names in CELLS.items() for name in names]
    return SubmissionResult(student, {}, {"loss": 3.0, "mask": 1.0}, tests=tests)


def test_an_exact_match_names_the_mistake_in_plain_words():
    found = diagnose(result({"loss": ["test_values", "test_other_temperatures"]}), SIGNATURES)
    assert found == {"loss": ["the temperature is applied twice"]}


def test_mistakes_with_the_same_signature_are_all_named():
    found = diagnose(result({"loss": ["test_values"], "mask": ["test_mask"]}), SIGNATURES)
    assert found == {"loss": ["the per-view losses are summed", "the loss is not averaged over the batch"]}


@pytest.mark.parametrize("failed", [
    {},                                                                     # all passed: nothing to say
    {"loss": ["test_other_temperatures"]},                                  # a subset of a signature
    {"loss": ["test_values", "test_other_temperatures", "test_gradients"]},  # a superset: another mistake
])
def test_anything_but_an_exact_match_says_nothing(failed):
    assert diagnose(result(failed), SIGNATURES) == {}


def test_counts_per_mistake_for_the_class_report():
    results = [result({"loss": ["test_values"]}), result({"loss": ["test_values"]}), result({"loss": ["test_gradients"]})]
    counts = mistake_counts(results, SIGNATURES)
    assert counts == {"sum_not_mean / sum_too": 2}


def test_who_made_which_mistake():
    results = [result({"loss": ["test_values"]}, "ada"), result({"loss": ["test_values", "test_other_temperatures"]}, "bo")]
    assert mistake_students(results, SIGNATURES) == {"sum_not_mean / sum_too": ["ada"], "temperature_twice": ["bo"]}


def test_an_error_where_a_mistake_gives_a_wrong_result_is_not_that_mistake():
    crashed = result({"loss": ["test_values", "test_other_temperatures"]}, reason="loss(...): ValueError: shapes")
    assert diagnose(crashed, SIGNATURES) == {}
    raising = [Signature("crashes", "loss", ("test_values",), "a larger T crashes", raised=("test_values",))]
    assert diagnose(result({"loss": ["test_values"]}, reason="loss(...): IndexError"), raising) == {"loss": ["a larger T crashes"]}


def test_a_cell_whose_hidden_check_broke_is_not_diagnosed():
    graded = result({"loss": ["test_values"]})
    graded.tests[2].grader_error = True
    assert diagnose(graded, SIGNATURES) == {}


def test_diagnoses_are_saved_in_the_results(tmp_path, monkeypatch):
    monkeypatch.setattr("vlcourse.grading.integrity.diagnosis.read_signatures", lambda path: SIGNATURES)
    attach_diagnoses(load_assignment(list_assignments()[0]), [result({"mask": ["test_mask"]}, "ada")], save_to=tmp_path)
    assert load_result(tmp_path, "ada").diagnoses == {}  # failing the cell's only test tells nothing apart
    attach_diagnoses(load_assignment(list_assignments()[0]), [result({"loss": ["test_values"]}, "ada")], save_to=tmp_path)
    assert load_result(tmp_path, "ada").diagnoses == {"loss": ["the per-view losses are summed", "the loss is not averaged over the batch"]}


def test_failing_every_test_of_a_cell_matches_no_mistake():
    """Any wrong answer fails everything; a signature like that tells nothing apart."""
    everything = [Signature("broken", "mask", ("test_mask",), "the mask looks at the future")]
    assert diagnose(result({"mask": ["test_mask"]}), everything) == {}


def test_feedback_page_shows_the_diagnosis_but_no_test_names():
    graded = result({"loss": ["test_values", "test_other_temperatures"]})
    graded.diagnoses = diagnose(graded, SIGNATURES)
    page = feedback_html(graded, "01")
    assert "the temperature is applied twice" in page and "test_other_temperatures" not in page
    assert "common mistake" in page


@pytest.mark.parametrize("name", list_assignments())
def test_stored_signatures_name_every_known_mistake_of_the_assignment(name):
    """`vlcourse verify` checks the signatures are current; here: present and about the real mistake files."""
    assignment = load_assignment(name)
    stored = {s.mistake: s for s in read_signatures(signatures_path(assignment))}
    mistakes = {v.name: v for v in read_variants(assignment.mistakes_dir)}
    assert set(stored) == set(mistakes)
    for mistake, signature in stored.items():
        assert signature.cell == mistakes[mistake].cell and signature.failed and signature.feedback
        assert set(signature.raised) <= set(signature.failed)
    wrong_results = [s for s in stored.values() if not s.raised]
    assert len(wrong_results) >= len(stored) // 2, f"most mistakes give wrong results, not errors (is {WRONG_RESULT!r} stale?)"
