"""Small helpers that assignment 03's hidden tests run *inside* the student runner.

Like :mod:`vlcourse.grading.suite.probes` they only arrange calls (here: take gradients through a module
whose forward returns a tuple, as the MAE encoder does); their results are untrusted like
everything else from the runner and are checked against the reference on the grader's side.
"""

from __future__ import annotations

import torch

__all__ = ["first_output_value_and_grads"]


def first_output_value_and_grads(module, args: list, out_weight: torch.Tensor):
    """``module(*args)`` and the gradients of ``(first_output * out_weight).sum()`` w.r.t. the
    floating-point tensor ``args`` and the module's parameters (``module`` may also be a function).

    ``first_output`` is the output itself, or its first element when the module returns a tuple or
    list (the encoder's ``(latent, mask, ids_restore)``).

    Returns:
        ``(outputs, [grad of each arg or None], {parameter name: grad or None})``; ``outputs`` is a
        list of the detached outputs (a one-element list for a single tensor).
    """
    args = [a.detach().clone().requires_grad_(True) if isinstance(a, torch.Tensor) and a.is_floating_point() else a
            for a in args]
    output = module(*args)
    outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    if not outputs or not isinstance(outputs[0], torch.Tensor):
        raise TypeError(f"expected a tensor or a tuple starting with one, got {type(output).__name__}")
    inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    params = dict(module.named_parameters()) if isinstance(module, torch.nn.Module) else {}
    grads = torch.autograd.grad((outputs[0] * out_weight).sum(), inputs + list(params.values()), allow_unused=True)
    grads = [None if g is None else g.detach() for g in grads]
    arg_grads = iter(grads[: len(inputs)])
    return (
        [o.detach() if isinstance(o, torch.Tensor) else o for o in outputs],
        [next(arg_grads) if isinstance(a, torch.Tensor) and a.requires_grad else None for a in args],
        dict(zip(params, grads[len(inputs):])),
    )
