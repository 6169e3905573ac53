"""Emergence and how it is measured; self-consistency voting.

Wei et al. 2022 ("Emergent Abilities of Large Language Models") call an ability emergent when it is
absent in small models and present in large ones. Schaeffer et al. 2023 ("Are Emergent Abilities of
Large Language Models a Mirage?") point out that a harsh metric can produce the jump: if each of the
k tokens of an answer is right with probability p, exact match scores p**k, which stays near zero
and then shoots up even when p grows smoothly with scale.

Self-consistency (Wang et al. 2023) samples several chains of thought and takes the majority answer:
when one answer is right more often than any single wrong one, the vote is right more often still.
:func:`majority_answer` is that vote on real samples; :func:`mcnemar_p` says whether two ways of
prompting, scored on the same questions, differ by more than chance.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


def per_token_accuracy(log10_params: np.ndarray, midpoint: float = 9.0, slope: float = 1.2) -> np.ndarray:
    """A smooth, made-up scaling curve: per-token accuracy as a logistic function of log10(params)."""
    return 1.0 / (1.0 + np.exp(-slope * (np.asarray(log10_params, dtype=float) - midpoint)))


def exact_match(p: np.ndarray | float, k: int) -> np.ndarray:
    """Probability that all k independent tokens are right: ``p ** k``."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return np.asarray(p, dtype=float) ** k


def simulate_exact_match(p: float, k: int, n: int, seed: int = 0) -> float:
    """Monte-Carlo estimate of exact match: fraction of n answers whose k tokens are all right."""
    rng = np.random.default_rng(seed)
    return float((rng.random((n, k)) < p).all(axis=1).mean())


def majority_vote_accuracy(p_correct: float, samples: int, wrong_answers: int) -> float:
    """Exact probability that a plurality vote over ``samples`` answers is right.

    Each sample is right with probability ``p_correct``, else one of ``wrong_answers`` wrong answers
    uniformly at random. Ties among the top answers are broken uniformly at random. Computed by
    enumerating all count vectors (fine for samples <= ~20 and a few wrong answers).
    """
    if not 0 <= p_correct <= 1 or samples < 1 or wrong_answers < 1:
        raise ValueError("need 0 <= p_correct <= 1, samples >= 1, wrong_answers >= 1")
    q = (1 - p_correct) / wrong_answers
    probs = [p_correct] + [q] * wrong_answers
    total = 0.0
    for counts in itertools.product(range(samples + 1), repeat=wrong_answers + 1):
        if sum(counts) != samples:
            continue
        top = max(counts)
        if counts[0] != top:
            continue
        ties = sum(c == top for c in counts)
        multinomial = math.factorial(samples) / math.prod(math.factorial(c) for c in counts)
        total += multinomial * math.prod(pr ** c for pr, c in zip(probs, counts)) / ties
    return total


def simulate_majority_vote(p_correct: float, samples: int, wrong_answers: int, trials: int, seed: int = 0) -> float:
    """Monte-Carlo version of :func:`majority_vote_accuracy` (answer 0 is the right one)."""
    rng = np.random.default_rng(seed)
    probs = [p_correct] + [(1 - p_correct) / wrong_answers] * wrong_answers
    hits = 0.0
    for _ in range(trials):
        counts = np.bincount(rng.choice(wrong_answers + 1, size=samples, p=probs), minlength=wrong_answers + 1)
        top = counts.max()
        if counts[0] == top:
            hits += 1.0 / (counts == top).sum()
    return hits / trials


def majority_answer(answers: Sequence[object]):
    """The most common answer among samples, ignoring ``None`` (no answer parsed); ties go to the one
    seen first. ``None`` when no sample gave an answer."""
    counts = Counter(a for a in answers if a is not None)
    return counts.most_common(1)[0][0] if counts else None


def mcnemar_p(a_right: Sequence[bool], b_right: Sequence[bool]) -> float:
    """Exact two-sided McNemar test: the p-value that methods A and B, scored on the same N questions, are
    equally accurate.

    Only the questions where they disagree count: A right and B wrong (``n_a`` times) or the reverse
    (``n_b``). Under the null each disagreement goes either way with probability 1/2, so
    ``p = min(1, 2 * P[Binomial(n_a + n_b, 1/2) <= min(n_a, n_b)])``; 1.0 when they never disagree.
    """
    if len(a_right) != len(b_right):
        raise ValueError(f"both methods must answer the same questions, got {len(a_right)} and {len(b_right)} results")
    n_a = sum(bool(a) and not bool(b) for a, b in zip(a_right, b_right))
    n_b = sum(bool(b) and not bool(a) for a, b in zip(a_right, b_right))
    n = n_a + n_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(n_a, n_b) + 1)) / 2 ** n
    return min(1.0, 2 * tail)
