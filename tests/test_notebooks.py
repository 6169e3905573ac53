"""Solution notebooks run end to end in a real Jupyter kernel (nbclient), at the ``quick`` budget."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from vlcourse.grading.authoring.assignment import list_assignments, load_assignment

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = list_assignments(ROOT)


def outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if kind(o)]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_notebook_runs_end_to_end(name, tmp_path, monkeypatch):
    assignment = load_assignment(name, ROOT)
    shutil.copy(assignment.solution_notebook, tmp_path / assignment.notebook)
    monkeypatch.setenv("VLCOURSE_BUDGET", "quick")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb = nbformat.read(tmp_path / assignment.notebook, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    assert not outputs(nb, lambda o: o.output_type == "error")
    assert outputs(nb, lambda o: "image/png" in o.get("data", {})), "the experiments should show plots"
    for file in assignment.files:  # what the notebook must save for grading
        assert (tmp_path / file).is_file(), f"the notebook did not write {file}"
