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

How a test failed is part of the signature: a wrong result is one thing, the student's code raising,
hanging or not running is another (a crash on the tests a mistake gets wrong is not that mistake).
A cell where a hidden check itself broke (``grader_error``) is not diagnosed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.grade import SubmissionResult, save_result
from vlcourse.grading.authoring.variants import Variant


@dataclass(frozen=True)
class Signature:
    """A known mistake as the hidden suite sees it."""

    mistake: str
    cell: str
    failed: tuple[str, ...]  # names of the hidden tests it fails on its cell, sorted
    feedback: str  # what the student is told, in plain words
    raised: tuple[str, ...] = ()  # those of ``failed`` where the code raised, hung or did not run (not a wrong result)

    @property
    def key(self) -> tuple:
        """What a student's results are compared with (mistakes with the same key cannot be told apart)."""
        return self.cell, self.failed, self.raised


# The reason the grading plugin gives when a hidden test's assertion failed (vlcourse.grading.suite.plugin):
# the submission returned a wrong result. Any other reason of a failed test means its code raised,
# hung or could not run.
WRONG_RESULT = "the result did not match"


def failed_tests(result: SubmissionResult, cell: str) -> tuple[str, ...]:
    """The names of the tests of ``cell`` the result failed, sorted."""
    return tuple(sorted(t.name for t in result.tests if t.cell == cell and not t.passed))


def raised_tests(result: SubmissionResult, cell: str) -> tuple[str, ...]:
    """The failed tests of ``cell`` whose failure is not a wrong result (an error, a timeout, ...)."""
    return tuple(sorted(t.name for t in result.tests if t.cell == cell and not t.passed and t.reason != WRONG_RESULT))


def failure_key(result: SubmissionResult, cell: str) -> tuple | None:
    """The student's results on ``cell`` as a signature key; None where there is nothing to diagnose.

    Nothing failed, every test failed (that tells no mistake apart), or a hidden check broke.
    """
    tests = [t for t in result.tests if t.cell == cell]
    failed = failed_tests(result, cell)
    if not failed or len(failed) == len(tests) or any(t.grader_error for t in tests):
        return None
    return cell, failed, raised_tests(result, cell)


def signature_of(variant: Variant, result: SubmissionResult) -> Signature:
    """A known mistake's signature, from its graded result (as ``vlcourse verify`` has it)."""
    return Signature(variant.name, variant.cell, failed_tests(result, variant.cell), variant.feedback or variant.why,
                     raised_tests(result, variant.cell))


def signatures_path(assignment: Assignment) -> Path:
    """Where an assignment's signatures are kept: ``grader/NN/signatures.json``."""
    return assignment.grader_dir / "signatures.json"


def write_signatures(path: Path, signatures: list[Signature]) -> None:
    """Store signatures as JSON, sorted by mistake, so that a regenerated file diffs cleanly."""
    path.write_text(json.dumps([asdict(s) for s in sorted(signatures, key=lambda s: s.mistake)], indent=1) + "\n")


def read_signatures(path: Path) -> list[Signature]:
    """The stored signatures, or none when the file is missing (diagnosis is then simply off)."""
    if not path.exists():
        return []
    return [Signature(s["mistake"], s["cell"], tuple(s["failed"]), s["feedback"], tuple(s.get("raised", ())))
            for s in json.loads(path.read_text())]


def matching(result: SubmissionResult, signatures: list[Signature]) -> list[Signature]:
    """The signatures the student's failures match exactly (see :func:`failure_key`)."""
    return [s for s in signatures if failure_key(result, s.cell) == s.key]


def diagnose(result: SubmissionResult, signatures: list[Signature]) -> dict[str, list[str]]:
    """Per graded cell, the plain-words descriptions of the known mistakes the student's failures match."""
    found: dict[str, list[str]] = {}
    for signature in matching(result, signatures):
        if signature.feedback not in found.get(signature.cell, []):
            found.setdefault(signature.cell, []).append(signature.feedback)
    return found


def labels(signatures: list[Signature]) -> dict[tuple, str]:
    """A name per signature key: its mistake's, or "a / b" for mistakes the tests cannot tell apart."""
    names: dict[tuple, list[str]] = {}
    for signature in signatures:
        names.setdefault(signature.key, []).append(signature.mistake)
    return {key: " / ".join(mistakes) for key, mistakes in names.items()}


def mistake_students(results: list[SubmissionResult], signatures: list[Signature]) -> dict[str, list[str]]:
    """The students who made each known mistake (by :func:`labels`)."""
    label = labels(signatures)
    students: dict[str, list[str]] = {}
    for result in results:
        for key in sorted({s.key for s in matching(result, signatures)}):
            students.setdefault(label[key], []).append(result.student)
    return students


def mistake_counts(results: list[SubmissionResult], signatures: list[Signature]) -> Counter:
    """How many students made each known mistake (labels as in :func:`mistake_students`)."""
    return Counter({label: len(names) for label, names in mistake_students(results, signatures).items()})


def attach_diagnoses(assignment: Assignment, results: list[SubmissionResult], save_to: Path | None = None) -> list[Signature]:
    """Fill each result's ``diagnoses`` from the assignment's stored signatures; returns them.

    With ``save_to`` (the class's ``results/`` folder) each result is saved again, so its JSON holds
    the diagnoses (and the copy flags, attached just before).
    """
    signatures = read_signatures(signatures_path(assignment))
    for result in results:
        result.diagnoses = diagnose(result, signatures)
        if save_to is not None:
            save_result(result, save_to)
    return signatures
