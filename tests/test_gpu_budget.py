"""The ``gpu`` budget of the notebooks (issue 21, part 3), checked on a CPU without running it.

Every ``budget(...)`` call of every notebook resolves at the gpu budget to a value of the same kind as
the full budget's and no smaller; the notebooks that train move their main model to ``device()``
(``cuda`` at the gpu budget) and back; the first cell says which budget is in use and offers the GPU.
"""

import ast
from pathlib import Path

import nbformat
import pytest

from vlcourse.budget import BUDGETS, budget, resolve_device, use

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("solutions/*/*.ipynb")) + sorted(ROOT.glob("exercises/*/*.ipynb"))
TRAINING = ("01_simclr", "02_gpt", "03_mae", "04_clipcap", "05_lora")  # 06 only calls an endpoint


def code_of(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def budget_calls(source: str) -> list[ast.Call]:
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "budget"]


def literal_kwargs(call: ast.Call) -> dict:
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords}


def test_the_gpu_budget_is_a_budget(monkeypatch):
    assert "gpu" in BUDGETS
    monkeypatch.setenv("VLCOURSE_BUDGET", "gpu")
    assert budget(full=10, quick=1, grade=1) == 10  # gpu defaults to full
    assert budget(full=10, quick=1, grade=1, gpu=50) == 50
    monkeypatch.setenv("VLCOURSE_BUDGET", "full")
    assert budget(full=10, quick=1, grade=1, gpu=50) == 10


def test_devices_per_budget():
    assert resolve_device("gpu", cuda_available=True) == "cuda"
    assert all(resolve_device(name, cuda_available=True) == "cpu" for name in ("full", "quick", "grade"))
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_device("gpu", cuda_available=False)


def test_use_picks_a_budget_and_refuses_others(monkeypatch):
    monkeypatch.delenv("VLCOURSE_BUDGET", raising=False)
    assert use("quick") == "quick" and budget(full=3, quick=2, grade=1) == 2
    with pytest.raises(ValueError, match="one of"):
        use("huge")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_budget_resolves_at_the_gpu_budget(path):
    calls = [c for source in code_of(path) for c in budget_calls(source)]
    for call in calls:
        values = literal_kwargs(call)
        assert {"full", "quick", "grade"} <= set(values), ast.unparse(call)
        gpu = values.get("gpu", values["full"])
        assert type(gpu) is type(values["full"]), ast.unparse(call)
        if isinstance(gpu, (int, float)):
            assert gpu >= values["full"] > 0, f"the gpu budget is smaller than the full one: {ast.unparse(call)}"


@pytest.mark.parametrize("name", TRAINING)
def test_training_notebooks_train_on_the_budgets_device(name):
    for path in (ROOT / "solutions" / name).glob("*.ipynb"), (ROOT / "exercises" / name).glob("*.ipynb"):
        (path,) = list(path)
        cells = code_of(path)
        assert "offer_gpu()" in cells[0], "the first cell says which budget is in use"
        larger = [c for c in cells if any("gpu" in literal_kwargs(call) for call in budget_calls(c))]
        assert larger, "no cell trains larger at the gpu budget"
        moved = [c for c in larger if "device()" in c]
        assert moved and all(".cpu()" in c for c in moved), "the main model goes to device() and back"
        intro = nbformat.read(path, as_version=4).cells[0].source
        assert "gpu budget they are not yet measured" in intro
