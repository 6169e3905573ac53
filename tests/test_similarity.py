"""Copy detection: same program up to names and formatting is flagged; different programs are not."""

from vlcourse.grading.similarity import copy_flags, defined_names, fingerprint, normalise

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

DIFFERENT = '''
def nt_xent_loss(z1, z2, temperature):
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    n = z1.shape[0]
    sim.fill_diagonal_(-1e9)
    labels = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
    return torch.nn.functional.cross_entropy(sim, labels)
'''


def prints(source):
    return fingerprint(source, defined_names(source))


def test_renaming_comments_docstrings_and_spacing_do_not_hide_a_copy():
    assert prints(ORIGINAL) == prints(DISGUISED)
    assert normalise(ORIGINAL, {"nt_xent_loss"}).startswith("def nt_xent_loss(v0, v1, v2)")


def test_a_different_program_is_different():
    assert prints(ORIGINAL) != prints(DIFFERENT)


def test_tiny_or_broken_cells_are_not_compared():
    assert prints("def add(a, b):\n    return a + b") is None
    assert prints("def broken(:\n") is None


def test_flags_reference_matches_and_classmates_but_not_the_blank():
    blank = "def nt_xent_loss(z1, z2, temperature):\n" + "    x = 1\n" * 20 + "    raise NotImplementedError()"
    students = {
        "ada": {"loss": prints(DISGUISED)},
        "bob": {"loss": prints(DIFFERENT)},
        "cy": {"loss": prints(DIFFERENT)},
        "dee": {"loss": prints(blank)},
        "eve": {"loss": prints(blank)},
    }
    flags = copy_flags(students, {"loss": prints(ORIGINAL)}, {"loss": prints(blank)})
    assert flags["ada"] == ["matches the reference solution up to names and formatting: loss"]
    assert flags["bob"] == ["loss: same code as cy up to names and formatting"]
    assert flags["cy"] == ["loss: same code as bob up to names and formatting"]
    assert "dee" not in flags and "eve" not in flags


def test_students_who_both_copied_the_reference_get_one_flag_each():
    students = {"ada": {"loss": prints(ORIGINAL)}, "bob": {"loss": prints(DISGUISED)}}
    flags = copy_flags(students, {"loss": prints(ORIGINAL)}, {})
    assert flags == {name: ["matches the reference solution up to names and formatting: loss"] for name in students}
