"""Write the lecture notebooks from the cell lists in ``lecture01.py`` and ``lecture02.py``.

The notebooks are generated (never edited by hand) so that their slide metadata stays consistent:
every cell gets ``metadata.slideshow.slide_type``. Run ``python lectures/build_lectures.py`` after
editing a lecture's cell list; ``tests/test_lectures.py`` checks that the notebooks are up to date.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
LECTURES = {"01_self_supervised.ipynb": "lecture01.py", "02_vision_language.ipynb": "lecture02.py"}


def load_cells(source: str) -> list[tuple[str, str, str]]:
    """The ``CELLS`` list of a lecture source file: (kind "md" or "code", slide type, text)."""
    spec = importlib.util.spec_from_file_location(source[:-3], HERE / source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CELLS


def build(cells: list[tuple[str, str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, (kind, slide_type, text) in enumerate(cells):
        text = text.strip("\n")
        cell = nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
        cell.id = f"cell-{i:03d}"
        cell.metadata["slideshow"] = {"slide_type": slide_type}
        nb.cells.append(cell)
    return nb


def render(name: str) -> str:
    return nbformat.writes(build(load_cells(LECTURES[name])), version=4) + "\n"


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv or sys.argv[1:])
    stale = []
    for name in LECTURES:
        text, path = render(name), HERE / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("stale: " + ", ".join(stale) + " (run python lectures/build_lectures.py)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
