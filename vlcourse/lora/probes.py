"""Small helpers that assignment 05's hidden tests run *inside* the student runner.

Like :mod:`vlcourse.grading.suite.probes` they only arrange calls (build a LoRA layer around given weights,
inject adapters into a GPT with the student's function, take gradients); their results are untrusted
like everything else from the runner and are checked against the reference on the grader's side.
"""

from __future__ import annotations

import torch
from torch import nn

from vlcourse.gpt.config import GPTConfig
from vlcourse.gpt.model import GPT
from vlcourse.grading.suite.probes import error_name, load_state  # noqa: F401  (error_name: 05's tests name it here)

__all__ = ["build_lora_linear", "injected_gpt", "state_of", "trainable_names", "grads_after_backward", "first_output"]


def build_lora_linear(lora_cls, weight: torch.Tensor, bias: torch.Tensor | None, r: int, alpha: float,
                      dropout: float = 0.0, seed: int = 0) -> nn.Module:
    """``lora_cls(base, r, alpha, dropout)`` around an ``nn.Linear`` holding ``weight`` (out, in) and ``bias``.

    The layer is built after ``torch.manual_seed(seed)`` and in ``weight``'s dtype.
    """
    out_features, in_features = weight.shape
    base = nn.Linear(in_features, out_features, bias=bias is not None, dtype=weight.dtype)
    with torch.no_grad():
        base.weight.copy_(weight)
        if bias is not None:
            base.bias.copy_(bias)
    torch.manual_seed(seed)
    return lora_cls(base, r, alpha, dropout)


def injected_gpt(inject_fn, config: dict, base_state: dict, target_modules: list[str], r: int, alpha: float,
                 dropout: float = 0.0, dtype: str = "float64", seed: int = 0) -> nn.Module:
    """A GPT of ``config`` with ``base_state`` loaded, cast to ``dtype``, then ``inject_fn(model, targets, r, alpha, dropout)``.

    Returns whatever ``inject_fn`` returns (the contract: the model itself), in eval mode.
    """
    model = GPT(GPTConfig(**config)).to(getattr(torch, dtype))
    load_state(model, base_state, allow_missing_buffers=True)
    torch.manual_seed(seed)
    model = inject_fn(model, tuple(target_modules), r, alpha, dropout)
    if not isinstance(model, nn.Module):
        raise TypeError(f"inject_lora should return the model, got {type(model).__name__}")
    return model.eval()


def state_of(module: nn.Module) -> dict[str, torch.Tensor]:
    """Detached copies of ``module.state_dict()`` (tied tensors under each of their names)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def trainable_names(module: nn.Module) -> list[str]:
    """Names of the parameters that require gradients (a tied tensor under its first name)."""
    return sorted(n for n, p in module.named_parameters() if p.requires_grad)


def first_output(module: nn.Module, args: list):
    """``module(*args)``, or its first element when it returns a tuple (the GPT's ``(logits, loss)``), detached."""
    out = module(*args)
    out = out[0] if isinstance(out, (tuple, list)) else out
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(out).__name__}")
    return out.detach()


def grads_after_backward(module: nn.Module, args: list, out_weight: torch.Tensor, train: bool = False):
    """Backpropagate ``(first_output * out_weight).sum()`` through ``module`` with ``.backward()``.

    Every parameter's ``.grad`` is cleared first; frozen ones must stay without a gradient.

    Returns:
        ``(output, {parameter name: grad or None})`` over all parameters, frozen ones included.
    """
    module.train(train)
    for param in module.parameters():
        param.grad = None
    args = [a.detach().clone().requires_grad_(True) if isinstance(a, torch.Tensor) and a.is_floating_point() else a
            for a in args]
    out = module(*args)
    out = out[0] if isinstance(out, (tuple, list)) else out
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(out).__name__}")
    (out * out_weight).sum().backward()
    grads = {n: None if p.grad is None else p.grad.detach().clone() for n, p in module.named_parameters()}
    module.eval()
    return out.detach(), grads


def merge_sequence(layer: nn.Module, x: torch.Tensor) -> dict:
    """Drive ``merge`` / ``unmerge`` and record outputs and weights after each step.

    Returns:
        ``{"out": ..., "w0": ..., "merged_out", "merged_w", "twice_out", "twice_w", "unmerged_out",
        "unmerged_w", "again_w"}``: outputs on ``x`` and ``base_layer.weight`` at the start, after
        ``merge()``, after a second ``merge()``, after ``unmerge()`` and after a second ``unmerge()``.
    """
    layer.eval()
    result = {}
    with torch.no_grad():
        def record(tag):
            result[f"{tag}_out"] = first_output(layer, [x])
            result[f"{tag}_w"] = layer.base_layer.weight.detach().clone()
        record("start")
        layer.merge()
        record("merged")
        layer.merge()
        record("twice")
        layer.unmerge()
        record("unmerged")
        layer.unmerge()
        record("again")
    return result


def gpt_for_counting(config: dict, trainable_prefixes: list[str], dtype: str = "float32") -> nn.Module:
    """A GPT in which only the parameters whose names start with one of ``trainable_prefixes`` train."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(**config)).to(getattr(torch, dtype))
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith(tuple(trainable_prefixes)))
    return model


def shared_layers_module() -> nn.Module:
    """A module whose first Linear is used twice (shared), with one frozen layer: for counting parameters."""
    torch.manual_seed(0)
    shared = nn.Linear(5, 5)
    frozen = nn.Linear(5, 3)
    frozen.requires_grad_(False)
    return nn.Sequential(shared, nn.ReLU(), shared, frozen, nn.Linear(3, 2, bias=False))
