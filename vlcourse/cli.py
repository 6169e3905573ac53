"""The ``vlcourse`` command: a thin layer over the Python API (defaults live there).

    vlcourse build [ASSIGNMENT ...] [--check]     student notebooks from solutions/ (nbgrader)
    vlcourse verify [ASSIGNMENT ...]              solution full marks, blank zero, mistakes lose points
    vlcourse grade ASSIGNMENT SUBMISSIONS --out OUT   grade a class: grades.csv, feedback/, summary
    vlcourse demo [--out DIR]                     build, grade the sample class, print the gradebook
    vlcourse train simclr|gpt|mae --preset tiny   train a reference checkpoint
    vlcourse serve [--port 8000 | --uds PATH]     local OpenAI-compatible endpoint (the course's small GPTs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_build(args) -> int:
    from vlcourse.building import build, check_exercises

    if args.check:
        stale = check_exercises(args.assignments or None)
        for name in stale:
            print(f"stale: {name} (run `vlcourse build`)")
        print("exercises are up to date" if not stale else f"{len(stale)} stale notebook(s)")
        return 1 if stale else 0
    for path in build(args.assignments or None):
        print(f"built {path}")
    return 0


def cmd_verify(args) -> int:
    from vlcourse.grading.assignment import list_assignments, load_assignment
    from vlcourse.grading.verify import verify_assignment

    failed = 0
    for name in args.assignments or list_assignments():
        print(f"== verifying {name}")
        checks = verify_assignment(load_assignment(name), write_signatures=args.write_signatures)
        bad = [c for c in checks if not c.ok]
        failed += len(bad)
        print(f"== {name}: {len(checks) - len(bad)}/{len(checks)} checks passed")
    return 1 if failed else 0


def count_saved(results: Path) -> int:
    return len(list(results.glob("*.json")))


def cmd_grade(args) -> int:
    from vlcourse.grading.assignment import load_assignment
    from vlcourse.grading.classroom import grade_class

    from vlcourse.grading.forkserver import ServerError

    assignment = load_assignment(args.assignment)
    results = Path(args.out) / "results"
    try:
        result = grade_class(assignment, Path(args.submissions), Path(args.out), force=args.force, workers=args.workers)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {count_saved(results)} graded submissions are saved in {results}; "
              "run the same command again to grade the rest", file=sys.stderr)
        return 130
    except ServerError as exc:
        print(f"\nerror: the grading sandbox could not start, so no more submissions were graded "
              f"({count_saved(results)} are saved in {results}; fix the machine and rerun to grade the rest):\n{exc}",
              file=sys.stderr)
        return 2
    print(result.summary())
    if args.gradebook:
        from vlcourse.grading.gradebook import export_to_gradebook

        export_to_gradebook(assignment.name, assignment.notebook, result.max_scores, result.results, args.gradebook)
        print(f"exported to nbgrader's gradebook {args.gradebook}")
    print(f"\nwrote {Path(args.out) / 'grades.csv'} and {Path(args.out) / 'feedback'}/")
    return 0


def cmd_demo(args) -> int:
    from vlcourse.building import build
    from vlcourse.grading.assignment import list_assignments, load_assignment
    from vlcourse.grading.classroom import grade_class
    from vlcourse.grading.variants import sample_class

    out = Path(args.out)
    for path in build():
        print(f"built {path}")
    for name in args.assignments or list_assignments():
        assignment = load_assignment(name)
        submissions = sample_class(assignment, out / name / "submissions")
        print(f"\n== grading the sample class of {name} ({submissions})")
        result = grade_class(assignment, submissions, out / name, force=True)
        print(result.summary())
        print(f"\ngradebook: {out / name / 'grades.csv'}\n{(out / name / 'grades.csv').read_text()}")
        print(f"feedback pages: {out / name / 'feedback'}/")
    return 0


def cmd_train(args) -> int:
    import importlib

    module = importlib.import_module(f"vlcourse.{args.topic}")
    entry = module.train_reference(args.preset)
    print(f"wrote {entry.file} (sha256 {entry.sha256[:12]}…), metrics: {entry.metrics}")
    return 0


def cmd_serve(args) -> int:
    from vlcourse.serve.run import config_from_args, serve

    serve(config_from_args(args))
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="vlcourse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build student notebooks in exercises/ from solutions/ with nbgrader")
    p.add_argument("assignments", nargs="*", help="assignment folders, e.g. 01_simclr (default: all)")
    p.add_argument("--check", action="store_true", help="only report stale notebooks; exit 1 if any")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("verify", help="check the hidden tests: solution full marks, blank zero, mistakes lose points")
    p.add_argument("assignments", nargs="*", help="default: all assignments in grader/")
    p.add_argument("--write-signatures", action="store_true",
                   help="store the known mistakes' failure signatures (grader/NN/signatures.json) before checking them")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("grade", help="grade a folder of submissions (one folder per student, or nbgrader's submitted/ layout)")
    p.add_argument("assignment", help="e.g. 01_simclr")
    p.add_argument("submissions", help="folder with one sub-folder per student")
    p.add_argument("--out", required=True, help="where grades.csv, feedback/ and results/ go")
    p.add_argument("--force", action="store_true", help="regrade students already graded in --out")
    p.add_argument("--workers", type=int, default=None, help="parallel grading processes (default: one per CPU core, at most one per 30 submissions)")
    p.add_argument("--gradebook", metavar="DB_URL",
                   help="also write the scores into an nbgrader gradebook, e.g. sqlite:///course/gradebook.db")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("demo", help="build the assignments, grade the bundled sample class, print the gradebook")
    p.add_argument("assignments", nargs="*", help="default: all")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a reference checkpoint (instructors)")
    p.add_argument("topic", choices=["simclr", "gpt", "mae"])
    p.add_argument("--preset", default="tiny", help="tiny (CPU, minutes) or gpu (full size)")
    p.set_defaults(func=cmd_train)

    from vlcourse.serve.run import add_arguments

    p = sub.add_parser("serve", help="serve the course's small GPTs on a local OpenAI-compatible endpoint")
    add_arguments(p)
    p.set_defaults(func=cmd_serve)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
