"""Choosing the next token from the model's scores (students write it in assignment 02; withheld while grading).

Temperature scaling divides the logits before the softmax (as in Hinton et al. 2015's distillation
softmax; for text, Ackley et al. 1985's Boltzmann sampling); top-k sampling keeps only the k most
likely tokens (Fan, Lewis & Dauphin 2018, "Hierarchical Neural Story Generation"). Temperature 0
is taken to mean greedy decoding (argmax).
"""

from __future__ import annotations

import torch

__all__ = ["next_token_distribution", "sample_next"]


def next_token_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """The distribution the next token is drawn from: ``softmax(logits / temperature)`` over the top k.

    Args:
        logits: (B, V) scores of the next token.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep only the ``top_k`` highest-scoring tokens (ties with the k-th score are kept);
            None keeps all.

    Returns:
        (B, V) probabilities, each row summing to 1, exactly 0 outside the top k.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (got {temperature}); temperature 0 means greedy: use sample_next")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    logits = logits / temperature  # (B, V)
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]  # (B, 1): the k-th best score
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.softmax(logits, dim=-1)  # (B, V)


def sample_next(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Pick one next token per row: the argmax when ``temperature == 0``, else one draw from
    :func:`next_token_distribution` with ``torch.multinomial`` and ``generator``.

    Args:
        logits: (B, V) scores of the next token.
        temperature: 0 for greedy decoding, else > 0.
        top_k: see :func:`next_token_distribution`.
        generator: random generator for reproducible draws.

    Returns:
        (B, 1) int64 token ids.
    """
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)  # (B, 1)
    probs = next_token_distribution(logits, temperature, top_k)  # (B, V)
    return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
