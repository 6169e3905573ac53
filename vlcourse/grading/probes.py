"""Small helpers that hidden tests run *inside* the student runner.

They only arrange calls (build a module, take gradients); their results are untrusted like
everything else from the runner and are checked against the reference on the grader's side.
"""

from __future__ import annotations

import importlib

import torch


def value_and_grad(fn, args: list, kwargs: dict, wrt: list[int]):
    """``fn(*args, **kwargs)`` and the gradients of its (summed) value w.r.t. ``args[i]`` for i in ``wrt``.

    Returns:
        ``(value, [grad_i ...])``; a missing gradient comes back as ``None``.
    """
    args = list(args)
    for i in wrt:
        args[i] = args[i].detach().clone().requires_grad_(True)
    value = fn(*args, **kwargs)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(value).__name__}")
    grads = torch.autograd.grad(value.sum(), [args[i] for i in wrt], allow_unused=True)
    return value.detach(), [None if g is None else g.detach() for g in grads]


def build_module(class_path: str, config_path: str, config: dict, state_dict: dict | None = None):
    """``Class(Config(**config))`` with ``state_dict`` loaded, e.g. a reference model to drive."""
    module_cls = _import(class_path)
    config_cls = _import(config_path)
    module = module_cls(config_cls(**config))
    if state_dict is not None:
        module.load_state_dict(state_dict)
    return module


def pair_mse_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """A simple stand-in pair loss for testing a training step independently of the student's loss."""
    return ((z1 - z2) ** 2).mean() + 0.1 * z1.pow(2).mean()


def _import(dotted: str):
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)
