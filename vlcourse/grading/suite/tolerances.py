"""The one table of tolerances the hidden tests use, and the comparison they go through.

| kind      | rtol  | atol  | why                                                                  |
|-----------|-------|-------|----------------------------------------------------------------------|
| float64   | 1e-7  | 1e-9  | same maths in double precision: only summation order differs         |
| float32   | 1e-4  | 1e-5  | single precision with a different but valid order of operations      |
| gradient  | 1e-6  | 1e-8  | float64 gradients: backward adds one more reduction order difference |
| training  | 1e-4  | 1e-6  | a few optimiser steps in float32 compound per-step rounding          |
"""

from __future__ import annotations

import torch

TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-9),
    "float32": (1e-4, 1e-5),
    "gradient": (1e-6, 1e-8),
    "training": (1e-4, 1e-6),
}


def assert_close(actual, expected: torch.Tensor, kind: str = "float64", what: str = "result") -> None:
    """Assert a student's tensor equals the reference: same shape, finite, within ``TOLERANCES[kind]``.

    Unlike a bare ``torch.allclose`` it refuses non-tensors and silent broadcasting.
    """
    rtol, atol = TOLERANCES[kind]
    assert type(actual) is torch.Tensor, f"{what} should be a tensor, got {type(actual).__name__}"
    assert tuple(actual.shape) == tuple(expected.shape), f"{what} has shape {tuple(actual.shape)}"
    if not expected.is_floating_point():  # counters, indices: exact
        assert not actual.is_floating_point() and torch.equal(actual.long(), expected.long()), f"{what} differs"
        return
    assert actual.is_floating_point(), f"{what} should be a floating-point tensor"
    assert torch.isfinite(actual).all(), f"{what} contains nan or inf"
    torch.testing.assert_close(actual.to(expected.dtype), expected, rtol=rtol, atol=atol)
