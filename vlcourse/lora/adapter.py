"""The adapter on its own: its parameters, saving and loading them, merging them into the base.

An adapter file holds only the ``lora_A`` / ``lora_B`` weights (safetensors, no pickle) and, in its
metadata, the :class:`~vlcourse.lora.config.LoRAConfig` and the name of the base model it belongs to:
a few kilobytes, against 1.7 MB for the whole tiny GPT. Many adapters can share one frozen base and
be swapped by loading another file.

These helpers work with any LoRA layer class that follows the contract (submodules ``lora_A`` and
``lora_B``, methods ``merge`` / ``unmerge``, attribute ``base_layer``), the student's included.
"""

from __future__ import annotations

import copy
import json
import os

import torch
from torch import nn

from vlcourse.lora.config import LoRAConfig

ADAPTER_KEYS = ("lora_A.weight", "lora_B.weight")


def is_lora_layer(module: nn.Module) -> bool:
    return all(hasattr(module, name) for name in ("lora_A", "lora_B", "base_layer", "merge", "unmerge"))


def lora_layers(model: nn.Module) -> dict[str, nn.Module]:
    """Every LoRA layer of ``model`` by qualified name."""
    return {name: m for name, m in model.named_modules() if is_lora_layer(m)}


def adapter_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The adapter's weights only: ``{"h.0.attn.c_attn.lora_A.weight": (r, in), ...}`` (detached copies)."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k.endswith(ADAPTER_KEYS)}
    if not state:
        raise ValueError("this model has no LoRA layers (parameters named ...lora_A.weight / ...lora_B.weight): "
                         "inject adapters first")
    return state


def save_adapter(model: nn.Module, path: str | os.PathLike, config: LoRAConfig, base: str = "gpt_shakespeare_tiny") -> int:
    """Write the adapter of ``model`` to ``path`` (safetensors); returns the file's size in bytes.

    Args:
        model: a model with LoRA layers (merged or not: A and B are the same either way).
        path: where to write, e.g. ``"adapter.safetensors"``.
        config: the configuration the adapter was made with (stored in the metadata).
        base: the name of the base checkpoint it adapts (stored in the metadata).
    """
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in adapter_state_dict(model).items()}
    save_file(state, str(path), metadata={"lora_config": json.dumps(config.to_dict()), "base": base})
    return os.path.getsize(path)


def read_adapter(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], LoRAConfig, str]:
    """``(weights, config, base name)`` of an adapter file."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if "lora_config" not in metadata:
        raise ValueError(f"{path} is not an adapter written by save_adapter (no lora_config in its metadata)")
    return load_file(str(path)), LoRAConfig(**json.loads(metadata["lora_config"])), metadata.get("base", "")


@torch.no_grad()
def load_adapter(model: nn.Module, path: str | os.PathLike) -> LoRAConfig:
    """Load an adapter file into ``model``'s LoRA layers (injected with the same targets and rank).

    Every adapter weight of the model must be in the file and the file must hold nothing else. Layers
    that are merged are unmerged first, so swapping adapters on one model is safe.

    Returns:
        the adapter's :class:`LoRAConfig`.
    """
    state, config, _ = read_adapter(path)
    own = adapter_state_dict(model)
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or unexpected:
        raise ValueError(f"the adapter in {path} does not fit this model: missing {missing}, unexpected {unexpected}; "
                         f"inject with target_modules={list(config.target_modules)} and r={config.r}")
    wrong = [k for k in own if own[k].shape != state[k].shape]
    if wrong:
        raise ValueError(f"the adapter in {path} has other shapes for {wrong}: it was made with r={config.r}")
    layers = lora_layers(model)
    for layer in layers.values():
        layer.unmerge()
    params = dict(model.named_parameters())
    for key, value in state.items():
        params[key].copy_(value)
    for layer in layers.values():  # the scaling must be the adapter's: alpha / r
        if hasattr(layer, "scaling"):
            layer.scaling = config.alpha / config.r
    return config


def merge_lora(model: nn.Module) -> nn.Module:
    """Merge every LoRA layer of ``model`` (in place) and return it."""
    for layer in lora_layers(model).values():
        layer.merge()
    return model


def unmerge_lora(model: nn.Module) -> nn.Module:
    """Unmerge every LoRA layer of ``model`` (in place) and return it."""
    for layer in lora_layers(model).values():
        layer.unmerge()
    return model


def merge_and_unload(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in which every LoRA layer is replaced by its base layer with ΔW merged in.

    The result has exactly the base model's structure and cost: plain ``nn.Linear`` layers, no adapter.
    ``model`` itself is left as it was.
    """
    model = copy.deepcopy(model)
    for name, layer in lora_layers(model).items():
        layer.merge()
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, layer.base_layer)
    return model
