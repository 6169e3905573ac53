"""Copy detection (vlcourse.grading.integrity.similarity): disguised copies are flagged, independent solutions are not."""

import json

import pytest

from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
from vlcourse.grading.integrity.copy_corpus import disguise, measure
from vlcourse.grading.integrity.similarity import (
    MIN_TOKENS, Match, class_flags, find_matches, groups, normalised_tokens, own_tokens, parse_flag, ranked_pairs,
    summary_lines,
)

REFERENCE = '''
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)  # (2N, D)
    logits = pairwise_cosine_similarity(z, z) / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = (torch.arange(2 * n) + n) % (2 * n)
    return torch.nn.functional.cross_entropy(logits, positives)
'''

STARTER = "def nt_xent_loss(z1, z2, temperature):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"

OWN = '''
def nt_xent_loss(z1, z2, temperature):
    batch = z1.shape[0]
    everything = torch.cat([z1, z2], dim=0)
    scores = pairwise_cosine_similarity(everything, everything) / temperature
    scores = scores.clone()
    scores.fill_diagonal_(float("-inf"))
    rows = torch.arange(2 * batch)
    partners = torch.cat([torch.arange(batch, 2 * batch), torch.arange(0, batch)])
    positive_scores = scores[rows, partners]
    per_row = torch.logsumexp(scores, dim=1) - positive_scores
    return per_row.mean()
'''

COPIED = '''
def nt_xent_loss(z1, z2, temperature):
    """NT-Xent, as in the paper."""
    n = z1.shape[0]
    # who is paired with whom

    idx = torch.arange(2 * n)
    pair = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    debug = False
    z = torch.cat([z1, z2], dim=0)
    sim = pairwise_cosine_similarity(z, z) / temperature
    sim = sim.clone()
    sim.fill_diagonal_(float("-inf"))  # no self-pairs
    pos = sim[idx, pair]
    terms = torch.logsumexp(sim, dim=1) - pos
    return terms.mean()
'''

BASE = {"loss": [normalised_tokens(REFERENCE), normalised_tokens(STARTER)]}


def test_names_comments_docstrings_and_layout_are_erased_but_library_calls_stay():
    tokens = normalised_tokens(REFERENCE)
    assert tokens[:3] == ["def", "N0", "("] and "masked_fill" in tokens and "torch" in tokens
    assert "logits" not in tokens and "dim" in tokens  # a variable is renamed, a keyword argument is not
    renamed = REFERENCE.replace("logits", "scores").replace("  # (2N, D)", "\n\n    # stack both views")
    assert normalised_tokens('"""Docstring."""\n' + renamed) == tokens
    same, other, reused = ("def f(x, n):\n    y = x / n", "def g(a, m):\n    b = a / m", "def f(x, n):\n    x = x / n")
    assert normalised_tokens(same) == normalised_tokens(other) != normalised_tokens(reused)  # numbered per statement
    assert normalised_tokens("x = torch.cat([a, b]") == []  # not even tokenisable: nothing to compare


def test_tokens_are_plain_json_and_old_results_count_for_nothing():
    tokens = normalised_tokens(OWN)
    assert json.loads(json.dumps(tokens)) == tokens
    students = {"ada": {"loss": tokens}, "bob": {"loss": "3f2a9c"}, "cy": {"loss": [17, 42]}}
    assert find_matches(students, BASE) == []


def test_a_disguised_copy_is_flagged_the_reference_and_the_starter_are_not():
    students = {
        "ada": {"loss": normalised_tokens(OWN)},
        "bob": {"loss": normalised_tokens(COPIED)},  # ada's: renamed, reordered, recommented, padded
        "cy": {"loss": normalised_tokens(REFERENCE)},  # the reference itself: expected, not suspicious
        "dee": {"loss": normalised_tokens(REFERENCE.replace("logits", "sims"))},
        "eve": {"loss": normalised_tokens(STARTER)},
        "fay": {"loss": normalised_tokens(STARTER)},
    }
    matches = find_matches(students, BASE)
    assert [(m.a, m.b) for m in matches] == [("ada", "bob")]
    assert matches[0].score > 0.8 and list(matches[0].cells) == ["loss"]


def test_the_same_two_statements_are_not_enough_evidence():
    short = "def nt_xent_loss(z1, z2, temperature):\n    sims = z1 @ z2.T\n    return torch.logsumexp(sims / temperature, dim=1).mean()\n"
    students = {"ada": {"loss": normalised_tokens(short)}, "bob": {"loss": normalised_tokens(short.replace("sims", "dots"))}}
    assert students["ada"] == students["bob"] and own_tokens(students["ada"]["loss"], BASE["loss"]) < MIN_TOKENS
    assert find_matches(students, BASE, threshold=0.0) == []  # identical, but one might well write it so


def test_flags_name_the_classmate_rank_pairs_and_link_groups():
    own, copied = normalised_tokens(OWN), normalised_tokens(COPIED)
    flags = class_flags({"ada": {"loss": own}, "bob": {"loss": copied}, "cy": {"loss": copied}, "dee": {}}, BASE)
    assert flags["dee"] == []
    assert flags["bob"][0] == "100% similar to cy (loss 100%; whole submission 100%)"
    assert parse_flag(flags["bob"][0]) == (1.0, "cy", "loss 100%; whole submission 100%")
    assert flags["ada"][-1] == "one of 3 students linked by similar code: ada, bob, cy"
    pairs = ranked_pairs(flags)
    assert [p[1:3] for p in pairs] == [("bob", "cy"), ("ada", "bob"), ("ada", "cy")]
    lines = summary_lines(flags)
    assert lines[0].startswith("Similar code: 3 pairs of classmates, strongest first")
    assert lines[1] == "  100%  bob ~ cy: loss 100%; whole submission 100%"
    assert lines[-1] == "  one of 3 students linked by similar code: ada, bob, cy" and len(lines) == 5
    assert summary_lines({"ada": [], "bob": []}) == []


def test_groups_link_classmates_through_flagged_pairs():
    matches = [Match("a", "b", 0.9, 0.9, {"x": 0.9}), Match("d", "e", 0.85, 0.85, {"y": 0.85}),
               Match("b", "c", 0.8, 0.8, {"x": 0.8})]
    assert groups(matches) == [["a", "b", "c"], ["d", "e"]]


def test_the_automatic_disguise_keeps_the_program_and_changes_its_text():
    copy = disguise(OWN)
    assert copy != OWN and "def nt_xent_loss(" in copy and "everything" not in copy and "# " in copy
    assert "checking shapes" in copy or "debug = False" in copy or "_ = None" in copy
    compile(copy, "copy", "exec")


@pytest.mark.parametrize("name", list_assignments())
def test_precision_and_recall_on_the_corpus(name):
    """No independent pair of the class in benchmarks/copy_detection is flagged; every copy pair is."""
    score = measure(load_assignment(name))
    assert score.students >= 1 + 10 + 10  # the solution, ten alternatives, five copy cases at least
    assert score.copy_pairs - score.automatic_pairs >= 5
    assert [(m.a, m.b, m.score) for m in score.false_positives] == [] and score.missed == []
    assert score.precision == score.recall == 1.0
