"""Fast binding, the way Frozen tests it (Tsimpoukelli et al. 2021, "Multimodal Few-Shot Learning
with Frozen Language Models").

The prompt shows a few images with made-up names ("this is a dax", "this is a blicket"), then a new
image and "this is a ...". Nothing is trained: the model must bind word and picture within one
input. Its simplest form is nearest-neighbour matching of the query to the support images in an
embedding space, which is what :func:`bind_and_answer` does with CLIP image features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def bind_and_answer(support: Tensor, support_words: list[str], queries: Tensor) -> list[str]:
    """Name each query with the word of its most similar support image (cosine similarity).

    Args:
        support: (K, D) features of the support images.
        support_words: K names (any strings: their meaning plays no part).
        queries: (Q, D) features of the query images.

    Returns:
        Q names.
    """
    if support.shape[0] != len(support_words):
        raise ValueError(f"{support.shape[0]} support images but {len(support_words)} words")
    sim = F.normalize(queries, dim=1) @ F.normalize(support, dim=1).T  # (Q, K)
    return [support_words[j] for j in sim.argmax(dim=1).tolist()]


def episode_accuracy(features: Tensor, labels: Tensor, words: tuple[str, ...], shots: int, episodes: int,
                     seed: int = 0) -> float:
    """Mean accuracy of :func:`bind_and_answer` over random episodes.

    Each episode draws ``len(words)`` classes from ``labels``, gives each a word from ``words`` and
    ``shots`` support images, and asks about one new image of each class.
    """
    gen = torch.Generator().manual_seed(seed)
    classes = labels.unique()
    hits, total = 0, 0
    for _ in range(episodes):
        chosen = classes[torch.randperm(len(classes), generator=gen)[:len(words)]]
        sup, sup_words, qry, qry_words = [], [], [], []
        for word, c in zip(words, chosen):
            idx = (labels == c).nonzero().squeeze(1)
            idx = idx[torch.randperm(len(idx), generator=gen)[:shots + 1]]
            sup.append(features[idx[:shots]])
            sup_words += [word] * shots
            qry.append(features[idx[shots:]])
            qry_words += [word]
        answers = bind_and_answer(torch.cat(sup), sup_words, torch.cat(qry))
        hits += sum(a == w for a, w in zip(answers, qry_words))
        total += len(qry_words)
    return hits / total
