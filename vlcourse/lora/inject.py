"""Putting adapters into a model, and counting what trains (students write it in assignment 05; withheld while grading)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from vlcourse.lora.config import resolve_targets

__all__ = ["inject_lora", "count_parameters"]


def inject_lora(
    model: nn.Module, target_modules: Sequence[str], r: int, alpha: float, dropout: float = 0.0,
    lora_cls: type[nn.Module] | None = None,
) -> nn.Module:
    """Freeze ``model`` and replace every targeted ``nn.Linear`` by a LoRA layer around it, in place.

    Args:
        model: any module; its parameters are frozen (``requires_grad=False``).
        target_modules: names or last parts of names of ``nn.Linear`` layers (see
            :func:`~vlcourse.lora.config.matches`); each must match at least one.
        r, alpha, dropout: passed to ``lora_cls(layer, r, alpha, dropout)``.
        lora_cls: the LoRA layer class (default :class:`~vlcourse.lora.layer.LoRALinear`).

    Returns:
        ``model`` itself, with only the adapters' parameters trainable.
    """
    if lora_cls is None:
        from vlcourse.lora.layer import LoRALinear as lora_cls
    found = resolve_targets(model, target_modules)
    model.requires_grad_(False)
    for name in sorted({n for names in found.values() for n in names}):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, lora_cls(getattr(parent, child), r, alpha, dropout))
    return model


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` numbers of parameters, a tensor shared by two layers (tied weights) once."""
    params = list(model.parameters())  # parameters() yields a shared tensor once
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
