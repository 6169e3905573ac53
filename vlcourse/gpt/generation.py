"""Autoregressive generation: extend a prompt one token at a time, feeding each choice back in.

The choice of each token is a function argument (``sample_fn``), resolved lazily to the reference
:func:`~vlcourse.gpt.sampling.sample_next`, so generation keeps working while ``sampling.py`` is
withheld and the notebook can generate with the student's own sampler.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def reference_sampler() -> Callable:
    """The reference :func:`~vlcourse.gpt.sampling.sample_next`, imported on first use."""
    try:
        from vlcourse.gpt.sampling import sample_next
    except ImportError as err:
        raise RuntimeError(
            "the reference sample_next is unavailable (withheld while grading): "
            "pass your own, e.g. generate(..., sample_fn=sample_next)"
        ) from err
    return sample_next


@torch.no_grad()
def generate(
    model: nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
    sample_fn: Callable | None = None,
) -> torch.Tensor:
    """Extend ``idx`` by ``max_new_tokens`` tokens, one at a time, each fed back as input.

    Each step reads the last ``block_size`` tokens, takes the logits of the last position, and
    either picks the most likely token (``greedy``) or calls
    ``sample_fn(logits, temperature, top_k, generator)`` (default: the reference
    :func:`~vlcourse.gpt.sampling.sample_next`: a draw from ``softmax(logits / temperature)``
    restricted to the ``top_k`` most likely tokens).

    Args:
        model: a :class:`~vlcourse.gpt.model.GPT` (anything with ``config.block_size`` returning ``(logits, _)``).
        idx: (B, T0) int64 prompt token ids.
        max_new_tokens: tokens to append.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it (ignored if greedy).
        top_k: sample only among the k most likely tokens.
        greedy: argmax decoding (deterministic, needs no sampler).
        generator: random generator for sampling (on the model's device), for reproducible samples.
        sample_fn: ``(logits (B, V), temperature, top_k, generator) -> (B, 1)`` token ids.

    Returns:
        (B, T0 + max_new_tokens) int64: the prompt followed by the generated tokens.
    """
    if not greedy and temperature <= 0:
        raise ValueError(f"temperature must be > 0 (got {temperature}); use greedy=True for argmax decoding")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    if not greedy:
        sample_fn = sample_fn or reference_sampler()
    was_training = model.training
    model.eval()
    block_size = model.config.block_size
    for _ in range(max_new_tokens):
        logits, _ = model(idx[:, -block_size:])  # (B, min(T, block_size), V)
        logits = logits[:, -1, :]  # (B, V): the next-token scores
        if greedy:
            next_id = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
        else:
            next_id = sample_fn(logits, temperature, top_k, generator)  # (B, 1)
        idx = torch.cat([idx, next_id.to(idx.dtype)], dim=1)  # (B, T + 1)
    model.train(was_training)
    return idx
