"""Copy detection (vlcourse.grading.similarity): disguised copies are flagged, independent solutions are not."""

import pytest

from vlcourse.grading.assignment import list_assignments, load_assignment
from vlcourse.grading.copy_corpus import measure
from vlcourse.grading.similarity import K, cell_fingerprint, find_matches, groups, normalised_tokens

ORIGINAL = '''
def nt_xent_loss(z1, z2, temperature):
    n = z1.shape[0]
    z = torch.cat([z1, z2], dim=0)  # (2N, D)
    logits = pairwise_cosine_similarity(z, z) / temperature
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    positives = (torch.arange(2 * n) + n) % (2 * n)
    return torch.nn.functional.cross_entropy(logits, positives)
'''

DISGUISED = '''
def nt_xent_loss(a, b, tau):
    """My very own loss."""
    # count the pairs
    size = a.shape[0]

    both = torch.cat([a, b], dim=0)
    scores = pairwise_cosine_similarity(both, both) / tau
    scores = scores.masked_fill(torch.eye(2*size, dtype=torch.bool), float('-inf'))
    targets = (torch.arange(2*size) + size) % (2*size)
    return torch.nn.functional.cross_entropy(scores, targets)
'''


def test_names_comments_docstrings_literals_and_layout_are_erased_but_library_calls_stay():
    assert normalised_tokens(ORIGINAL, {"nt_xent_loss"})[:3] == ["def", "nt_xent_loss", "("]
    assert cell_fingerprint(ORIGINAL) == cell_fingerprint(DISGUISED.replace('"""My very own loss."""\n', ""))
    assert "masked_fill" in normalised_tokens(ORIGINAL) and "logits" not in normalised_tokens(ORIGINAL)
    assert cell_fingerprint('def broken(:\n    """unterminated') == []


def test_short_runs_give_no_fingerprint():
    assert cell_fingerprint("x = 1") == []  # fewer than K tokens
    assert len(normalised_tokens("def add(a, b):\n    return a + b")) < K + 5


def test_a_copy_is_flagged_a_match_of_the_base_code_is_not():
    base = {"loss": cell_fingerprint(ORIGINAL)}
    other = ORIGINAL.replace("cross_entropy(logits, positives)", "cross_entropy(logits, positives, reduction='mean')")
    copies = load_assignment("01_simclr").grader_dir / "copies"
    own, copied = ((copies / f"loss_loop__{kind}.py").read_text() for kind in ("original", "copy"))
    students = {
        "ada": {"loss": cell_fingerprint(own)},
        "bob": {"loss": cell_fingerprint(copied)},  # ada's, renamed, reordered, recommented
        "cy": {"loss": cell_fingerprint(ORIGINAL)},  # the reference itself: expected, not suspicious
        "dee": {"loss": cell_fingerprint(other)},  # the reference, nearly
    }
    matches = find_matches(students, base)
    assert [(m.a, m.b) for m in matches] == [("ada", "bob")]
    assert matches[0].score > 0.7 and matches[0].cells == ["loss"]
    assert matches[0].describe("ada").endswith("similar to bob (loss)")


def test_groups_link_classmates_through_flagged_pairs():
    from vlcourse.grading.similarity import Match

    matches = [Match("a", "b", 0.9, ["x"]), Match("b", "c", 0.8, ["x"]), Match("d", "e", 0.7, ["y"])]
    assert sorted(map(sorted, groups(matches))) == [["a", "b", "c"], ["d", "e"]]


@pytest.mark.parametrize("name", list_assignments())
def test_precision_and_recall_on_the_corpus(name):
    """grader/NN/alternatives (independent, correct) never flagged; grader/NN/copies pairs always flagged."""
    score = measure(load_assignment(name))
    assert score.students >= 11 + 4  # the solution, ten alternatives, two copy pairs
    assert score.copy_pairs >= 2
    assert score.false_positives == [] and score.missed == []
    assert score.precision == score.recall == 1.0
