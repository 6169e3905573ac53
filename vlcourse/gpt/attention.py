"""Causal self-attention: the part of the GPT that students write in assignment 02 (withheld while grading).

Scaled dot-product attention is Vaswani et al. 2017 ("Attention Is All You Need", eq. 1); the causal
mask is what makes a Transformer a left-to-right language model (Radford et al. 2018). Nothing else
in :mod:`vlcourse.gpt` imports this file at import time, so the package keeps working when it is empty.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vlcourse.gpt.config import ATTENTION_KINDS, GPTConfig

__all__ = ["causal_mask", "masked_attention", "CausalSelfAttention"]


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Which keys each query may attend to in causal self-attention.

    Returns:
        Bool tensor (T, T), ``mask[i, j]`` True where query position i may attend to key position j,
        i.e. where ``j <= i`` (lower triangle including the diagonal).
    """
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def masked_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, dropout_p: float = 0.0
) -> torch.Tensor:
    """Scaled dot-product attention with a mask, written out (Vaswani et al. 2017, eq. 1).

    ``softmax(q kᵀ / sqrt(hs))`` over the keys, with disallowed keys set to -inf before the softmax,
    then a weighted average of the values.

    Args:
        q, k, v: (B, nh, T, hs) queries, keys and values.
        mask: bool (T, T), True where attention is allowed (see :func:`causal_mask`); broadcast over
            batch and heads.
        dropout_p: dropout on the attention weights (pass 0 when evaluating).

    Returns:
        (B, nh, T, hs) the attended values.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (B, nh, T, T)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # each row sums to 1 over the allowed keys
    if dropout_p > 0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v  # (B, nh, T, hs)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: every position attends to itself and earlier positions.

    One fused Linear ``c_attn`` makes queries, keys and values for all heads; ``c_proj`` mixes the
    heads' outputs back into the residual stream. ``self.attention`` selects the implementation
    (``"sdpa"`` or ``"explicit"``) and may be changed on a built module.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.attention = config.attention
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        # Not persistent: derived from block_size, so it stays out of state_dict and checkpoints.
        self.register_buffer("mask", causal_mask(config.block_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # each (B, T, C)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        if self.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, nh, T, hs)
        elif self.attention == "explicit":
            y = masked_attention(q, k, v, self.mask[:T, :T], dropout_p=p)  # (B, nh, T, hs)
        else:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, nh * hs) = (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))
