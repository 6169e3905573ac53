"""Synthetic few-shot episodes in which in-context learning can emerge (Chan et al. 2022; Kirsch et al. 2022).

**Classification episodes.** Each episode draws its own task: an attribute of a shape description
(its colour or its shape) and a mapping from that attribute's four values to four labels. The
labels are

* *real*: the value's own name (``red circle -> red``),
* *flipped*: the names, permuted so that none keeps its own (``red circle -> blue``), as in
  Wei et al. (2023, "Larger language models do in-context learning differently"),
* *nonsense*: made-up words (``red circle -> dax``), as in Frozen's fast binding of "dax"
  and "blicket" (Tsimpoukelli et al. 2021).

Since the mapping changes from episode to episode, the only way to predict a label is to read it
off the examples earlier in the same episode: learning in context. With ``num_tasks`` set, episodes
draw from a fixed pool of that many tasks instead, and a model can also simply memorise them: Kirsch
et al. (2022, "General-Purpose In-Context Learning by Meta-Learning Transformers") find a transition
from memorisation to in-context learning as the number of distinct tasks grows.

**Arithmetic.** Products of four digits from 2 to 9, written either directly (``3*4*2*5=120``)
or with a chain of thought (Wei et al. 2022, "Chain-of-Thought Prompting Elicits Reasoning in Large
Language Models") that multiplies one factor at a time (``3*4*2*5: 3*4=12, 12*2=24, 24*5=120``).
A fifth of the *multisets* of four digits never appear in training, in any order: measured on
those, a direct answer must compose the whole product in one step, which a three-layer model does
not learn to generalise, while each step of a chain (``24*5=120``) is a small multiplication the
model knows: training also shows single multiplication *facts* (``18*9=162``), every product of
one to three digits times a digit, as a times table. The direct answer to ``2*3*3*9`` is then
one such fact away from known ones, but only if the model works out ``2*3*3`` on the way, in a
single step. (Sums were too easy: the model adds four digits directly as well as in steps, and a
held-out tuple of digits is a permutation of a trained one.)
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from dataclasses import dataclass

COLORS = ("red", "green", "blue", "yellow")
SHAPES = ("circle", "square", "triangle", "star")
NONSENSE = ("dax", "blicket", "wug", "fep", "toma", "zup", "kiki", "gazzer")
ATTRIBUTES = {"color": COLORS, "shape": SHAPES}
LABEL_KINDS = ("real", "flipped", "nonsense")
WORDS = COLORS + SHAPES + NONSENSE + ("so",)
# Each description with its arrow is one token: a label then directly follows the token that names
# its input, the pattern an induction head copies from (Olsson et al. 2022, "In-context Learning and
# Induction Heads"); which attribute decides must still be read off the examples.
PHRASES = tuple(f"{c} {s} ->" for c in COLORS for s in SHAPES)
OPERANDS = 4  # factors per product
FACTORS = tuple(range(2, 10))  # a 0 or a 1 would make a product trivial
HELD_OUT_FRACTION = 0.2


@dataclass(frozen=True)
class Task:
    """One classification task: which attribute decides, and the label of each of its values."""

    attribute: str
    kind: str
    labels: tuple[str, ...]  # labels[i] is the label of ATTRIBUTES[attribute][i]

    def label(self, description: tuple[str, str]) -> str:
        color, shape = description
        value = color if self.attribute == "color" else shape
        return self.labels[ATTRIBUTES[self.attribute].index(value)]


def random_task(rng: random.Random, kind: str | None = None, weights: tuple[float, ...] = (1.0, 1.0, 1.0)) -> Task:
    """A fresh task: attribute at random, label kind at random with ``weights`` over :data:`LABEL_KINDS`
    (or the given kind), labels drawn as above."""
    attribute = rng.choice(tuple(ATTRIBUTES))
    kind = kind or rng.choices(LABEL_KINDS, weights)[0]
    values = ATTRIBUTES[attribute]
    if kind == "real":
        labels = values
    elif kind == "flipped":
        labels = derangement(values, rng)
    elif kind == "nonsense":
        labels = tuple(rng.sample(NONSENSE, len(values)))
    else:
        raise ValueError(f"kind must be one of {LABEL_KINDS}, got {kind!r}")
    return Task(attribute, kind, tuple(labels))


def derangement(values: tuple[str, ...], rng: random.Random) -> tuple[str, ...]:
    """A random permutation of ``values`` in which no value keeps its place."""
    while True:
        shuffled = rng.sample(values, len(values))
        if all(a != b for a, b in zip(values, shuffled)):
            return tuple(shuffled)


def task_pool(num_tasks: int, seed: int = 0) -> list[Task]:
    """A fixed pool of ``num_tasks`` tasks (the finite task distributions of Kirsch et al.)."""
    rng = random.Random(seed)
    return [random_task(rng) for _ in range(num_tasks)]


def random_description(rng: random.Random) -> tuple[str, str]:
    return rng.choice(COLORS), rng.choice(SHAPES)


def shot_line(description: tuple[str, str], label: str) -> tuple[str, str]:
    """One example as (the part to read, the part to predict): ``("red circle ->", " dax\\n")``."""
    return f"{' '.join(description)} ->", f" {label}\n"


def classification_episode(task: Task, lines: int, rng: random.Random, distinct: int | None = None) -> list[tuple[str, bool]]:
    """``lines`` labelled examples of ``task`` as text segments, each marked whether a model should learn to predict it.

    ``distinct``: draw the inputs from only this many descriptions, so that they recur within the
    episode (bursty, as Chan et al. 2022 find in-context learning needs: a recurring input's label
    can be copied from its earlier occurrence, which is how the copying circuit gets started).
    """
    pool = [random_description(rng) for _ in range(distinct)] if distinct else None
    segments = []
    for _ in range(lines):
        description = rng.choice(pool) if pool else random_description(rng)
        read, predict = shot_line(description, task.label(description))
        segments += [(read, False), (predict, True)]
    return segments


def few_shot_prompt(task: Task, shots: int, rng: random.Random) -> tuple[str, str]:
    """A prompt of ``shots`` examples then a query, and the query's correct label."""
    text = "".join(r + p for r, p in (shot_line(d, task.label(d)) for d in (random_description(rng) for _ in range(shots))))
    query = random_description(rng)
    return text + f"{' '.join(query)} ->", task.label(query)


# --- arithmetic ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def digit_tuples(split: str, seed: int = 1234) -> tuple[tuple[int, ...], ...]:
    """All ordered tuples of :data:`OPERANDS` factors of one split: ``"train"`` or ``"heldout"``.

    The split is by multiset: :data:`HELD_OUT_FRACTION` of the sorted tuples (``(2, 3, 3, 9)``) are
    held out with every ordering of theirs, so no reordering of a held-out problem is ever trained on.
    """
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
    multisets = sorted(itertools.combinations_with_replacement(FACTORS, OPERANDS))
    random.Random(seed).shuffle(multisets)
    held = set(multisets[: int(len(multisets) * HELD_OUT_FRACTION)])
    return tuple(t for t in itertools.product(FACTORS, repeat=OPERANDS) if (tuple(sorted(t)) in held) == (split == "heldout"))


@functools.lru_cache(maxsize=1)
def multiplication_facts() -> tuple[tuple[int, int], ...]:
    """Every ``(p, d)`` with ``p`` a product of one to three digits in :data:`FACTORS` and ``d`` a digit:
    each step any chain of thought takes (``18*9``), 792 facts."""
    partial = sorted({math.prod(c) for k in range(1, OPERANDS) for c in itertools.product(FACTORS, repeat=k)})
    return tuple((p, d) for p in partial for d in FACTORS)


def fact_line(fact: tuple[int, int]) -> list[tuple[str, bool]]:
    """One multiplication fact as segments: ``("18*9=", not learnt), ("162\n", learnt)``."""
    p, d = fact
    return [(f"{p}*{d}=", False), (f"{p * d}\n", True)]


def product_problem(digits: tuple[int, ...]) -> str:
    """``"3*4*2*5"``."""
    return "*".join(str(d) for d in digits)


def product(digits: tuple[int, ...]) -> int:
    """The answer to :func:`product_problem`: ``math.prod(digits)``."""
    return math.prod(digits)


def chain_of_thought(digits: tuple[int, ...]) -> str:
    """``"3*4=12, 12*2=24, 24*5=120"``: one multiplication per step, each starting from the last result."""
    steps, total = [], digits[0]
    for d in digits[1:]:
        steps.append(f"{total}*{d}={total * d}")
        total *= d
    return ", ".join(steps)


def arithmetic_line(digits: tuple[int, ...], cot: bool) -> list[tuple[str, bool]]:
    """One problem as segments: the question (not learnt) and the answer, direct or with a chain."""
    if cot:
        return [(product_problem(digits) + ":", False), (" " + chain_of_thought(digits) + "\n", True)]
    return [(product_problem(digits) + "=", False), (f"{product(digits)}\n", True)]


def arithmetic_prompt(digits: tuple[int, ...], cot: bool) -> str:
    return product_problem(digits) + (":" if cot else "=")


def final_number(text: str) -> int | None:
    """The answer in a completion: the number after the last ``=`` of its first line (or the line itself)."""
    line = text.split("\n")[0]
    tail = line.rsplit("=", 1)[-1].strip()
    return int(tail) if tail.isdigit() else None


@dataclass
class EpisodeConfig:
    """The training distribution.

    Attributes:
        lines: labelled examples per classification episode (its shots range from 0 to lines - 1).
        arithmetic_fraction: share of sequences that are arithmetic problems.
        cot_fraction: share of arithmetic problems written with a chain of thought.
        fact_fraction: share of arithmetic lines that are single multiplication facts
            (:func:`multiplication_facts`) instead of four-digit problems.
        num_tasks: None for a fresh task per episode; an int for a fixed pool of that many tasks.
        task_seed: seed of the pool.
        bursty_fraction: share of classification episodes whose inputs come from only
            ``bursty_inputs`` descriptions (see :func:`classification_episode`).
        label_weights: how often each label kind (real, flipped, nonsense) is drawn. Real labels can
            be answered from the words alone, without reading the examples' labels; fewer of them
            push the model towards reading the context.
    """

    lines: int = 12
    arithmetic_fraction: float = 0.3
    cot_fraction: float = 0.5
    fact_fraction: float = 0.0
    num_tasks: int | None = None
    task_seed: int = 0
    label_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    bursty_fraction: float = 0.0
    bursty_inputs: int = 4

    def __post_init__(self):
        if self.lines < 2:
            raise ValueError(f"lines must be >= 2 (an example and a query), got {self.lines}")
        for name in ("arithmetic_fraction", "cot_fraction", "fact_fraction", "bursty_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a fraction in [0, 1], got {getattr(self, name)}")
        if self.num_tasks is not None and self.num_tasks < 1:
            raise ValueError(f"num_tasks must be >= 1 or None (a fresh task per episode), got {self.num_tasks}")


class EpisodeSampler:
    """Draws training sequences (as marked text segments) from an :class:`EpisodeConfig`."""

    def __init__(self, cfg: EpisodeConfig, seed: int = 0):
        self.cfg = cfg
        self.rng = random.Random(seed)
        self.pool = task_pool(cfg.num_tasks, cfg.task_seed) if cfg.num_tasks else None
        self.train_digits = digit_tuples("train")

    def task(self) -> Task:
        return self.rng.choice(self.pool) if self.pool else random_task(self.rng, weights=self.cfg.label_weights)

    def sequence(self, max_chars: int) -> list[tuple[str, bool]]:
        """One training sequence: a classification episode, or arithmetic lines up to ``max_chars``."""
        if self.rng.random() >= self.cfg.arithmetic_fraction:
            bursty = self.rng.random() < self.cfg.bursty_fraction
            return classification_episode(self.task(), self.cfg.lines, self.rng, self.cfg.bursty_inputs if bursty else None)
        segments, length = [], 0
        while True:
            if self.rng.random() < self.cfg.fact_fraction:
                line = fact_line(self.rng.choice(multiplication_facts()))
            else:
                line = arithmetic_line(self.rng.choice(self.train_digits), self.rng.random() < self.cfg.cot_fraction)
            size = sum(len(t) for t, _ in line)
            if segments and length + size > max_chars:
                return segments
            segments += line
            length += size
