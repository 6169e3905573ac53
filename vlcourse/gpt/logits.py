"""Logits of a batch of token rows of different lengths, in one forward pass of a GPT.

Used by the endpoint (:mod:`vlcourse.serve`) and by the in-context-learning model's measurements
(:mod:`vlcourse.icl.train`); living with the GPT keeps those two packages independent of each other.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["last_logits", "all_logprobs"]


@torch.no_grad()
def last_logits(model: nn.Module, rows: list[list[int]]) -> torch.Tensor:
    """Next-token logits after each row of token ids, all rows in one forward pass.

    Rows of different lengths are padded on the right: attention is causal, so padding after a
    row's last token cannot change that token's logits (no attention mask needed).

    Args:
        rows: B lists of token ids, each 1..block_size long.

    Returns:
        (B, V) float32 logits of the token that follows each row.
    """
    lengths = torch.tensor([len(r) for r in rows])  # (B,)
    x = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)  # (B, T)
    for i, row in enumerate(rows):
        x[i, : len(row)] = torch.tensor(row)
    logits, _ = model(x)  # (B, T, V)
    return logits[torch.arange(len(rows)), lengths - 1].float()  # (B, V)


@torch.no_grad()
def all_logprobs(model: nn.Module, rows: list[list[int]]) -> list[torch.Tensor]:
    """Log-probabilities of every next token along each row (for ``echo`` and scoring).

    Returns:
        B tensors, the i-th (len(rows[i]), V): entry t is the distribution after ``rows[i][:t+1]``.
    """
    lengths = [len(r) for r in rows]
    x = torch.zeros(len(rows), max(lengths), dtype=torch.long)  # (B, T)
    for i, row in enumerate(rows):
        x[i, : len(row)] = torch.tensor(row)
    logits, _ = model(x)  # (B, T, V)
    logp = torch.log_softmax(logits.float(), dim=-1)  # (B, T, V)
    return [logp[i, :n] for i, n in enumerate(lengths)]
