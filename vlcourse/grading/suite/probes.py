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


def build_module(
    class_path, config_path: str, config: dict, state_dict: dict | None = None, dtype: str | None = None,
    allow_missing_buffers: bool = False, **kwargs,
):
    """``Class(Config(**config), **kwargs)``, cast to ``dtype``, with ``state_dict`` loaded.

    E.g. a reference model to drive, or a student's class (``class_path`` may be the class itself,
    passed as ``student.ref("Name")``) to load reference weights into; ``kwargs`` may name classes too,
    e.g. ``attention_cls=student.ref("CausalSelfAttention")``.

    Args:
        class_path: dotted path of the module class, or the class.
        config_path: dotted path of the config class.
        config: keyword arguments of the config.
        state_dict: weights to load (strictly: every parameter, no unknown key).
        dtype: ``"float64"``, ``"float32"``...: cast the module before loading, so weights keep their precision.
        allow_missing_buffers: accept state dicts that lack some of the module's buffers (e.g. a
            student's persistent mask), never missing parameters.
    """
    module_cls = _import(class_path) if isinstance(class_path, str) else class_path
    config_cls = _import(config_path)
    module = module_cls(config_cls(**config), **kwargs)
    if dtype is not None:
        module = module.to(getattr(torch, dtype))
    if state_dict is not None:
        load_state(module, state_dict, allow_missing_buffers)
    return module


def load_state(module: torch.nn.Module, state_dict: dict, allow_missing_buffers: bool = False) -> None:
    """``module.load_state_dict(state_dict)``, strict except (optionally) for missing buffers."""
    result = module.load_state_dict(state_dict, strict=not allow_missing_buffers)
    if allow_missing_buffers:
        parameters = {name for name, _ in module.named_parameters(remove_duplicate=False)}
        missing = [name for name in result.missing_keys if name in parameters]
        if missing or result.unexpected_keys:
            raise RuntimeError(
                f"the weights do not fit this module: missing parameters {missing}, unexpected keys "
                f"{result.unexpected_keys}"
            )


def module_value_and_grads(module: torch.nn.Module, args: list, out_weight: torch.Tensor):
    """``module(*args)`` and the gradients of ``(output * out_weight).sum()`` w.r.t. the floating-point
    ``args`` and the module's parameters.

    Returns:
        ``(output, [grad of each arg or None], {parameter name: grad or None})``.
    """
    args = [a.detach().clone().requires_grad_(True) if a.is_floating_point() else a for a in args]
    output = module(*args)
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"expected a tensor, got {type(output).__name__}")
    inputs = [a for a in args if a.requires_grad]
    params = dict(module.named_parameters())
    grads = torch.autograd.grad((output * out_weight).sum(), inputs + list(params.values()), allow_unused=True)
    grads = [None if g is None else g.detach() for g in grads]
    arg_grads = iter(grads[: len(inputs)])
    return (
        output.detach(),
        [next(arg_grads) if a.requires_grad else None for a in args],
        dict(zip(params, grads[len(inputs):])),
    )


def call_and_inputs(fn, args: list, kwargs: dict | None = None):
    """``fn(*args, **kwargs)``, and the arguments as they are *after* the call.

    The grader compares the returned arguments with what it sent, to check that the function did not
    modify its inputs in place (every argument arrives in the runner as a fresh copy, so a change is
    only visible here).

    Returns:
        ``(value, args_after, kwargs_after)``; tensors, Python scalars, None and tuples or lists of
        them come back as they are, anything else as a string naming its type (so the triple always
        travels as plain data).
    """
    kwargs = dict(kwargs or {})
    value = fn(*args, **kwargs)
    return plain_value(value), list(args), kwargs


def plain_value(value):
    """``value`` if it is plain data (a tensor, a Python scalar, None, or a tuple or list of those), else ``"<type>"``."""
    if value is None or type(value) in (torch.Tensor, bool, int, float):
        return value
    if type(value) in (tuple, list) and all(item is None or type(item) in (torch.Tensor, bool, int, float) for item in value):
        return type(value)(value)
    return f"<{type(value).__name__}>"


def error_name(fn, args: list, kwargs: dict | None = None) -> str | None:
    """Call ``fn(*args, **kwargs)``; None if it returned, else ``"ValueError"`` when it raised a
    ValueError (or a subclass), else the name of what it raised."""
    try:
        fn(*args, **(kwargs or {}))
    except ValueError:
        return "ValueError"
    except Exception as exc:  # noqa: BLE001 - reported by name, judged by the grader
        return type(exc).__name__
    return None


def set_stale_grads(module: torch.nn.Module, value: float = 1.0) -> int:
    """Give every parameter a leftover gradient filled with ``value``, as if a backward had run before.

    Returns:
        how many parameters got one.
    """
    count = 0
    for param in module.parameters():
        param.grad = torch.full_like(param, value)
        count += 1
    return count


def pair_mse_loss(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """A simple stand-in pair loss for testing a training step independently of the student's loss."""
    return ((z1 - z2) ** 2).mean() + 0.1 * z1.pow(2).mean()


def _import(dotted: str):
    module_name, _, attr = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)
