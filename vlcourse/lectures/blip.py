"""BLIP's pieces on a small scale (Li et al. 2022, "BLIP: Bootstrapping Language-Image Pre-training").

BLIP trains three objectives at once: ITC (the CLIP loss), ITM (a yes/no "do image and text match?"
head, fed with *hard* negatives: texts the ITC model finds similar to the image but that belong to
another image) and LM (captioning). CapFilt then cleans the web data: a captioner writes a synthetic
caption for each web image and a filter (the ITM head) drops web and synthetic texts that do not match.
"""

from __future__ import annotations

import torch
from torch import Tensor


def hard_negative_indices(similarity: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """For each image (row), sample a negative text with probability softmax(similarity) over the
    other texts, as BLIP does for ITM. The diagonal (the true text) is never chosen.

    Args:
        similarity: (B, B) image-text similarities (logits), row i's positive is column i, B >= 2.
        generator: for reproducible sampling.

    Returns:
        (B,) int64 column indices, ``out[i] != i``.
    """
    b = similarity.shape[0]
    if similarity.shape != (b, b) or b < 2:
        raise ValueError(f"expected a square (B, B) matrix with B >= 2, got {tuple(similarity.shape)}")
    logits = similarity.double().masked_fill(torch.eye(b, dtype=torch.bool), float("-inf"))  # (B, B)
    probs = torch.softmax(logits, dim=1)  # (B, B), zero on the diagonal
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)  # (B,)


def capfilt(web_scores: Tensor, synthetic_scores: Tensor, threshold: float) -> tuple[Tensor, Tensor]:
    """CapFilt's filter step: keep each web text and each synthetic caption whose match score
    reaches ``threshold``.

    Args:
        web_scores: (N,) match scores of (image, web text).
        synthetic_scores: (N,) match scores of (image, synthetic caption).
        threshold: the filter's cut-off.

    Returns:
        ``(keep_web, keep_synthetic)``, two (N,) bool tensors; the bootstrapped dataset is the union.
    """
    return web_scores >= threshold, synthetic_scores >= threshold


def attribute_words(caption: str) -> set[str]:
    """The first object's words in a shapes caption (up to the first relation): a crude parser."""
    words = caption.lower().replace(",", " ").split()
    for stop in ("left", "right", "above", "below", "next", "and"):
        if stop in words:
            words = words[:words.index(stop)]
    return set(words)
