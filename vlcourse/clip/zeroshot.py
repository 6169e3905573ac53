"""Zero-shot classifiers from prompt templates (students write it in assignment 04; withheld while grading)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["zero_shot_classifier"]


def zero_shot_classifier(
    encode_text: Callable[[list[str]], torch.Tensor], classnames: Sequence[str], templates: Sequence[str]
) -> torch.Tensor:
    """One unit-norm text embedding per class, ensembled over prompt templates (Radford et al. 2021, §3.1.4).

    For class ``c`` every template is filled in (``template.format(c)``), the prompts are embedded
    with ``encode_text``, **each** embedding is L2-normalised, the normalised embeddings are averaged
    and the average is normalised again. Classify an image by the cosine similarity of its embedding
    with each row (the argmax of ``normalize(image_features) @ weights.T``).

    Args:
        encode_text: maps a list of K strings to a (K, D) tensor of (unnormalised) text embeddings.
        classnames: C class names.
        templates: T format strings, each with one ``{}`` for the class name.

    Returns:
        (C, D) tensor, row ``c`` the unit-norm embedding of class ``c``.
    """
    rows = []
    for name in classnames:
        prompts = [template.format(name) for template in templates]  # T strings
        embeddings = F.normalize(encode_text(prompts), dim=-1)  # (T, D): each prompt on the unit sphere
        rows.append(F.normalize(embeddings.mean(dim=0), dim=-1))  # (D,): average direction, renormalised
    return torch.stack(rows)  # (C, D)
