"""ClipCap's forward pass: prefix, caption, loss on the caption (students write it; withheld while grading)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ClipCap"]


class ClipCap(nn.Module):
    """A mapping network and a **frozen** language model (Mokady et al. 2021).

    Args:
        mapper: CLIP embedding (B, clip_dim) -> prefix (B, P, C).
        lm: a :class:`~vlcourse.clipcap.lm.CaptionLM`: ``lm.embed(tokens)`` (B, T) -> (B, T, C) and
            ``lm.forward_embeds(x)`` (B, L, C) -> logits (B, L, V). Its parameters are frozen here
            (``requires_grad`` off) so that training changes the mapper only.
    """

    def __init__(self, mapper: nn.Module, lm: nn.Module):
        super().__init__()
        self.mapper = mapper
        self.lm = lm
        self.lm.requires_grad_(False)  # frozen: only the mapper learns
        self.lm.eval()

    def forward(self, clip_embed: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor):
        """Logits of ``[prefix, caption]`` and the cross-entropy of the caption tokens only.

        Args:
            clip_embed: (B, clip_dim) CLIP image embeddings.
            tokens: (B, T) int64 caption token ids (the caption, its end token, then padding).
            mask: (B, T) 1 for real tokens (to be predicted), 0 for padding.

        Returns:
            ``(logits (B, P + T, V), loss)``: the loss averages over the tokens with ``mask == 1`` the
            cross-entropy of token ``t`` given the logits at position ``P + t - 1`` (the last prefix
            position predicts the first caption token); prefix positions are never targets.
        """
        prefix = self.mapper(clip_embed)  # (B, P, C)
        P, T = prefix.shape[1], tokens.shape[1]
        x = torch.cat([prefix, self.lm.embed(tokens)], dim=1)  # (B, P + T, C)
        logits = self.lm.forward_embeds(x)  # (B, P + T, V)
        pred = logits[:, P - 1:P + T - 1]  # (B, T, V): position P - 1 + t predicts token t
        V = pred.shape[-1]
        nll = F.cross_entropy(pred.reshape(-1, V), tokens.reshape(-1), reduction="none").view_as(tokens)  # (B, T)
        weights = mask.to(nll.dtype)
        return logits, (nll * weights).sum() / weights.sum()
