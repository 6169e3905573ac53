"""Questions about shapes images, a blind baseline and balancing (VQA v1 -> v2).

VQA (Antol et al. 2015) asks free-form questions about images. Goyal et al. 2017 ("Making the V in
VQA Matter") showed that a model that never looks at the image answers many of them from language
priors alone ("is there a ...?" -> "yes"; "what colour are bananas?" -> "yellow"). VQA v2 pairs each
question with a complementary image whose answer differs, so the question alone no longer tells.

:func:`make_questions` asks three kinds of question about shapes images, either the way people
tend to ask (``balanced=False``: yes/no questions mostly about objects that are there; colour
questions mostly about objects in their "typical" colour) or balanced.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from vlcourse.data.shapes import ShapesData

TYPICAL_COLOR = {"circle": "red", "square": "blue", "triangle": "green", "diamond": "yellow", "cross": "purple"}


@dataclass(frozen=True)
class Question:
    """One question about image ``image``: its kind, text and true answer."""

    image: int
    kind: str
    text: str
    answer: str


def _present(objs: list[dict]) -> set[tuple[str, str]]:
    return {(o["color"], o["shape"]) for o in objs}


def make_questions(data: ShapesData, num: int, balanced: bool, seed: int = 0) -> list[Question]:
    """``num`` questions about random images of ``data`` (kinds: "exists", "color", "count").

    Unbalanced: 85 % of "is there a C S?" questions name an object that is present, and a colour
    question about a shape is kept with probability 1 if the shape has its typical colour, else 0.15.
    Balanced: yes and no equally likely; colour questions kept whatever the colour.
    """
    rng = np.random.default_rng(seed)
    colors, shapes = data.vocab["color"], data.vocab["shape"]
    out: list[Question] = []
    while len(out) < num:
        i = int(rng.integers(len(data)))
        objs = data.objects[i]
        kind = ("exists", "color", "count")[int(rng.integers(3))]
        if kind == "count":
            n = len(objs)
            out.append(Question(i, kind, "how many objects are there?", str(n)))
        elif kind == "color":
            main = objs[0]
            if not balanced and main["color"] != TYPICAL_COLOR.get(main["shape"]) and rng.random() > 0.15:
                continue
            out.append(Question(i, kind, f"what color is the {main['shape']}?", main["color"]))
        else:
            p_yes = 0.5 if balanced else 0.85
            present = _present(objs)
            if rng.random() < p_yes:
                c, s = sorted(present)[int(rng.integers(len(present)))]
                answer = "yes"
            else:
                absent = [(c, s) for c in colors for s in shapes if (c, s) not in present]
                c, s = absent[int(rng.integers(len(absent)))]
                answer = "no"
            out.append(Question(i, kind, f"is there a {c} {s}?", answer))
    return out


class BlindBaseline:
    """Answers from the question text alone: the most frequent training answer for that exact
    question, else the most frequent answer for its kind."""

    def fit(self, questions: list[Question]) -> BlindBaseline:
        by_text: dict[str, Counter] = defaultdict(Counter)
        by_kind: dict[str, Counter] = defaultdict(Counter)
        for q in questions:
            by_text[q.text][q.answer] += 1
            by_kind[q.kind][q.answer] += 1
        self.by_text = {t: c.most_common(1)[0][0] for t, c in by_text.items()}
        self.by_kind = {k: c.most_common(1)[0][0] for k, c in by_kind.items()}
        return self

    def predict(self, q: Question) -> str:
        return self.by_text.get(q.text, self.by_kind.get(q.kind, ""))


def accuracy_by_kind(model: BlindBaseline, questions: list[Question]) -> dict[str, float]:
    """Accuracy per question kind and overall (key ``"all"``)."""
    hits: dict[str, list[bool]] = defaultdict(list)
    for q in questions:
        ok = model.predict(q) == q.answer
        hits[q.kind].append(ok)
        hits["all"].append(ok)
    return {k: float(np.mean(v)) for k, v in sorted(hits.items())}
