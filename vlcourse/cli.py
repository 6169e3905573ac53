"""The ``vlcourse`` command: a thin layer over the Python API (defaults live there).

    vlcourse build [ASSIGNMENT ...] [--check]     student notebooks from solutions/ (nbgrader)
    vlcourse verify [ASSIGNMENT ...] [--mutants]  solution full marks, blank zero, mistakes lose points, mutants killed
    vlcourse grade ASSIGNMENT SUBMISSIONS --out OUT   grade a class: grades.csv, feedback/, summary
    vlcourse demo [--out DIR]                     build, grade the sample class, print its scores and where the files are
    vlcourse train simclr|gpt|mae|clip|clipcap|lora|icl --preset tiny   train a reference checkpoint (also under torchrun)
    vlcourse gpu-day [--dry-run] [--commit]       train every gpu preset in a row, compare with tiny
    vlcourse new NN_topic [--title TITLE]         scaffold a new assignment (instructors)
    vlcourse serve [--port 8000 | --uds PATH]     local OpenAI-compatible endpoint (the course's small GPTs;
                                                  --api-keys FILE --rate-limit R to share it with a class)
    vlcourse jupyter-role [student|instructor]    nbgrader's tools off (student) or on (instructor) in this JupyterLab

A mistake in the input (a missing folder, an unknown assignment, a bad option) is one line on
stderr and exit status 2; ``vlcourse --debug ...`` shows the traceback. ``--course DIR`` points
every command at another course folder (as ``VLCOURSE_ROOT`` does). ``vlcourse grade ...
--cluster local:N | tcp://HOST:8786`` grades on Dask workers instead (vlcourse.grading.cluster).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from vlcourse.options import add_training_options
from vlcourse.usererrors import USER_ERROR_STATUS, UserError, positive_int, require_assignment, \
    require_folder, require_gradebook, require_submissions, require_suite, require_writable_folder


def cmd_build(args) -> int:
    from vlcourse.building import BuildError, build, check_exercises, source_assignments

    known = source_assignments()
    unknown = [name for name in args.assignments if name not in known]
    if unknown:
        raise UserError(f"no source notebook for {', '.join(unknown)} in solutions/ (known: {', '.join(known) or 'none'}); "
                        "check the spelling, or scaffold one with `vlcourse new NN_topic`")
    try:
        return build_or_check(args, build, check_exercises)
    except BuildError as exc:
        raise UserError(f"{str(exc).splitlines()[0].rstrip(':')}; fix the source notebook (--debug shows nbgrader's log)") from exc


def build_or_check(args, build, check_exercises) -> int:
    """``vlcourse build`` once the names are known to exist."""
    if args.check:
        stale = check_exercises(args.assignments or None)
        for name in stale:
            print(f"stale: {name} (run `vlcourse build`)")
        print("exercises are up to date" if not stale else f"{len(stale)} stale notebook(s)")
        return 1 if stale else 0
    for path in build(args.assignments or None):
        print(f"built {path}")
    return 0


def cell_list(text: str) -> list[str]:
    return [cell.strip() for cell in text.split(",") if cell.strip()]


def require_cells(assignment, args) -> None:
    """``--cells`` only with ``--mutants``, and only graded cells of the assignment."""
    if args.cells is None:
        return
    if not args.mutants:
        raise UserError("--cells only applies to --mutants; add --mutants")
    unknown = [c for c in args.cells if c not in assignment.graded_cells()]
    if unknown:
        raise UserError(f"{assignment.name} has no graded cell {', '.join(unknown)}; "
                        f"its graded cells: {', '.join(assignment.graded_cells())}")


def cmd_verify(args) -> int:
    from vlcourse.grading.authoring.assignment import list_assignments
    from vlcourse.grading.authoring.verify import verify_assignment

    failed = 0
    assignments = [require_assignment(name) for name in args.assignments or list_assignments()]
    for assignment in assignments:
        require_suite(assignment, built=True)
        require_cells(assignment, args)
    for assignment in assignments:
        name = assignment.name
        print(f"== verifying {name}")
        report = Path(args.out) / f"{name}_mutants.html" if args.mutants else None
        checks = verify_assignment(assignment, write_signatures=args.write_signatures, mutants=args.mutants,
                                   cells=args.cells, report=report)
        bad = [c for c in checks if not c.ok]
        failed += len(bad)
        print(f"== {name}: {len(checks) - len(bad)}/{len(checks)} checks passed")
    return 1 if failed else 0


def count_saved(results: Path) -> int:
    return len(list(results.glob("*.json")))


def due_policy(assignment, deadline: str | None, penalty: str | None):
    """The assignment's ``[due]`` policy with ``--deadline`` / ``--late-penalty`` applied."""
    from vlcourse.grading.intake.due import load_due, parse_time

    try:
        policy = load_due(assignment.grader_dir)
    except ValueError as exc:
        raise UserError(f"{exc}; fix the [due] table (see vlcourse/grading/intake/due.py)") from None
    try:
        when = parse_time(deadline) if deadline else None
    except (ValueError, OverflowError):
        raise UserError(f"--deadline {deadline!r} is not a date and time; give e.g. 2026-03-01T23:59+01:00") from None
    share = None
    if penalty is not None:
        try:
            share = float(penalty.rstrip("%")) / (100 if penalty.endswith("%") else 1)
        except ValueError:
            raise UserError(f"--late-penalty {penalty!r} is not a number; give the share lost per day, e.g. 0.1 or 10%") from None
    try:
        return policy.replaced(when, share)
    except ValueError as exc:
        raise UserError(f"--late-penalty {penalty!r}: {exc}") from None


def require_cluster(address: str):
    """``--cluster ADDRESS`` as a :class:`vlcourse.grading.cluster.ClusterConfig`; a running scheduler there must answer."""
    try:
        from vlcourse.grading.cluster import ClusterConfig, require_reachable
    except ImportError as exc:
        raise UserError(f"--cluster needs Dask distributed ({exc}); install it with `pip install 'dask[distributed]'`") from None
    try:
        config = ClusterConfig(address)
    except ValueError as exc:
        raise UserError(f"--cluster {exc}") from None
    require_reachable(config)
    return config


def cmd_grade(args) -> int:
    assignment = require_assignment(args.assignment)
    require_submissions(Path(args.submissions))
    require_writable_folder(Path(args.out))
    if args.gradebook:
        require_gradebook(args.gradebook)
    due = due_policy(assignment, args.deadline, args.late_penalty)
    require_suite(assignment)
    cluster = require_cluster(args.cluster) if args.cluster else None
    from vlcourse.grading.classroom import grade_class  # torch: only once the inputs are known to be right
    from vlcourse.grading.sandbox.forkserver import ServerError
    results = Path(args.out) / "results"
    try:
        result = grade_class(assignment, Path(args.submissions), Path(args.out), force=args.force, workers=args.workers,
                             due=due, cluster=cluster)
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
        from vlcourse.grading.results.gradebook import export_to_gradebook

        export_to_gradebook(assignment.name, assignment.notebook, result.max_scores, result.results, args.gradebook)
        print(f"exported to nbgrader's gradebook {args.gradebook}")
    print(written_files(Path(args.out), result.lms_file))
    return 0


def written_files(out: Path, lms_file: Path | None = None) -> str:
    """Where a graded class's files are: the lines printed after its summary."""
    lines = [f"\nwrote {out / 'grades.csv'}, {out / 'feedback'}/ (a page per student), {out / 'report.html'} "
             f"(the class report) and {out / 'results'}/ (every detail, for TAs)"]
    if lms_file:
        lines.append(f"wrote {lms_file}: import it into the LMS the submissions came from")
    return "\n".join(lines)


def cmd_demo(args) -> int:
    from vlcourse.building import build
    from vlcourse.grading.authoring.assignment import list_assignments
    from vlcourse.grading.classroom import grade_class
    from vlcourse.grading.authoring.variants import sample_class

    out = require_writable_folder(Path(args.out))
    assignments = [require_assignment(name) for name in args.assignments or list_assignments()]
    for path in build():
        print(f"built {path}")
    for assignment in assignments:
        name = assignment.name
        submissions = sample_class(assignment, out / name / "submissions")
        print(f"\n== grading the sample class of {name} ({submissions})")
        result = grade_class(assignment, submissions, out / name, force=True)
        print(result.summary())
        print(written_files(out / name, result.lms_file))
    return 0


def cmd_train(args) -> int:
    import importlib

    module = importlib.import_module(f"vlcourse.{args.topic}")
    presets = getattr(module, "PRESETS", None)
    if isinstance(presets, dict) and args.preset not in presets:
        raise UserError(f"unknown preset {args.preset!r} for {args.topic}; choose one of {', '.join(sorted(presets))}")
    from vlcourse.checkpoints import run_reference_training
    from vlcourse.distributed import world

    entry = run_reference_training(module.train_reference, args.preset, steps=args.steps, out=args.out, threads=args.threads)
    if world().is_main:
        print(f"wrote {entry.file} (sha256 {entry.sha256[:12]}…), metrics: {entry.metrics}")
    return 0


def cmd_gpu_day(args) -> int:
    from vlcourse.gpu_day import gpu_day

    outcomes = gpu_day(Path(args.out), dry_run=args.dry_run, commit=args.commit,
                       only=args.only.split(",") if args.only else None)
    return 0 if all(o.status == "trained" for o in outcomes) else 1


def cmd_new(args) -> int:
    from vlcourse.paths import repo_root
    from vlcourse.scaffold import NEXT_STEPS, check_name, new_assignment

    root = repo_root()
    for path in new_assignment(args.name, root, args.title):
        print(f"wrote {path.relative_to(root)}")
    print(NEXT_STEPS.format(name=args.name, topic=check_name(args.name)["topic"]))
    return 0


def cmd_jupyter_role(args) -> int:
    """Apply a role to this environment's JupyterLab, or say which one it has."""
    from vlcourse.jupyter_role import apply_role, current_role, describe, environment_config_dir

    if args.unless_set and not args.role:
        raise UserError("--unless-set needs a role to apply, e.g. `vlcourse jupyter-role student --unless-set`")
    config_dir = Path(args.config_dir) if args.config_dir else environment_config_dir()
    role = current_role(config_dir)
    if not args.role or (args.unless_set and role is not None):
        print(describe(role, config_dir))
        return 0
    apply_role(args.role, config_dir)
    print(describe(args.role, config_dir))
    print("restart JupyterLab (and reload its page) to see the change")
    return 0


def cmd_serve(args) -> int:
    from vlcourse.serve.run import config_from_args, serve

    try:
        config = config_from_args(args)
    except (ValueError, OSError) as exc:
        raise UserError(str(exc)) from None
    serve(config)
    return 0


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line saying what is wrong and where the help is (exit status 2)."""

    def error(self, message: str):
        self.exit(USER_ERROR_STATUS, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def parser() -> argparse.ArgumentParser:
    top = OneLineParser(prog="vlcourse", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    top.add_argument("--course", metavar="DIR", help="the course folder holding solutions/, exercises/ and grader/ "
                     "(default: $VLCOURSE_ROOT, else the checkout around the package)")
    common = argparse.ArgumentParser(add_help=False)  # --debug also works after the command
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = top.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    p = sub.add_parser("build", parents=[common], help="build student notebooks in exercises/ from solutions/ with nbgrader")
    p.add_argument("assignments", nargs="*", help="assignment folders, e.g. 01_simclr (default: all)")
    p.add_argument("--check", action="store_true", help="only report stale notebooks; exit 1 if any")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("verify", parents=[common], help="check the hidden tests: solution full marks, blank zero, mistakes lose points")
    p.add_argument("assignments", nargs="*", help="default: all assignments in grader/")
    p.add_argument("--write-signatures", action="store_true",
                   help="store the known mistakes' failure signatures (grader/NN/signatures.json) before checking them")
    p.add_argument("--mutants", action="store_true",
                   help="also grade mutants of every graded cell: each must lose points on its cell or be listed in "
                        "grader/NN/equivalent_mutants.toml with a reason (writes OUT/NN_mutants.html)")
    p.add_argument("--cells", type=cell_list, metavar="ID[,ID...]",
                   help="with --mutants: only these graded cells' mutants, and no other check but the solution's")
    p.add_argument("--out", default="verify_out", help="where --mutants writes its report (default: verify_out)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("grade", parents=[common], help="grade a folder of submissions (one folder per student, or nbgrader's submitted/ layout)")
    p.add_argument("assignment", help="e.g. 01_simclr")
    p.add_argument("submissions", help="folder with one sub-folder per student")
    p.add_argument("--out", required=True, help="where grades.csv, feedback/ and results/ go")
    p.add_argument("--force", action="store_true", help="regrade students already graded in --out")
    parallel = p.add_mutually_exclusive_group()
    parallel.add_argument("--workers", type=positive_int, default=None, help="parallel grading processes (default: one per CPU core, at most one per 30 submissions)")
    parallel.add_argument("--cluster", metavar="ADDRESS",
                          help="grade on Dask: local (a local cluster, one worker per core), local:N (N workers) or a "
                               "running scheduler, e.g. tcp://host:8786 (the course, submissions and --out on a shared filesystem)")
    p.add_argument("--gradebook", metavar="DB_URL",
                   help="also write the scores into an nbgrader gradebook, e.g. sqlite:///course/gradebook.db")
    p.add_argument("--deadline", metavar="TIME", help="due date and time, e.g. 2026-03-01T23:59+01:00 "
                   "(default: [due] deadline in assignment.toml; without an offset: UTC)")
    p.add_argument("--late-penalty", metavar="SHARE", help="share of the total lost per started day late, e.g. 0.1 or 10%% "
                   "(default: [due] penalty_per_day, else 0)")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("demo", parents=[common], help="build the assignments, grade the bundled sample class, print the scores and where the files are")
    p.add_argument("assignments", nargs="*", help="default: all")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("new", parents=[common], help="scaffold a new assignment: source notebook, hidden test, contract, mistake")
    p.add_argument("name", help="NN_topic, e.g. 04_clip")
    p.add_argument("--title", help="the assignment's title (default: from the topic)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("train", parents=[common], help="train a reference checkpoint (instructors)")
    p.add_argument("topic", choices=["simclr", "gpt", "mae", "clip", "clipcap", "lora", "icl"])
    p.add_argument("--preset", default="tiny", help="tiny (CPU, minutes) or gpu (full size)")
    add_training_options(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("gpu-day", parents=[common], help="train every gpu preset in a row (about 6 minutes on one "
                       "H100), compare each with its tiny checkpoint, optionally commit the better ones")
    p.add_argument("--out", default="gpu_day", help="staging folder for the checkpoints and report.md (default: gpu_day)")
    p.add_argument("--commit", action="store_true", help="copy the checkpoints that beat tiny into vlcourse/weights")
    p.add_argument("--dry-run", action="store_true", help="every preset a few steps on the CPU (the test suite's check)")
    p.add_argument("--only", metavar="TOPIC[,TOPIC...]", help="only these topics (simclr, gpt, mae, clip, clipcap, lora)")
    p.set_defaults(func=cmd_gpu_day)

    p = sub.add_parser("jupyter-role", parents=[common],
                       help="a student's JupyterLab (nbgrader's tools off) or an instructor's (on); no role: show the current one")
    p.add_argument("role", nargs="?", choices=["student", "instructor"], help="the role to apply (default: show the current one)")
    p.add_argument("--unless-set", action="store_true", help="apply the role only where none is set yet (what setup.sh does)")
    p.add_argument("--config-dir", metavar="DIR",
                   help="the Jupyter config folder to write (default: this environment's, <sys.prefix>/etc/jupyter)")
    p.set_defaults(func=cmd_jupyter_role)

    from vlcourse.serve.run import add_arguments

    p = sub.add_parser("serve", help="serve the course's small GPTs on a local OpenAI-compatible endpoint")
    add_arguments(p)
    p.set_defaults(func=cmd_serve)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.course:
            os.environ["VLCOURSE_ROOT"] = str(require_folder(Path(args.course), "course folder").resolve())
        return args.func(args)
    except UserError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return USER_ERROR_STATUS


if __name__ == "__main__":
    sys.exit(main())
