"""Telling a student which known mistake their failures look like (vlcourse.grading.diagnosis)."""

import pytest

from vlcourse.grading.assignment import list_assignments, load_assignment
from vlcourse.grading.diagnosis import Signature, diagnose, mistake_counts, read_signatures, signatures_path
from vlcourse.grading.grade import SubmissionResult, TestReport
from vlcourse.grading.report import feedback_html
from vlcourse.grading.variants import read_variants

SIGNATURES = [
    Signature("temperature_twice", "loss", ("test_other_temperatures", "test_values"), "the temperature is applied twice"),
    Signature("sum_not_mean", "loss", ("test_values",), "the per-view losses are summed"),
    Signature("sum_too", "loss", ("test_values",), "the loss is not averaged over the batch"),
    Signature("mask_transposed", "mask", ("test_mask",), "the mask looks at the future"),
]


def result(failed: dict[str, list[str]]) -> SubmissionResult:
    tests = [TestReport(cell, "a check", 1.0, 0.0 if name in failed.get(cell, []) else 1.0, name not in failed.get(cell, []), name=name)
             for cell, names in {"loss": ["test_values", "test_other_temperatures", "test_gradients"], "mask": ["test_mask"]}.items()
             for name in names]
    return SubmissionResult("s", {}, {"loss": 3.0, "mask": 1.0}, tests=tests)


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


def test_failing_every_test_of_a_cell_matches_no_mistake():
    """Any wrong answer fails everything; a signature like that tells nothing apart."""
    everything = [Signature("broken", "mask", ("test_mask",), "the mask looks at the future")]
    assert diagnose(result({"mask": ["test_mask"]}), everything) == {}


def test_feedback_page_shows_the_diagnosis_but_no_test_names():
    graded = result({"loss": ["test_values", "test_other_temperatures"]})
    graded.diagnoses = diagnose(graded, SIGNATURES)
    page = feedback_html(graded, "01")
    assert "the temperature is applied twice" in page and "test_other_temperatures" not in page


@pytest.mark.parametrize("name", list_assignments())
def test_stored_signatures_name_every_known_mistake_of_the_assignment(name):
    """`vlcourse verify` checks the signatures are current; here: present and about the real mistake files."""
    assignment = load_assignment(name)
    stored = {s.mistake: s for s in read_signatures(signatures_path(assignment))}
    mistakes = {v.name: v for v in read_variants(assignment.mistakes_dir)}
    assert set(stored) == set(mistakes)
    for mistake, signature in stored.items():
        assert signature.cell == mistakes[mistake].cell and signature.failed and signature.feedback
