"""Compute budgets for expensive notebook cells.

Notebooks size their training runs with :func:`budget`, so that the same cell trains properly for a
student (``full``), quickly in CI and notebook tests (``quick``), in a few steps while being graded
(``grade``), and larger on a GPU (``gpu``: Colab or a lab GPU; the value defaults to ``full``). The
grader sets ``VLCOURSE_BUDGET=grade`` in the student process, whatever the machine has.

Example (in a notebook)::

    steps = budget(full=600, quick=60, grade=5, gpu=5000)
    model = model.to(device())        # "cuda" at the gpu budget, else "cpu"

:func:`offer_gpu` (each notebook's first cell) says so when CUDA is present and the budget is not
``gpu``; :func:`use` picks a budget from inside the notebook.
"""

from __future__ import annotations

import os

BUDGETS = ("full", "quick", "grade", "gpu")
ENV = "VLCOURSE_BUDGET"


def current_budget() -> str:
    """The budget named by ``VLCOURSE_BUDGET`` (default ``full``)."""
    name = os.environ.get(ENV, "full").strip().lower() or "full"
    if name not in BUDGETS:
        raise ValueError(f"VLCOURSE_BUDGET={name!r} is not one of {', '.join(BUDGETS)}")
    return name


def budget(*, full, quick, grade, gpu=None):
    """Pick the value for the current budget (see module docstring); ``gpu`` defaults to ``full``."""
    return {"full": full, "quick": quick, "grade": grade, "gpu": full if gpu is None else gpu}[current_budget()]


def resolve_device(name: str, cuda_available: bool) -> str:
    """The device a budget trains on: ``cuda`` for ``gpu`` (a clear error without CUDA), else ``cpu``."""
    if name != "gpu":
        return "cpu"
    if not cuda_available:
        raise RuntimeError("VLCOURSE_BUDGET=gpu but torch sees no CUDA device: choose a GPU runtime (Colab: "
                           "Runtime > Change runtime type), or use the full budget on the CPU")
    return "cuda"


def device() -> str:
    """Where this notebook's training cells run at the current budget (see :func:`resolve_device`)."""
    import torch

    return resolve_device(current_budget(), torch.cuda.is_available())


def use(name: str) -> str:
    """Choose the budget from inside a notebook (e.g. ``use("gpu")`` in its first cell); returns it."""
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {', '.join(BUDGETS)}, got {name!r}")
    os.environ[ENV] = name
    return name


def offer_gpu() -> str:
    """A line for the first cell: the budget in use, and the gpu budget on offer when CUDA is present."""
    import torch

    name = current_budget()
    line = f"budget: {name} (training on {resolve_device(name, torch.cuda.is_available())})"
    if name != "gpu" and torch.cuda.is_available():
        line += f"; a GPU is here ({torch.cuda.get_device_name(0)}): run use('gpu') to train larger on it"
    print(line)
    return line
