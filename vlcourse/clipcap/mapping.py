"""ClipCap's two mapping networks (students write them in assignment 04; withheld while grading)."""

from __future__ import annotations

import torch
from torch import nn

from vlcourse.clipcap.config import MapperConfig
from vlcourse.transformer import Block, BlockConfig, SelfAttention

__all__ = ["MLPMapper", "TransformerMapper"]


class MLPMapper(nn.Module):
    """ClipCap's MLP mapping network: CLIP embedding -> hidden (tanh) -> P prefix embeddings.

    Parameters: ``fc1`` = Linear(clip_dim, mlp_hidden), ``fc2`` = Linear(mlp_hidden, prefix_length * lm_dim).
    """

    def __init__(self, config: MapperConfig):
        super().__init__()
        self.config = config
        self.fc1 = nn.Linear(config.clip_dim, config.mlp_hidden)
        self.fc2 = nn.Linear(config.mlp_hidden, config.prefix_length * config.lm_dim)

    def forward(self, clip_embed: torch.Tensor) -> torch.Tensor:
        """clip_embed (B, clip_dim) -> prefix (B, prefix_length, lm_dim)."""
        B = clip_embed.shape[0]
        h = torch.tanh(self.fc1(clip_embed))  # (B, hidden)
        return self.fc2(h).view(B, self.config.prefix_length, self.config.lm_dim)  # (B, P, C)


class TransformerMapper(nn.Module):
    """ClipCap's transformer mapping network.

    The CLIP embedding becomes ``clip_length`` tokens (``linear``, reshaped); ``prefix_length`` learnt
    constant tokens (``prefix_const``) follow them; ``num_layers`` unmasked Transformer blocks
    (``blocks``, the course's :class:`~vlcourse.transformer.Block` with
    :class:`~vlcourse.transformer.SelfAttention`) let the constants read the CLIP tokens; the outputs
    at the constants' positions are the prefix.

    Parameters: ``linear`` = Linear(clip_dim, clip_length * lm_dim); ``prefix_const`` (prefix_length,
    lm_dim), initialised from N(0, 1); ``blocks`` = ModuleList of Block(BlockConfig(lm_dim, num_heads), SelfAttention).
    """

    def __init__(self, config: MapperConfig):
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.clip_dim, config.clip_length * config.lm_dim)
        self.prefix_const = nn.Parameter(torch.randn(config.prefix_length, config.lm_dim))
        block = BlockConfig(n_embd=config.lm_dim, n_head=config.num_heads)
        self.blocks = nn.ModuleList(Block(block, SelfAttention) for _ in range(config.num_layers))

    def forward(self, clip_embed: torch.Tensor) -> torch.Tensor:
        """clip_embed (B, clip_dim) -> prefix (B, prefix_length, lm_dim)."""
        B = clip_embed.shape[0]
        c = self.config
        x = self.linear(clip_embed).view(B, c.clip_length, c.lm_dim)  # (B, K, C)
        const = self.prefix_const.unsqueeze(0).expand(B, c.prefix_length, c.lm_dim)  # (B, P, C)
        x = torch.cat([x, const], dim=1)  # (B, K + P, C)
        for block in self.blocks:
            x = block(x)
        return x[:, c.clip_length:]  # (B, P, C): the constants' positions
