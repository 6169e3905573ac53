"""Measuring copy detection: independent correct solutions must not be flagged, disguised copies must.

The corpus of an assignment is its solution, every file in ``grader/NN/alternatives/`` (correct
solutions written independently: loops, vectorised, other library calls) and the pairs in
``grader/NN/copies/`` (``<pair>__original.py``, a student's own solution, and ``<pair>__copy.py``,
a classmate's copy of it with renamed variables, reordered independent lines and changed
comments). Each file is one student: the solution notebook with that cell replaced, fingerprinted
exactly as grading does. A flagged pair is a true positive when it is a copy pair, a false positive
otherwise; an unflagged copy pair is a false negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from vlcourse.grading.assignment import Assignment
from vlcourse.grading.similarity import cell_fingerprint, find_matches
from vlcourse.grading.variants import read_variants


@dataclass
class CopyDetectionScore:
    assignment: str
    students: int
    pairs: int
    copy_pairs: int
    true_positives: int
    false_positives: list[tuple[str, str, float]]
    missed: list[tuple[str, str]]

    @property
    def precision(self) -> float:
        flagged = self.true_positives + len(self.false_positives)
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.copy_pairs if self.copy_pairs else 1.0


def corpus(assignment: Assignment) -> tuple[dict[str, dict[str, list[int]]], dict[str, list[int]], set[frozenset[str]]]:
    """(students' fingerprints, base fingerprints, the true copy pairs) for ``assignment``."""
    from vlcourse.grading.classroom import notebook_prints

    cells = assignment.graded_cells()
    solution = notebook_prints(assignment.solution_notebook, cells)
    base = {c: solution.get(c, []) + p for c, p in notebook_prints(assignment.exercise_notebook, cells).items()}
    students = {"solution": solution}
    for folder, prefix in ((assignment.alternatives_dir, "alt_"), (assignment.grader_dir / "copies", "copy_")):
        for variant in read_variants(folder):
            students[prefix + variant.name] = {**solution, variant.cell: cell_fingerprint(variant.source)}
    originals = [s for s in students if s.endswith("__original")]
    truth = {frozenset((s, s.replace("__original", "__copy"))) for s in originals}
    return students, base, truth


def measure(assignment: Assignment) -> CopyDetectionScore:
    students, base, truth = corpus(assignment)
    flagged = {frozenset((m.a, m.b)): m.score for m in find_matches(students, base)}
    return CopyDetectionScore(
        assignment=assignment.name, students=len(students), pairs=len(list(combinations(students, 2))),
        copy_pairs=len(truth), true_positives=len(set(flagged) & truth),
        false_positives=sorted((*sorted(p), s) for p, s in flagged.items() if p not in truth),
        missed=sorted(tuple(sorted(p)) for p in truth - set(flagged)),
    )
