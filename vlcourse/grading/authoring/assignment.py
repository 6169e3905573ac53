"""An assignment as the grader knows it: ``grader/NN_name/assignment.toml`` plus its hidden tests.

Example ``assignment.toml``::

    title = "SimCLR"
    notebook = "simclr.ipynb"
    withheld = ["vlcourse.simclr.nt_xent_loss"]   # unavailable to student code while grading
    files = ["simclr_encoder.safetensors"]        # files the notebook saves that tests use
    llm = true                                    # runners reach the course's LLM endpoint (vlcourse.llm.grading)
    submissions_per_worker = 10                   # costly submissions: a grading worker pays off sooner
    [reference_files]                             # what a correct submission hands in (verify, demo)
    "simclr_encoder.safetensors" = "vlcourse.simclr.export_reference_encoder"
    [untrained_files]                             # the same file from an untrained model (mutation testing)
    "simclr_encoder.safetensors" = "vlcourse.simclr.export_untrained_encoder"
    [limits]
    cell_seconds = 120
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from vlcourse.grading.sandbox.limits import Limits
from vlcourse.paths import repo_root


@dataclass
class Assignment:
    """One assignment: its name, folders, notebook, withheld symbols, submitted files and limits."""

    name: str
    title: str
    notebook: str
    grader_dir: Path
    withheld: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    reference_files: dict[str, str] = field(default_factory=dict)  # submitted file -> function(path) writing it
    untrained_files: dict[str, str] = field(default_factory=dict)  # the same from an untrained model (file mutants)
    preload: list[str] = field(default_factory=list)  # modules the runner imports during start-up; "module:function" also calls it
    llm: bool = False  # serve the LLM endpoint into the sandbox on a Unix socket
    submissions_per_worker: int | None = None  # None: classroom.SUBMISSIONS_PER_WORKER
    limits: Limits = field(default_factory=Limits)
    _graded_cells: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def solution_notebook(self) -> Path:
        return self.grader_dir.parent.parent / "solutions" / self.name / self.notebook

    @property
    def exercise_notebook(self) -> Path:
        return self.grader_dir.parent.parent / "exercises" / self.name / self.notebook

    def graded_cells(self) -> list[str]:
        """grade_ids of the graded cells, in the order the source notebook has them (read once)."""
        if self._graded_cells is None:
            import nbformat

            nb = nbformat.read(self.solution_notebook, as_version=4)
            ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells]
            graded = [c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in nb.cells]
            self._graded_cells = [i for i, g in zip(ids, graded) if i and g]
        return list(self._graded_cells)

    def withheld_files(self) -> list[Path]:
        """Source files of the withheld symbols; the sandbox replaces them with empty files.

        A withheld symbol must live in a file of its own kind (e.g. ``vlcourse/simclr/losses.py``)
        that holds nothing else the notebook needs: ``vlcourse verify`` proves that, since the
        solution must still score full marks with these files masked.
        """
        import importlib
        import inspect

        files = set()
        for dotted in self.withheld:
            module_name, _, attr = dotted.rpartition(".")
            obj = getattr(importlib.import_module(module_name), attr)
            files.add(Path(inspect.getsourcefile(obj)).resolve())
        return sorted(files)

    @property
    def mistakes_dir(self) -> Path:
        return self.grader_dir / "mistakes"

    @property
    def alternatives_dir(self) -> Path:
        return self.grader_dir / "alternatives"

    @property
    def samples_dir(self) -> Path:
        return self.grader_dir / "samples"


def load_assignment(name: str, root: Path | None = None) -> Assignment:
    """Read ``grader/<name>/assignment.toml`` (``name`` may also be a path to that folder)."""
    root = root or repo_root()
    folder = Path(name) if Path(name).is_dir() else root / "grader" / name
    config_path = folder / "assignment.toml"
    if not config_path.exists():
        known = sorted(p.parent.name for p in (root / "grader").glob("*/assignment.toml"))
        raise FileNotFoundError(f"no assignment {name!r}: {config_path} is missing (known: {', '.join(known) or 'none'})")
    raw = tomllib.loads(config_path.read_text())
    return Assignment(
        name=folder.resolve().name,
        title=raw.get("title", folder.name),
        notebook=raw["notebook"],
        grader_dir=folder.resolve(),
        withheld=list(raw.get("withheld", [])),
        files=list(raw.get("files", [])),
        reference_files=dict(raw.get("reference_files", {})),
        untrained_files=dict(raw.get("untrained_files", {})),
        preload=list(raw.get("preload", [])),
        llm=bool(raw.get("llm", False)),
        submissions_per_worker=_positive_or_none(raw.get("submissions_per_worker"), "submissions_per_worker", config_path),
        limits=Limits.from_mapping(raw.get("limits", {})),
    )


def _positive_or_none(value, key: str, path: Path) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{path}: {key} must be a positive integer, got {value!r}")
    return value


def list_assignments(root: Path | None = None) -> list[str]:
    root = root or repo_root()
    return sorted(p.parent.name for p in (root / "grader").glob("*/assignment.toml"))
