"""Caption quality: BLEU-4 and CIDEr (pycocoevalcap's scorers) and attributes read back from captions."""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch

__all__ = ["caption_scores", "parse_main_object", "attribute_accuracy"]

_OBJECT = re.compile(r"^(?:there is |a picture of |an image with )?a (\w+) (\w+) (\w+)")


def caption_scores(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> dict[str, float]:
    """Corpus BLEU-4 (Papineni et al. 2002) and CIDEr-D (Vedantam et al. 2015) of generated captions.

    pycocoevalcap's pure-Python scorers (the COCO caption evaluation); captions are lower-cased and
    split on spaces (the shapes vocabulary has no punctuation, so the Java PTB tokenizer is not needed).

    Args:
        predictions: one caption per image.
        references: per image, one or more reference captions.

    Returns:
        ``{"bleu4": ..., "cider": ...}``; BLEU in [0, 1], CIDEr about 0 to 10 (higher is better).
    """
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider

    if len(predictions) != len(references) or not predictions:
        raise ValueError(f"need one list of references per prediction, got {len(predictions)} and {len(references)}")
    res = {i: [" ".join(p.lower().split()) or "<empty>"] for i, p in enumerate(predictions)}
    gts = {i: [" ".join(r.lower().split()) for r in refs] for i, refs in enumerate(references)}
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    cider, _ = Cider().compute_score(gts, res)
    return {"bleu4": float(bleu[3]), "cider": float(cider)}


def parse_main_object(caption: str) -> dict[str, str] | None:
    """The first object a caption names, ``{"size", "color", "shape"}``, or None if it names none."""
    match = _OBJECT.match(caption.strip().lower())
    if match is None:
        return None
    return dict(zip(("size", "color", "shape"), match.groups()))


def attribute_accuracy(
    captions: Sequence[str], labels: dict[str, torch.Tensor], vocab: dict[str, list[str]],
    attributes: Sequence[str] = ("shape", "color", "size"),
) -> dict[str, float]:
    """Fraction of captions whose first-named object has the image's main-object attribute.

    (Canonical captions name the main object first; a caption that names no object is wrong.)
    """
    parsed = [parse_main_object(c) for c in captions]
    out = {}
    for attr in attributes:
        truth = [vocab[attr][int(i)] for i in labels[attr]]
        out[attr] = sum(p is not None and p[attr] == t for p, t in zip(parsed, truth)) / max(1, len(captions))
    return out
