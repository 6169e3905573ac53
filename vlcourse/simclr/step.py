"""One SimCLR optimisation step.

Assignment 01 asks students to write :func:`train_step`, so the grader withholds this file while a
submission runs. Full training runs use vlcourse.training.train instead (same computation, plus a
learning-rate schedule and evaluation), so nothing else depends on this file.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn, optim

__all__ = ["train_step"]


def train_step(
    model: nn.Module, optimizer: optim.Optimizer, x1: Tensor, x2: Tensor, loss_fn: Callable[[Tensor, Tensor], Tensor]
) -> float:
    """One optimisation step on a batch of view pairs; returns the loss as a float.

    Args:
        model: returns ``(h, z)`` for a batch of images (a SimCLRModel).
        optimizer: over ``model``'s parameters.
        x1, x2: the two views, each (B, 1, 8, 8).
        loss_fn: ``loss_fn(z1, z2)`` -> scalar, e.g. ``partial(nt_xent_loss, temperature=0.5)``.
    """
    optimizer.zero_grad()
    _, z1 = model(x1)
    _, z2 = model(x2)
    loss = loss_fn(z1, z2)
    loss.backward()
    optimizer.step()
    return loss.item()
