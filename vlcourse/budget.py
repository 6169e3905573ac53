"""Compute budgets for expensive notebook cells.

Notebooks size their training runs with :func:`budget`, so that the same cell trains properly for a
student (``full``), quickly in CI and notebook tests (``quick``) and in a few steps while being graded
(``grade``). The grader sets ``VLCOURSE_BUDGET=grade`` in the student process.

Example (in a notebook)::

    steps = budget(full=600, quick=60, grade=5)
"""

from __future__ import annotations

import os

BUDGETS = ("full", "quick", "grade")


def current_budget() -> str:
    """The budget named by ``VLCOURSE_BUDGET`` (default ``full``)."""
    name = os.environ.get("VLCOURSE_BUDGET", "full").strip().lower() or "full"
    if name not in BUDGETS:
        raise ValueError(f"VLCOURSE_BUDGET={name!r} is not one of {', '.join(BUDGETS)}")
    return name


def budget(*, full, quick, grade):
    """Pick the value for the current budget (see module docstring)."""
    return {"full": full, "quick": quick, "grade": grade}[current_budget()]
