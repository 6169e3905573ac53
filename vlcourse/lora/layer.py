"""A linear layer with a low-rank update: what students write in assignment 05 (withheld while grading).

LoRA (Hu, Shen, Wallis, Allen-Zhu, Li, Wang, Wang & Chen 2022, "LoRA: Low-Rank Adaptation of Large
Language Models", https://arxiv.org/abs/2106.09685, eq. 3): keep the pretrained ``W`` frozen and learn
``ΔW = B A`` of rank at most r, so that ``h = W x + (alpha / r) B A x``. ``B`` starts at zero, so the
adapted model starts exactly where the pretrained one is.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["LoRALinear"]


class LoRALinear(nn.Module):
    """``base(x) + B(A(dropout(x))) * alpha / r`` around a frozen ``nn.Linear``.

    Attributes:
        base_layer: the wrapped layer, frozen (weight and bias).
        lora_A: ``nn.Linear(in_features, r, bias=False)``, Kaiming-uniform initialised (a = √5, as
            ``nn.Linear`` itself is).
        lora_B: ``nn.Linear(r, out_features, bias=False)``, initialised to zero.
        scaling: ``alpha / r``.
        merged: whether ``ΔW`` is currently added into ``base_layer.weight``.

    Parameter names (``base_layer.weight``, ``lora_A.weight``, ``lora_B.weight``) are peft's without
    its adapter name; adapter files and the grader rely on them.
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float = 1.0, dropout: float = 0.0):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}")
        if r <= 0:
            raise ValueError(f"r must be a positive integer, got {r}")
        self.base_layer = base
        for param in base.parameters():
            param.requires_grad_(False)
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r
        kwargs = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Linear(base.in_features, r, bias=False, **kwargs)  # weight (r, in)
        self.lora_B = nn.Linear(r, base.out_features, bias=False, **kwargs)  # weight (out, r)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)

    def delta_weight(self) -> torch.Tensor:
        """``ΔW = (alpha / r) B A``, shape (out_features, in_features), like ``base_layer.weight``."""
        return (self.lora_B.weight @ self.lora_A.weight) * self.scaling  # (out, r) @ (r, in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (..., in_features) -> (..., out_features)."""
        out = self.base_layer(x)
        if self.merged:  # ΔW is inside base_layer.weight already
            return out
        return out + self.lora_B(self.lora_A(self.dropout(x))) * self.scaling  # (..., r) -> (..., out)

    @torch.no_grad()
    def merge(self) -> None:
        """Add ΔW into the base weight: one matrix product per layer afterwards, as before adapting."""
        if not self.merged:
            self.base_layer.weight += self.delta_weight()
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Take ΔW back out of the base weight (exactly, up to rounding)."""
        if self.merged:
            self.base_layer.weight -= self.delta_weight()
            self.merged = False

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, merged={self.merged}"
