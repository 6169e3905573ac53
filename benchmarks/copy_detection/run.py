"""Precision and recall of copy detection on each assignment's measurement class.

The class (see vlcourse.grading.integrity.copy_corpus): the solution, the independent correct alternatives,
the demo class's known mistakes and samples, hand-made disguised copies and automatic ones.

Usage::

    .venv/bin/python benchmarks/copy_detection/run.py            # every assignment
    .venv/bin/python benchmarks/copy_detection/run.py 02_gpt --pairs 0.5   # also every pair scoring 0.5 or more
"""

from __future__ import annotations

import argparse

from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
from vlcourse.grading.integrity.copy_corpus import CopyDetectionScore, measure
from vlcourse.grading.integrity.similarity import FLAG_SCORE, MIN_MATCH, MIN_TOKENS

COLUMNS = ("assignment", "students", "pairs", "copy pairs (hand+auto)", "flagged", "precision", "recall",
           "weakest copy", "strongest independent")


def row(score: CopyDetectionScore) -> list[str]:
    hand = score.copy_pairs - score.automatic_pairs
    return [score.assignment, str(score.students), str(score.pairs), f"{score.copy_pairs} ({hand}+{score.automatic_pairs})",
            str(len(score.flagged)), f"{score.precision:.2f}", f"{score.recall:.2f}",
            f"{score.weakest_copy:.2f}", f"{score.strongest_independent:.2f}"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: all")
    parser.add_argument("--pairs", type=float, default=None, help="also list every pair scoring at least this")
    args = parser.parse_args(argv)
    print(f"MIN_MATCH={MIN_MATCH} tokens, FLAG_SCORE={FLAG_SCORE}, MIN_TOKENS={MIN_TOKENS}\n")
    print("| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS))
    scores = [measure(load_assignment(name)) for name in args.assignments or list_assignments()]
    for score in scores:
        print("| " + " | ".join(row(score)) + " |")
    for score in scores:
        for m in score.false_positives:
            print(f"false positive ({score.assignment}): {m.a} ~ {m.b} {m.score:.2f} {m.cells}")
        for a, b in score.missed:
            print(f"missed copy ({score.assignment}): {a} ~ {b}")
        if args.pairs is not None:
            for m in (m for m in score.scored if m.score >= args.pairs):
                print(f"{score.assignment} {'copy' if score.is_copy(m) else 'indep'} {m.score:.2f} {m.a} ~ {m.b} {m.cells}")


if __name__ == "__main__":
    main()
