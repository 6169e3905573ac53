"""Mutation testing cost per assignment: mutants, killed / equivalent / survived, and minutes.

For each assignment: every mutant of every graded cell, graded as ``vlcourse verify NN --mutants``
grades them (one class run, each mutant on its own cell's tests, stopping at the first lost point),
timed. With ``--sample K`` the same K mutants (a fixed random sample) are also graded the plain way,
as whole submissions on the whole suite, in the same run: the ratio of the two is what the focused
run saves. See README.md for the numbers of the last run.

    python benchmarks/mutation/run.py                       # all six assignments
    python benchmarks/mutation/run.py 01_simclr --sample 20 --json /tmp/mutation.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from vlcourse.grading.authoring.assignment import list_assignments, load_assignment
from vlcourse.grading.classroom import default_workers, grade_many
from vlcourse.grading.authoring.mutation import all_mutants, mutant_folders, mutation_run
from vlcourse.grading.suite.plugin import collect_graded_tests


def grade_timed(assignment, folders, tests, focus) -> tuple[dict, float]:
    started = time.monotonic()
    workers = default_workers(len(folders), assignment.submissions_per_worker)
    results = {r.student: r for r in grade_many(assignment, folders, tests, workers, focus)}
    return results, time.monotonic() - started


def measure(name: str, sample: int) -> dict:
    assignment = load_assignment(name)
    tests = collect_graded_tests(assignment.grader_dir)
    started = time.monotonic()
    mutants = all_mutants(assignment, tests)
    generated = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="bench-mutation-") as tmp:
        folders, focus = mutant_folders(assignment, mutants, Path(tmp) / "all")
        results, seconds = grade_timed(assignment, folders, tests, focus)
        run = mutation_run(assignment, mutants, results, started)
        row = {"assignment": name, "mutants": len(mutants), "killed": sum(o.status == "killed" for o in run.outcomes),
               "equivalent": sum(o.status == "equivalent" for o in run.outcomes), "survived": len(run.survivors()),
               "generate_seconds": round(generated, 1), "grade_seconds": round(seconds, 1),
               "minutes": round((time.monotonic() - started) / 60, 1)}
        if sample:
            chosen = random.Random(0).sample(mutants, min(sample, len(mutants)))
            some, some_focus = mutant_folders(assignment, chosen, Path(tmp) / "sample")
            _, focused = grade_timed(assignment, some, tests, some_focus)
            _, plain = grade_timed(assignment, some, tests, None)
            row |= {"sample": len(chosen), "sample_focused_seconds": round(focused, 1),
                    "sample_whole_suite_seconds": round(plain, 1), "whole_suite_over_focused": round(plain / focused, 2)}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="default: all")
    parser.add_argument("--sample", type=int, default=0, help="also grade K mutants the plain way, for the ratio")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'assignment':<12}{'mutants':>8}{'killed':>8}{'equiv.':>8}{'survived':>9}{'minutes':>9}")
    for name in args.assignments or list_assignments():
        row = measure(name, args.sample)
        rows.append(row)
        print(f"{name:<12}{row['mutants']:>8}{row['killed']:>8}{row['equivalent']:>8}{row['survived']:>9}{row['minutes']:>9}"
              + (f"   sample of {row['sample']}: whole suite {row['whole_suite_over_focused']}x the focused run"
                 if "sample" in row else ""), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
