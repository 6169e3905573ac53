"""Flamingo's two new modules (Alayrac et al. 2022, "Flamingo: a Visual Language Model for Few-Shot Learning").

* :class:`GatedCrossAttention`: inserted between the frozen LM's blocks, the text tokens attend to
  visual tokens; the result is multiplied by ``tanh(alpha)`` with ``alpha`` initialised at 0, so at
  the start of training the block is the identity and the frozen LM behaves exactly as before.
* :class:`PerceiverResampler`: a fixed number R of learned latent queries cross-attend to however
  many visual features there are (frames x patches), so the LM always receives R visual tokens.
  BLIP-2's Q-Former queries its frozen image encoder in the same way.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GatedCrossAttention(nn.Module):
    """``x + tanh(a_attn) * xattn(LN(x), v)`` then ``x + tanh(a_ffw) * ffw(LN(x))``; gates start at 0.

    Args:
        dim: width of the text stream (and of the visual tokens).
        heads: attention heads (must divide ``dim``).
    """

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.ln_attn = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln_ffw = nn.LayerNorm(dim)
        self.ffw = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.alpha_attn = nn.Parameter(torch.zeros(1))
        self.alpha_ffw = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, visual: Tensor) -> Tensor:
        """x: (B, T, dim) text stream; visual: (B, R, dim) visual tokens. Returns (B, T, dim)."""
        attended, _ = self.attn(self.ln_attn(x), visual, visual, need_weights=False)  # (B, T, dim)
        x = x + torch.tanh(self.alpha_attn) * attended
        return x + torch.tanh(self.alpha_ffw) * self.ffw(self.ln_ffw(x))


class PerceiverResampler(nn.Module):
    """R learned latents attend to [visual features; latents]: any number of inputs -> R tokens.

    Args:
        dim: feature width.
        num_latents: R, the number of output tokens.
        depth: number of (cross-attention, MLP) layers.
        heads: attention heads.
    """

    def __init__(self, dim: int, num_latents: int = 8, depth: int = 2, heads: int = 4):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(num_latents, dim) * 0.02)
        self.layers = nn.ModuleList(
            nn.ModuleDict({"ln_q": nn.LayerNorm(dim), "ln_kv": nn.LayerNorm(dim),
                           "attn": nn.MultiheadAttention(dim, heads, batch_first=True),
                           "ffw": nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.GELU(),
                                                nn.Linear(4 * dim, dim))})
            for _ in range(depth))

    def forward(self, features: Tensor) -> Tensor:
        """features: (B, M, dim) for any M >= 1. Returns (B, R, dim)."""
        b = features.shape[0]
        lat = self.latents.unsqueeze(0).expand(b, -1, -1)  # (B, R, dim)
        for layer in self.layers:
            kv = layer["ln_kv"](torch.cat([features, lat], dim=1))  # (B, M + R, dim)
            attended, _ = layer["attn"](layer["ln_q"](lat), kv, kv, need_weights=False)  # (B, R, dim)
            lat = lat + attended
            lat = lat + layer["ffw"](lat)
        return lat


class FlamingoGPT(nn.Module):
    """The course's frozen GPT with a :class:`GatedCrossAttention` before each of its blocks.

    Only the cross-attention layers (and whatever produces ``visual``) would train.
    """

    def __init__(self, gpt: nn.Module, heads: int = 4):
        super().__init__()
        self.gpt = gpt
        for p in self.gpt.parameters():
            p.requires_grad_(False)
        dim = gpt.config.n_embd
        self.xattn = nn.ModuleList(GatedCrossAttention(dim, heads) for _ in gpt.h)

    def forward(self, idx: Tensor, visual: Tensor) -> Tensor:
        """idx: (B, T) token ids; visual: (B, R, n_embd). Returns logits (B, T, vocab)."""
        g = self.gpt
        pos = torch.arange(idx.shape[1], device=idx.device)  # (T,)
        x = g.drop(g.wte(idx) + g.wpe(pos))  # (B, T, C)
        for xattn, block in zip(self.xattn, g.h):
            x = block(xattn(x, visual))
        return g.lm_head(g.ln_f(x))  # (B, T, V)
