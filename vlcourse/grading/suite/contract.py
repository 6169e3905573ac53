"""Helpers hidden test suites share (trusted side): checks of a graded function's contract.

Import them in ``grader/NN/test_*.py``; they talk to the submission only through the ``student``
fixture.
"""

from __future__ import annotations

import torch


def call_and_inputs(student, name: str, args: list):
    """The notebook's ``name`` called on ``args`` in the runner: ``(value, args as they are after the call, kwargs)``."""
    result = student.lib("vlcourse.grading.suite.probes.call_and_inputs")(student.ref(name), list(args))
    assert type(result) in (list, tuple) and len(result) == 3, f"{name}(...) could not be checked"
    return result


def assert_unchanged(after, before, names) -> None:
    """The arguments as the runner saw them after the call equal what was sent (no in-place edit)."""
    assert type(after) in (list, tuple) and len(after) == len(before)
    for got, sent, name in zip(after, before, names):
        assert type(got) is torch.Tensor and got.dtype == sent.dtype and torch.equal(got, sent), f"{name} was modified in place"
