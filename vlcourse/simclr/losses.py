"""SimCLR's objectives: cosine similarity, NT-Xent, the alignment-only loss and the collapse metric.

Assignment 01 asks students to write every function in this file, so the grader withholds the
file while a submission runs (its sandbox replaces it with an empty one). Nothing else in
vlcourse.simclr may therefore *need* these functions at import time: other modules look them up
only when called, and skip what is missing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["pairwise_cosine_similarity", "nt_xent_loss", "alignment_only_loss", "embedding_std"]

COSINE_EPS = 1e-8


def _l2_normalize(x: Tensor, eps: float = COSINE_EPS) -> Tensor:
    """Rows divided by their L2 norm; rows shorter than ``eps`` are divided by ``eps`` (stay ~0)."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)


def _check_pair_batch(z1: Tensor, z2: Tensor, name: str) -> None:
    if z1.ndim != 2 or z2.ndim != 2:
        raise ValueError(
            f"{name} expects z1 and z2 of shape (N, D); got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )
    if z1.shape != z2.shape:
        raise ValueError(
            f"{name}: z1 and z2 must have the same shape (row i of each is one positive pair); "
            f"got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )


def pairwise_cosine_similarity(a: Tensor, b: Tensor, eps: float = COSINE_EPS) -> Tensor:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    ``sim[i, j] = <a_i, b_j> / (max(|a_i|, eps) * max(|b_j|, eps))``: a zero vector has
    similarity 0 with everything instead of producing NaN.

    Args:
        a: shape (N, D).
        b: shape (M, D).

    Returns:
        similarities, shape (N, M), values in [-1, 1].
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected a: (N, D) and b: (M, D) with the same D; got {tuple(a.shape)} and {tuple(b.shape)}")
    return _l2_normalize(a, eps) @ _l2_normalize(b, eps).T


def nt_xent_loss(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, eq. 1).

    The N pairs give 2N views. Each view is an anchor: its positive is the other view of the same
    image, its negatives are the remaining 2N - 2 views. With cosine similarities ``s`` and
    temperature τ, the anchor's loss is a softmax cross-entropy over the 2N - 1 other views::

        l(i, j) = -log( exp(s_ij / τ) / Σ_{k ≠ i} exp(s_ik / τ) )

    Self-similarities (always 1) are removed by setting those logits to -inf before the softmax.
    The result is the mean over all 2N anchors, as in the paper's definition and in lightly's
    ``NTXentLoss``. (The official TensorFlow code in google-research/simclr adds the two
    directions' means, so it reports twice this value.)

    Args:
        z1: projections of the first views, shape (N, D), N >= 2.
        z2: projections of the second views, shape (N, D); row i pairs with row i of ``z1``.
        temperature: τ > 0.

    Returns:
        scalar loss. For features unrelated to the pairing it is about ln(2N - 1).
    """
    _check_pair_batch(z1, z2, "nt_xent_loss")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = z1.shape[0]
    if n < 2:
        raise ValueError("nt_xent_loss needs at least 2 pairs: the other images are the negatives")
    z = torch.cat([z1, z2], dim=0)  # (2N, D)
    logits = pairwise_cosine_similarity(z, z) / temperature  # (2N, 2N)
    self_pairs = torch.eye(2 * n, dtype=torch.bool, device=z.device)  # (2N, 2N)
    logits = logits.masked_fill(self_pairs, float("-inf"))
    positive = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # (2N,): i <-> i + N
    return F.cross_entropy(logits, positive)


def alignment_only_loss(z1: Tensor, z2: Tensor) -> Tensor:
    """Minus the mean cosine similarity of the positive pairs: "only increase the diagonal".

    The naive objective without negatives. Mapping every image to the same vector makes it
    -1, its minimum, so training with it collapses (watch :func:`embedding_std` go to 0).

    Args:
        z1, z2: shape (N, D), row i of each is one positive pair.

    Returns:
        scalar in [-1, 1].
    """
    _check_pair_batch(z1, z2, "alignment_only_loss")
    cosine = (_l2_normalize(z1) * _l2_normalize(z2)).sum(dim=1)  # (N,)
    return -cosine.mean()


def embedding_std(z: Tensor) -> Tensor:
    """Collapse metric: mean over dimensions of the std (over the batch) of L2-normalised rows.

    Normalisation puts every row on the unit sphere, so the metric ignores scale. If all rows are
    the same vector (collapse) it is 0. If rows are spread evenly over the sphere in D dimensions
    each coordinate has variance 1/D, so the metric is about 1/sqrt(D). Values well below
    1/sqrt(D) mean the embeddings occupy only a few directions (dimensional collapse). SimSiam
    (Chen & He 2021, Figure 2) uses it to show collapse.

    Args:
        z: shape (N, D), N >= 2.

    Returns:
        scalar tensor (the unbiased std over the N rows, averaged over the D dimensions).
    """
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"embedding_std expects shape (N, D) with N >= 2, got {tuple(z.shape)}")
    return _l2_normalize(z).std(dim=0).mean()
