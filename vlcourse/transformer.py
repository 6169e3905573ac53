"""Transformer pieces shared by the course's models: the GPT of assignment 02 and the ViT of MAE (03).

* :class:`BlockConfig`: the four numbers a block needs (width, heads, biases, dropout). Any object
  with the fields ``n_embd``, ``n_head``, ``bias`` and ``dropout`` will do, e.g. a
  :class:`~vlcourse.gpt.GPTConfig`.
* :class:`MLP`: the position-wise feed-forward network, ``C -> 4C -> GELU -> C``.
* :class:`Block`: one pre-LayerNorm Transformer block, ``x + attn(ln_1(x))`` then
  ``x + mlp(ln_2(x))``. Its self-attention is a constructor argument, ``attention_cls(config)``:
  the GPT passes causal attention (assignment 02's, which is withheld while 02 is graded, so this
  module never imports it), the MAE's ViT passes :class:`SelfAttention`.
* :class:`SelfAttention`: multi-head attention in which every position sees every position
  (Vaswani et al. 2017, "Attention Is All You Need"; in a ViT, Dosovitskiy et al. 2021, "An Image is
  Worth 16x16 Words"), computed by PyTorch's fused ``scaled_dot_product_attention``.

Parameter names follow GPT-2's (``ln_1``, ``attn.c_attn``, ``attn.c_proj``, ``ln_2``, ``mlp.c_fc``,
``mlp.c_proj``) and are kept stable: checkpoints are loaded by name. timm's ViT block (used by the
MAE authors) has the same layout under other names: ``norm1``, ``attn.qkv``, ``attn.proj``,
``norm2``, ``mlp.fc1``, ``mlp.fc2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BlockConfig", "MLP", "Block", "SelfAttention"]


@dataclass
class BlockConfig:
    """Size of one Transformer block.

    Attributes:
        n_embd: width of the residual stream (C).
        n_head: attention heads; each has ``n_embd // n_head`` dimensions.
        bias: whether the Linear and LayerNorm layers have biases.
        dropout: dropout on attention weights and residual branches (0 turns it off).
    """

    n_embd: int
    n_head: int
    bias: bool = True
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("n_embd", "n_head"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}; "
                             "each head gets n_embd // n_head dimensions: pick n_embd as a multiple of n_head")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {self.dropout}")


class MLP(nn.Module):
    """Position-wise feed-forward network: C -> 4C -> GELU -> C (GELU as in GPT, Radford et al. 2018)."""

    def __init__(self, config: BlockConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """One Transformer block with LayerNorm before each sub-layer (GPT-2's pre-norm arrangement, also
    the ViT's): ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``.

    Args:
        config: width, heads, biases and dropout (a :class:`BlockConfig` or anything with those fields;
            it is handed on to ``attention_cls``).
        attention_cls: builds the self-attention, ``attention_cls(config)``, a module mapping
            (B, T, C) to (B, T, C) with parameters ``c_attn`` and ``c_proj``.
        eps: the LayerNorms' epsilon (PyTorch's default 1e-5; the MAE authors' ViT uses 1e-6).
    """

    def __init__(self, config, attention_cls: type[nn.Module], eps: float = 1e-5):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=eps, bias=config.bias)
        self.attn = attention_cls(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=eps, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class SelfAttention(nn.Module):
    """Multi-head self-attention without a mask: every position attends to every position.

    One fused Linear ``c_attn`` makes queries, keys and values for all heads (split in that order);
    ``c_proj`` mixes the heads' outputs back into the residual stream. This is the attention of a
    ViT encoder or decoder, where no token is "the future" of another.
    """

    def __init__(self, config: BlockConfig):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        B, T, C = x.shape
        hs = C // self.n_head
        qkv = self.c_attn(x).view(B, T, 3, self.n_head, hs)  # (B, T, 3, nh, hs): q, k, v side by side
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)  # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, nh * hs) = (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))
