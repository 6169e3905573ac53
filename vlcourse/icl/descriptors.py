"""Classification by descriptions (assignment 06; withheld while grading).

Menon & Vondrick (2023, "Visual Classification via Description from Large Language Models") ask a
language model what a class looks like ("a bird: a beak, feathers, two legs, ...") and score an
image against each *descriptor* instead of against the class name alone: a class's score is the
mean CLIP similarity over its descriptors, and the descriptors with the highest similarity say why
the image got its class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F

__all__ = ["classify_by_descriptions"]


def classify_by_descriptions(image_embeddings: torch.Tensor, encode_text: Callable[[list[str]], torch.Tensor],
                             descriptors: Mapping[str, Sequence[str]]) -> torch.Tensor:
    """Scores of N images against C classes: the **mean** cosine similarity over each class's descriptors.

    ``scores[i, c] = mean_j cos(image_i, text(descriptors[c][j]))``, with the image and every
    descriptor embedding L2-normalised; classes in the order of ``descriptors``. (Averaging the
    similarities is not the same as comparing with the average embedding, as a prompt ensemble does.)

    Args:
        image_embeddings: (N, D) CLIP image embeddings (unnormalised); not modified.
        encode_text: maps a list of K strings to a (K, D) tensor of CLIP text embeddings.
        descriptors: class name -> one or more descriptions (an empty list: ``ValueError``).

    Returns:
        (N, C) float tensor; ``scores.argmax(1)`` is the predicted class index.
    """
    images = F.normalize(image_embeddings.float(), dim=-1)  # (N, D)
    columns = []
    for name, texts in descriptors.items():
        if len(texts) == 0:
            raise ValueError(f"class {name!r} has no descriptors")
        text = F.normalize(encode_text(list(texts)).float(), dim=-1)  # (K_c, D)
        columns.append((images @ text.T).mean(dim=1))  # (N,): mean over the class's descriptors
    return torch.stack(columns, dim=1)  # (N, C)
