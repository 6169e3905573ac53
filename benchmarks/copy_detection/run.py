"""Precision and recall of copy detection on each assignment's corpus (see vlcourse.grading.copy_corpus).

Usage::

    python benchmarks/copy_detection/run.py            # every assignment with a corpus
    python benchmarks/copy_detection/run.py 01_simclr
"""

from __future__ import annotations

import argparse

from vlcourse.grading.assignment import list_assignments, load_assignment
from vlcourse.grading.copy_corpus import measure


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: all")
    args = parser.parse_args(argv)
    print(f"{'assignment':<12} {'students':>8} {'pairs':>6} {'copies':>6} {'flagged':>7} {'precision':>9} {'recall':>6}")
    for name in args.assignments or list_assignments():
        score = measure(load_assignment(name))
        flagged = score.true_positives + len(score.false_positives)
        print(f"{name:<12} {score.students:>8} {score.pairs:>6} {score.copy_pairs:>6} {flagged:>7} "
              f"{score.precision:>9.2f} {score.recall:>6.2f}")
        for a, b, s in score.false_positives:
            print(f"   false positive: {a} ~ {b} ({s:.2f})")
        for a, b in score.missed:
            print(f"   missed copy: {a} ~ {b}")


if __name__ == "__main__":
    main()
