"""Which known mistake a student made: failure signatures of ``grader/NN/mistakes/``.

Every known mistake fails a particular set of hidden tests on the cell it breaks: its *signature*.
``vlcourse verify`` grades each mistake anyway, so it records the signatures in
``grader/NN/signatures.json`` (``vlcourse verify NN --write-signatures``; a stale file fails
verification). When a student's failed tests on a cell are exactly a known mistake's, their
feedback says in plain words what that mistake is (the ``# feedback:`` line of the mistake file,
else its ``# why:`` line) — never which test or which expected value.

Only exact matches count. A student who fails a subset or a superset of a mistake's tests has made
a different (or a second) mistake, and telling them the wrong one costs more than saying nothing.
Where several mistakes share a signature, all of them are named; a signature that fails every test
of its cell tells nothing apart (any wrong answer does that), so it is never used.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from vlcourse.grading.assignment import Assignment
from vlcourse.grading.grade import SubmissionResult
from vlcourse.grading.variants import Variant


@dataclass(frozen=True)
class Signature:
    """A known mistake as the hidden suite sees it."""

    mistake: str
    cell: str
    failed: tuple[str, ...]  # names of the hidden tests it fails on its cell, sorted
    feedback: str  # what the student is told, in plain words


def failed_tests(result: SubmissionResult, cell: str) -> tuple[str, ...]:
    return tuple(sorted(t.name for t in result.tests if t.cell == cell and not t.passed))


def signature_of(variant: Variant, result: SubmissionResult) -> Signature:
    return Signature(variant.name, variant.cell, failed_tests(result, variant.cell), variant.feedback or variant.why)


def signatures_path(assignment: Assignment) -> Path:
    return assignment.grader_dir / "signatures.json"


def write_signatures(path: Path, signatures: list[Signature]) -> None:
    path.write_text(json.dumps([asdict(s) for s in sorted(signatures, key=lambda s: s.mistake)], indent=1) + "\n")


def read_signatures(path: Path) -> list[Signature]:
    """The stored signatures, or none when the file is missing (diagnosis is then simply off)."""
    if not path.exists():
        return []
    return [Signature(s["mistake"], s["cell"], tuple(s["failed"]), s["feedback"]) for s in json.loads(path.read_text())]


def matching(result: SubmissionResult, signatures: list[Signature]) -> list[Signature]:
    """The signatures the student's failures match exactly (none where a cell failed every test)."""
    found = []
    for signature in signatures:
        failed = failed_tests(result, signature.cell)
        every = tuple(sorted(t.name for t in result.tests if t.cell == signature.cell))
        if failed and failed == signature.failed and failed != every:
            found.append(signature)
    return found


def diagnose(result: SubmissionResult, signatures: list[Signature]) -> dict[str, list[str]]:
    """Per graded cell, the plain-words descriptions of the known mistakes the student's failures match."""
    found: dict[str, list[str]] = {}
    for signature in matching(result, signatures):
        if signature.feedback not in found.get(signature.cell, []):
            found.setdefault(signature.cell, []).append(signature.feedback)
    return found


def mistake_counts(results: list[SubmissionResult], signatures: list[Signature]) -> Counter:
    """How many students made each known mistake; mistakes that share a signature share a label ("a / b")."""
    labels: dict[tuple, list[str]] = {}
    for signature in signatures:
        labels.setdefault((signature.cell, signature.failed), []).append(signature.mistake)
    counts: Counter = Counter()
    for result in results:
        for key in {(s.cell, s.failed) for s in matching(result, signatures)}:
            counts[" / ".join(labels[key])] += 1
    return counts


def attach_diagnoses(assignment: Assignment, results: list[SubmissionResult]) -> list[Signature]:
    """Fill each result's ``diagnoses`` from the assignment's stored signatures; returns them."""
    signatures = read_signatures(signatures_path(assignment))
    for result in results:
        result.diagnoses = diagnose(result, signatures)
    return signatures
