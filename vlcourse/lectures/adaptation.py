"""Adapting a frozen model through its input: one learned prompt versus input-dependent prompts.

Visual prompting (Bahng et al. 2022) learns one additive pattern for all inputs of a frozen vision
model. PGN (Loedeman et al. 2022, "Prompt Generation Networks for Input-Space Adaptation of Frozen
Vision Transformers") instead trains a small network that *generates* a prompt for each input. The
demo freezes a digit classifier, shows it inverted digits (``1 - x``) and adapts it through the
input only: one additive pattern cannot undo an inversion (it would have to depend on x), a
generated prompt ``g(x)`` can (``g(x) = 2x - 1`` would be exact).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class FixedPrompt(nn.Module):
    """One learned additive pattern for every input: ``x + p``; x: (B, P) -> (B, P)."""

    def __init__(self, dim: int):
        super().__init__()
        self.prompt = nn.Parameter(torch.zeros(dim))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.prompt


class PromptGenerator(nn.Module):
    """A PGN-style generator: ``x + g(x)`` with g a small bottleneck MLP whose output layer starts at 0."""

    def __init__(self, dim: int, hidden: int = 16):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, dim))
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.net(x)  # (B, P)


def train_classifier(x: Tensor, y: Tensor, steps: int, seed: int = 0) -> nn.Module:
    """A small MLP classifier on flat inputs (B, P) -> (B, 10), trained then frozen."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def adapt(frozen: nn.Module, prompter: nn.Module, x: Tensor, y: Tensor, steps: int, lr: float = 1e-2) -> nn.Module:
    """Train only ``prompter`` so that ``frozen(prompter(x))`` classifies (x, y)."""
    opt = torch.optim.Adam(prompter.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(frozen(prompter(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return prompter


@torch.no_grad()
def accuracy(model: Callable[[Tensor], Tensor], x: Tensor, y: Tensor) -> float:
    """Top-1 accuracy of ``model(x)`` (B, 10) logits against y (B,)."""
    return (model(x).argmax(1) == y).float().mean().item()
