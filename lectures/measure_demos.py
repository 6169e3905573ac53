"""Time each lecture demo at each budget: ``python lectures/measure_demos.py [full quick grade]``.

Executes both notebooks in a kernel with ``VLCOURSE_BUDGET`` set and prints the ``DEMO_SECONDS`` table
their last (hidden) cell reports, plus the whole notebook's wall time. lectures/README.md quotes the result.
"""

from __future__ import annotations

import ast
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = ("01_self_supervised.ipynb", "02_vision_language.ipynb")


def measure(budget: str) -> dict[str, dict[str, float]]:
    os.environ["VLCOURSE_BUDGET"] = budget
    out = {}
    for name in NOTEBOOKS:
        nb = nbformat.read(HERE / name, as_version=4)
        start = time.time()
        NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
        seconds = ast.literal_eval(nb.cells[-1].outputs[0].text.strip())
        seconds["whole notebook"] = round(time.time() - start, 1)
        out[name] = seconds
    return out


if __name__ == "__main__":
    for budget in sys.argv[1:] or ["quick"]:
        for name, seconds in measure(budget).items():
            print(budget, name, seconds, flush=True)
