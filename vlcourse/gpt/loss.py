"""The language-modelling loss (students write it in assignment 02; withheld while grading)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["lm_loss"]


def lm_loss(logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Language-modelling loss of a sequence on itself: predict ``idx[:, t + 1]`` from ``logits[:, t]``.

    The last position has no next token and the first token is never predicted, so the loss averages
    the cross-entropy over the B * (T - 1) pairs ``(logits[:, :-1], idx[:, 1:])``.

    Args:
        logits: (B, T, V) output of the model on ``idx``.
        idx: (B, T) int64 token ids, T >= 2.

    Returns:
        Scalar mean cross-entropy in nats.
    """
    B, T, V = logits.shape
    if T < 2:
        raise ValueError(f"lm_loss needs sequences of at least 2 tokens (one input, one target), got T={T}")
    pred = logits[:, :-1].reshape(B * (T - 1), V)  # (B*(T-1), V)
    target = idx[:, 1:].reshape(B * (T - 1))  # (B*(T-1),)
    return F.cross_entropy(pred, target)
