"""The one training loop every topic uses.

A topic supplies a ``loss_fn(model, batch) -> scalar tensor`` and an iterator of batches; the loop
adds what every run needs: AdamW-style optimiser stepping, a warm-up + cosine learning-rate schedule,
gradient clipping, periodic evaluation, a tqdm progress bar and a history for plots. Under torchrun
it trains a DDP copy of the model on each rank's share of the global batch (:mod:`vlcourse.distributed`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from vlcourse.distributed import mean_over_ranks, shard, world, wrap

STEP_LIMIT_ENV = "VLCOURSE_MAX_STEPS"  # a dry run: every training loop stops after this many steps


@dataclass
class TrainConfig:
    """Settings of :func:`train`.

    Attributes:
        steps: optimiser steps to take.
        lr: peak learning rate.
        min_lr: learning rate reached at the end of the cosine decay.
        warmup_steps: linear warm-up steps from 0 to ``lr``.
        weight_decay: decoupled weight decay (AdamW).
        grad_clip: clip the global gradient norm to this value; ``None`` disables clipping.
        eval_every: run ``evaluate`` every this many steps (and after the last); 0 disables.
        progress: show a tqdm progress bar.
    """

    steps: int = 100
    lr: float = 1e-3
    min_lr: float = 0.0
    warmup_steps: int = 0
    weight_decay: float = 0.0
    grad_clip: float | None = None
    eval_every: int = 0
    progress: bool = True

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if self.lr <= 0 or self.min_lr < 0 or self.min_lr > self.lr:
            raise ValueError(f"need 0 <= min_lr <= lr and lr > 0, got lr={self.lr}, min_lr={self.min_lr}")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must lie in [0, steps={self.steps}], got {self.warmup_steps}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ValueError("grad_clip must be positive, or None to disable clipping")
        if self.eval_every < 0:
            raise ValueError("eval_every must be >= 0 (0 disables evaluation)")


def limited(cfg: TrainConfig) -> TrainConfig:
    """``cfg`` with at most ``$VLCOURSE_MAX_STEPS`` steps (a dry run of a long recipe); unchanged without it."""
    limit = os.environ.get(STEP_LIMIT_ENV)
    if not limit or cfg.steps <= int(limit):
        return cfg
    steps = max(1, int(limit))
    return dataclasses.replace(cfg, steps=steps, warmup_steps=min(cfg.warmup_steps, steps),
                               eval_every=min(cfg.eval_every, steps) if cfg.eval_every else 0)


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``cfg.lr`` then cosine decay to ``cfg.min_lr`` (SGDR, Loshchilov & Hutter 2017)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


@dataclass
class History:
    """What a run recorded: the training loss per step and evaluation metrics per evaluation."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    evals: list[dict] = field(default_factory=list)  # each: {"step": int, **metrics}

    def last_eval(self) -> dict:
        return self.evals[-1] if self.evals else {}


def train(
    model: torch.nn.Module,
    batches: Iterator,
    loss_fn: Callable[[torch.nn.Module, object], torch.Tensor],
    cfg: TrainConfig,
    evaluate: Callable[[], dict] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    desc: str = "train",
) -> History:
    """Train ``model`` for ``cfg.steps`` steps on ``batches`` and return the :class:`History`.

    Under torchrun, each rank trains a DDP copy of ``model`` on its share of every batch (``batches``
    yields the global batch on every rank) and the history holds the global batch's loss.

    Args:
        model: the module to train (put in train mode; evaluation calls are wrapped in ``no_grad``).
        batches: an iterator yielding one batch per step (it must not run out before ``cfg.steps``).
        loss_fn: ``loss_fn(model, batch)`` returning a scalar loss tensor (a mean over the batch).
        cfg: the schedule and loop settings.
        evaluate: called every ``cfg.eval_every`` steps and after the last; returns metrics.
        optimizer: defaults to AdamW over ``model.parameters()`` with ``cfg.weight_decay``.
        desc: label of the progress bar.
    """
    cfg = limited(cfg)
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    trained = wrap(model)  # DDP under torchrun, else the model itself
    history = History()
    bar = tqdm(range(cfg.steps), desc=desc, disable=not cfg.progress or not world().is_main, leave=False)
    for step in bar:
        lr = learning_rate(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        loss = loss_fn(trained, shard(next(batches)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        history.loss.append(mean_over_ranks(loss.item()))
        history.lr.append(lr)
        bar.set_postfix(loss=f"{history.loss[-1]:.4f}")
        last = step == cfg.steps - 1
        if evaluate is not None and cfg.eval_every and ((step + 1) % cfg.eval_every == 0 or last):
            model.eval()
            with torch.no_grad():
                metrics = evaluate()
            history.evals.append({"step": step + 1, **metrics})
    bar.close()
    return history
