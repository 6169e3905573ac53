"""``vlcourse verify NN --mutants``: how many wrong versions of each graded cell the hidden suite catches.

Every mutant (:mod:`vlcourse.grading.authoring.mutants`) is the solution notebook with one graded cell changed
slightly. All of them are graded in the same class run as the rest of ``vlcourse verify`` (one warm
sandbox per worker), each on the tests of its own cell only, stopping at the first test that loses
points. A mutant is

* **killed** when its cell loses points (a change that only costs points in a later cell that calls
  it is not enough: the cell's own tests must see it);
* **equivalent** when ``grader/NN/equivalent_mutants.toml`` lists it with a reason: it behaves like
  the solution on every input the contract allows, so no test may reject it;
* **survived** otherwise: a wrong cell that earns full marks, which the author fixes with a test.

A listed equivalent that a test now kills, or that is no longer generated, is an error, so the list
stays honest; so is a list with equivalents above ``MAX_EQUIVALENT_SHARE`` of the mutants.

Cells graded on a handed-in file (all their tests use the ``submitted`` fixture, e.g. a trained
encoder) cannot lose points through their code, since the file is what is graded: their mutants are
of the file instead, the reference file replaced by an untrained one (``[untrained_files]`` in
``assignment.toml``) and the file missing.
"""

from __future__ import annotations

import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.workers import Focus
from vlcourse.grading.grade import SubmissionResult
from vlcourse.grading.authoring.mutants import Mutant, generate_mutants
from vlcourse.grading.suite.plugin import GradedTest
from vlcourse.grading.authoring.variants import reference_files, replace_cell, write_submission

MAX_EQUIVALENT_SHARE = 0.15
EQUIVALENTS_FILE = "equivalent_mutants.toml"
FILE_MUTANTS = ("untrained", "missing")


@dataclass(frozen=True)
class Equivalent:
    id: str
    reason: str
    change: str = ""  # the changed line, for whoever reads the file


@dataclass
class MutantOutcome:
    mutant: Mutant
    status: str  # killed | survived | equivalent
    earned: float
    points: float
    failed: str = ""  # the first test of the cell that lost points (killed), or why it did not run
    seconds: float = 0.0


@dataclass
class CellSummary:
    cell: str
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    equivalent: int = 0


@dataclass
class MutationRun:
    """What ``--mutants`` found for one assignment."""

    assignment: str
    sources: dict[str, str]  # graded cell -> the solution's source
    outcomes: list[MutantOutcome]
    errors: list[str] = field(default_factory=list)  # a stale or malformed equivalents list
    seconds: float = 0.0

    def by_cell(self) -> list[CellSummary]:
        summaries = {cell: CellSummary(cell) for cell in self.sources}
        for outcome in self.outcomes:
            summary = summaries[outcome.mutant.cell]
            summary.mutants += 1
            setattr(summary, outcome.status, getattr(summary, outcome.status) + 1)
        return list(summaries.values())

    def survivors(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.status == "survived"]

    @property
    def equivalent_share(self) -> float:
        return sum(o.status == "equivalent" for o in self.outcomes) / max(1, len(self.outcomes))

    def score(self) -> float:
        """Killed share of the non-equivalent mutants (1.0: every wrong cell loses points)."""
        counted = [o for o in self.outcomes if o.status != "equivalent"]
        return sum(o.status == "killed" for o in counted) / max(1, len(counted))


def file_graded_cells(tests: list[GradedTest]) -> set[str]:
    """Cells every test of which grades a handed-in file (asks for the ``submitted`` fixture)."""
    cells: dict[str, bool] = {}
    for test in tests:
        cells[test.cell] = cells.get(test.cell, True) and "submitted" in test.fixtures
    return {cell for cell, on_file in cells.items() if on_file}


def graded_sources(assignment: Assignment) -> dict[str, str]:
    """grade_id -> source of each graded cell of the solution notebook, in notebook order."""
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("grade_id")}


def file_mutants(assignment: Assignment, cell: str, source: str) -> list[Mutant]:
    """The handed-in files a file-graded cell saves, each untrained (where a writer is named) and missing."""
    mutants = []
    for name in assignment.reference_files:
        if name not in source:
            continue
        kinds = [k for k in FILE_MUTANTS if k != "untrained" or name in assignment.untrained_files]
        mutants += [Mutant(f"{cell}:{kind}:{name}", cell, f"file:{kind}", 0, source) for kind in kinds]
    return mutants


def all_mutants(assignment: Assignment, tests: list[GradedTest], cells: list[str] | None = None) -> list[Mutant]:
    """Every mutant of the graded cells (``cells``: only those), code or file as the cell is graded."""
    on_file = file_graded_cells(tests)
    mutants = []
    for cell, source in graded_sources(assignment).items():
        if cells is None or cell in cells:
            mutants += file_mutants(assignment, cell, source) if cell in on_file else generate_mutants(cell, source)
    return mutants


def mutant_submission(assignment: Assignment, mutant: Mutant, folder: Path) -> Path:
    """The solution with the mutant's cell (code mutants) or its file changed (file mutants)."""
    files = reference_files(assignment)
    if mutant.operator.startswith("file:"):
        _, kind, name = mutant.id.split(":", 2)
        files.pop(name)
        if kind == "untrained":
            files[name] = assignment.untrained_files[name]
        nb = nbformat.read(assignment.solution_notebook, as_version=4)
    else:
        nb = replace_cell(assignment.solution_notebook, mutant.cell, mutant.source)
    return write_submission(folder, assignment.notebook, nb, files)


def mutant_folders(assignment: Assignment, mutants: list[Mutant], root: Path) -> tuple[dict[str, Path], dict[str, Focus]]:
    """Submission folders (student name = ``mutant:<id>``) and the focus that grades each on its cell only."""
    folders, focus = {}, {}
    for number, mutant in enumerate(mutants):
        student = f"mutant:{mutant.id}"
        folders[student] = mutant_submission(assignment, mutant, root / f"mutant_{number:04d}")
        focus[student] = Focus(frozenset({mutant.cell}), stop_at_first_loss=True)
    return folders, focus


def read_equivalents(assignment: Assignment) -> tuple[dict[str, Equivalent], list[str]]:
    """The listed equivalent mutants, and what is wrong with the list (unknown keys, missing reasons)."""
    path = assignment.grader_dir / EQUIVALENTS_FILE
    if not path.exists():
        return {}, []
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        return {}, [f"{path.name} is not valid TOML: {exc}"]
    listed, errors = {}, []
    for entry in raw.get("mutant", []):
        if not entry.get("id") or not str(entry.get("reason", "")).strip():
            errors.append(f"{path.name}: every [[mutant]] needs an id and a one-line reason, got {entry}")
            continue
        listed[entry["id"]] = Equivalent(entry["id"], entry["reason"].strip(), entry.get("change", ""))
    return listed, errors


def classify(mutant: Mutant, result: SubmissionResult, equivalents: dict[str, Equivalent]) -> MutantOutcome:
    earned, points = result.scores.get(mutant.cell, 0.0), result.max_scores.get(mutant.cell, 0.0)
    lost = next((t for t in result.tests if t.cell == mutant.cell and t.earned < t.points), None)
    killed = earned < points
    status = "killed" if killed else "equivalent" if mutant.id in equivalents else "survived"
    failed = (lost.name + (f" ({lost.reason})" if lost.reason and lost.reason != "the result did not match" else "")) if lost else ""
    return MutantOutcome(mutant, status, earned, points, failed, result.seconds)


def list_errors(mutants: list[Mutant], outcomes: list[MutantOutcome], equivalents: dict[str, Equivalent]) -> list[str]:
    """A listed equivalent that is killed now, or that is no longer generated."""
    generated = {m.id for m in mutants}
    killed = {o.mutant.id for o in outcomes if o.status == "killed"}
    errors = [f"{EQUIVALENTS_FILE}: {i} is listed as equivalent but a test kills it now: remove it"
              for i in equivalents if i in killed]
    errors += [f"{EQUIVALENTS_FILE}: {i} is listed as equivalent but no longer generated (the solution changed?): remove it"
               for i in equivalents if i not in generated]
    return errors


def summary_lines(run: MutationRun) -> list[str]:
    """Per cell: mutants / killed / equivalent / survived; then each survivor's diff."""
    lines = [f"{'cell':<26}{'mutants':>8}{'killed':>8}{'equiv.':>8}{'survived':>9}"]
    for s in run.by_cell():
        lines.append(f"{s.cell:<26}{s.mutants:>8}{s.killed:>8}{s.equivalent:>8}{s.survived:>9}")
    totals = Counter(o.status for o in run.outcomes)
    lines.append(f"{'all':<26}{len(run.outcomes):>8}{totals['killed']:>8}{totals['equivalent']:>8}{totals['survived']:>9}"
                 f"   score {run.score():.1%}, equivalent {run.equivalent_share:.1%}, {run.seconds / 60:.1f} min")
    for outcome in run.survivors():
        mutant = outcome.mutant
        lines.append(f"survivor {mutant.id} ({mutant.operator}, line {mutant.line}):")
        lines += ["    " + line for line in (mutant.diff(run.sources[mutant.cell]) or mutant.operator).splitlines()]
    return lines


def outcomes_of(mutants: list[Mutant], results: dict[str, SubmissionResult],
                equivalents: dict[str, Equivalent]) -> list[MutantOutcome]:
    return [classify(m, results[f"mutant:{m.id}"], equivalents) for m in mutants]


def mutation_run(assignment: Assignment, mutants: list[Mutant], results: dict[str, SubmissionResult],
                 started: float, cells: list[str] | None = None) -> MutationRun:
    """Classify graded mutants; list errors are only judged on a run of every cell."""
    equivalents, errors = read_equivalents(assignment)
    outcomes = outcomes_of(mutants, results, equivalents)
    if cells is None:
        errors += list_errors(mutants, outcomes, equivalents)
    if cells is None and (share := sum(o.status == "equivalent" for o in outcomes) / max(1, len(outcomes))) > MAX_EQUIVALENT_SHARE:
        errors.append(f"{share:.0%} of the mutants are listed as equivalent, more than {MAX_EQUIVALENT_SHARE:.0%}: "
                      "are some of them wrong answers a test should catch?")
    sources = {c: s for c, s in graded_sources(assignment).items() if cells is None or c in cells}
    return MutationRun(assignment.name, sources, outcomes, errors, round(time.monotonic() - started, 1))
