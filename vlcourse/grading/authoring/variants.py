"""Submissions made from the solution notebook: known mistakes, cheats and samples.

A *variant* is a Python file whose header says which graded cell it replaces::

    # cell: nt_xent_loss
    # why: self-similarity is not excluded from the denominator
    # feedback: (optional) what a student whose failures match is told; default: the why line
    # expect: below            (``below``: less than full marks on that cell; ``zero``: nothing;
    def nt_xent_loss(z1, z2, temperature): ...   ``full``: full marks on every cell, no cell error)

``grader/NN/mistakes/*.py`` are known mistakes (``vlcourse verify`` checks each loses points);
``grader/NN/alternatives/*.py`` are other correct ways to write a cell (each must score full
marks: the hidden tests must not reject a correct answer for its style);
``grader/NN/samples/*.py`` are demo submissions such as cheating attempts. Building them from the
solution at run time means no hand-kept copy of a student notebook can drift.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from vlcourse.grading.authoring.assignment import Assignment


EXPECTATIONS = ("below", "zero", "full")


@dataclass
class Variant:
    name: str
    cell: str
    why: str
    expect: str  # "below", "zero" or "full"
    source: str
    feedback: str = ""  # what a student whose failures match this mistake is told (default: ``why``)


def read_variant(path: Path) -> Variant:
    header = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        key, _, value = line[2:].partition(":")
        header[key.strip()] = value.strip()
    if "cell" not in header:
        raise ValueError(f"{path}: the first lines must include '# cell: <grade_id>'")
    expect = header.get("expect", "below")
    if expect not in EXPECTATIONS:
        raise ValueError(f"{path}: '# expect:' must be one of {', '.join(EXPECTATIONS)}, got {expect!r}")
    return Variant(path.stem, header["cell"], header.get("why", ""), expect, path.read_text(), header.get("feedback", ""))


def read_variants(folder: Path) -> list[Variant]:
    return [read_variant(p) for p in sorted(folder.glob("*.py"))] if folder.is_dir() else []


def replace_cell(notebook_path: Path, cell_id: str, source: str):
    """The notebook with the graded cell ``cell_id`` replaced by ``source``."""
    nb = nbformat.read(notebook_path, as_version=4)
    matches = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell_id]
    if len(matches) != 1:
        raise ValueError(f"{notebook_path.name} has {len(matches)} cells with grade_id {cell_id!r}, expected 1")
    matches[0].source = source
    return nb


def reference_files(assignment: Assignment) -> dict[str, str]:
    """Files a correct submission hands in: name -> dotted function that writes it from the reference."""
    return dict(assignment.reference_files)


def write_submission(folder: Path, notebook_name: str, nb, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / notebook_name)
    for name, writer in files.items():
        module_name, _, function = writer.rpartition(".")
        getattr(importlib.import_module(module_name), function)(folder / name)
    return folder


def solution_submission(assignment: Assignment, folder: Path) -> Path:
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    return write_submission(folder, assignment.notebook, nb, reference_files(assignment))


def blank_submission(assignment: Assignment, folder: Path) -> Path:
    nb = nbformat.read(assignment.exercise_notebook, as_version=4)
    return write_submission(folder, assignment.notebook, nb, {})


def variant_submission(assignment: Assignment, variant: Variant, folder: Path) -> Path:
    nb = replace_cell(assignment.solution_notebook, variant.cell, variant.source)
    return write_submission(folder, assignment.notebook, nb, reference_files(assignment))


def sample_class(assignment: Assignment, folder: Path) -> Path:
    """A demo class: correct, blank, every known mistake, every sample (cheats), two malformed."""
    solution_submission(assignment, folder / "correct")
    blank_submission(assignment, folder / "blank")
    for variant in read_variants(assignment.mistakes_dir):
        variant_submission(assignment, variant, folder / f"mistake_{variant.name}")
    for variant in read_variants(assignment.samples_dir):
        variant_submission(assignment, variant, folder / variant.name)
    broken = folder / "malformed_not_json"
    broken.mkdir(parents=True, exist_ok=True)
    (broken / assignment.notebook).write_text('{"cells": [ this is not json')
    (folder / "empty_folder").mkdir(parents=True, exist_ok=True)
    return folder
