"""Seconds per submission: ``vlcourse grade`` against nbgrader's ``autograde``, on the same 01_simclr class.

One run on one machine:

1. builds N submissions of 01_simclr: the solution and every known mistake from
   ``grader/01_simclr/mistakes/``, repeated under new student names until there are N
   (cheats, blanks and malformed folders are left out: nbgrader cannot grade cheats honestly,
   and the others finish in no time);
2. grades them with :func:`vlcourse.grading.classroom.grade_class` (the code behind
   ``vlcourse grade ... --force``): each notebook runs in a sandboxed runner process, the hidden
   pytest suite runs in the trusted grader process;
3. grades the same answers with ``nbgrader autograde`` in a throw-away nbgrader course: the
   source notebook is the solution with one autograder test cell per hidden test appended
   (``in_kernel.py``: the hidden test functions themselves, run in the kernel; same points), ``nbgrader generate_assignment``
   builds the student version, each submission's answers go into it under
   ``submitted/<student>/01_simclr/``, and autograde executes each notebook, hidden tests
   included, in a Jupyter kernel;
4. prints total and per-submission wall seconds for both and their ratio, and checks that both
   tools gave every student the same total.

Both tools run with ``VLCOURSE_BUDGET=grade`` (small training cells), the same number of workers
(``--workers``: vlcourse's worker processes; for nbgrader, that many ``nbgrader autograde``
processes at once, each on its own share of the class in its own course folder, since one
nbgrader process grades one notebook at a time) and the same torch thread count per notebook
(vlcourse's runner limit, 1 by default, set through ``OMP_NUM_THREADS`` for the kernels).

Usage::

    python benchmarks/grading/run.py                       # N=8, one worker
    python benchmarks/grading/run.py -n 12 --workers 2 --json /tmp/grading.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from in_kernel import check_source
from vlcourse.grading.authoring.assignment import Assignment, load_assignment
from vlcourse.grading.classroom import grade_class
from vlcourse.grading.suite.plugin import GradedTest, collect_graded_tests
from vlcourse.grading.authoring.variants import read_variants, solution_submission, variant_submission
from vlcourse.paths import ensure_scripts_on_path

ASSIGNMENT = "01_simclr"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


# --- the class ---------------------------------------------------------------------------------


def build_class(assignment: Assignment, n: int, folder: Path) -> dict[str, Path]:
    """N submission folders: the solution, then each known mistake, repeated until there are N."""
    kinds = [("correct", None)] + [(f"mistake_{v.name}", v) for v in read_variants(assignment.mistakes_dir)]
    students = {}
    for i, (kind, variant) in zip(range(n), itertools.cycle(kinds)):
        student = f"s{i + 1:02d}_{kind}"
        target = folder / student
        if variant is None:
            solution_submission(assignment, target)
        else:
            variant_submission(assignment, variant, target)
        students[student] = target
    return students


# --- vlcourse ----------------------------------------------------------------------------------


def time_vlcourse(assignment: Assignment, submissions: Path, out: Path, workers: int) -> dict:
    """Grade the class with vlcourse; wall seconds and each student's total."""
    started = time.perf_counter()
    graded = grade_class(assignment, submissions, out, force=True, progress=False, workers=workers)
    wall = time.perf_counter() - started
    results = graded.results
    return {
        "total_seconds": wall,
        "grading_seconds": [r.seconds for r in results],  # without start-up (see SubmissionResult.seconds)
        "seconds_by_student": {r.student: r.seconds for r in results},
        "startup_seconds": [r.startup_seconds for r in results],
        "totals": {r.student: r.total for r in results},
        "statuses": {r.student: r.status for r in results},
    }


# --- nbgrader ----------------------------------------------------------------------------------


def nbgrader_source(assignment: Assignment, tests: list[GradedTest]) -> nbformat.NotebookNode:
    """The solution notebook in nbgrader's source format with one autograder test cell per hidden test.

    The answer cells become nbgrader "autograded answer" cells (no points of their own); the
    points move to the test cells, each worth what its vlcourse test is worth.
    """
    nb = nbformat.read(assignment.solution_notebook, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            meta["grade"] = False
            meta.pop("points", None)
    for test in tests:
        cell = nbformat.v4.new_code_cell(check_source(test.name, test.points))
        cell.metadata["nbgrader"] = {
            "grade": True, "solution": False, "locked": True, "task": False,
            "grade_id": test.name, "points": test.points, "schema_version": 3,
        }
        nb.cells.append(cell)
    return nb


def write_nbgrader_config(course: Path, cell_seconds: float) -> None:
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.Execute.timeout = {int(cell_seconds)}  # vlcourse's per-cell limit for this assignment\n"
    )


def make_course(assignment: Assignment, tests: list[GradedTest], course: Path) -> Path:
    """A fresh nbgrader course with the assignment generated; returns the student version."""
    source = course / "source" / assignment.name
    source.mkdir(parents=True)
    nbformat.write(nbgrader_source(assignment, tests), source / assignment.notebook)
    write_nbgrader_config(course, assignment.limits.cell_seconds)
    subprocess.run([NBGRADER, "generate_assignment", assignment.name, "--force"], cwd=course, check=True,
                   capture_output=True)
    return course / "release" / assignment.name / assignment.notebook


def fill_in_answers(release: Path, submission: Path) -> nbformat.NotebookNode:
    """The student version with the submission's answer cells pasted in, matched by grade_id."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in nbformat.read(submission, as_version=4).cells if "grade_id" in c.metadata.get("nbgrader", {})}
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    return nb


def place_submissions(assignment: Assignment, course: Path, release: Path, students: dict[str, Path]) -> None:
    """Each student's notebook and files in nbgrader's ``submitted/<student>/<assignment>/``."""
    for student, folder in students.items():
        target = course / "submitted" / student / assignment.name
        target.mkdir(parents=True)
        nbformat.write(fill_in_answers(release, folder / assignment.notebook), target / assignment.notebook)
        for name in assignment.files:
            shutil.copy2(folder / name, target / name)


def time_nbgrader(assignment: Assignment, tests: list[GradedTest], students: dict[str, Path], work: Path,
                  workers: int) -> dict:
    """Grade the class with ``nbgrader autograde``: ``workers`` processes at once, one course folder each."""
    template = work / "course_template"
    release = make_course(assignment, tests, template)
    shares = [dict(list(students.items())[i::workers]) for i in range(workers)]
    courses = []
    for i, share in enumerate(s for s in shares if s):
        course = work / f"course_{i}"
        shutil.copytree(template, course)
        write_nbgrader_config(course, assignment.limits.cell_seconds)
        place_submissions(assignment, course, release, share)
        courses.append(course)
    env = dict(os.environ, VLCOURSE_BUDGET="grade", OMP_NUM_THREADS=str(assignment.limits.threads),
               MKL_NUM_THREADS=str(assignment.limits.threads))
    started = time.perf_counter()
    processes = [subprocess.Popen([NBGRADER, "autograde", assignment.name, "--force"], cwd=course, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for course in courses]
    logs = [p.communicate()[0] for p in processes]
    wall = time.perf_counter() - started
    for process, log in zip(processes, logs):
        if process.returncode != 0:
            raise RuntimeError(f"nbgrader autograde failed:\n{log[-3000:]}")
    return {"total_seconds": wall, "totals": nbgrader_totals(assignment, courses)}


def nbgrader_totals(assignment: Assignment, courses: list[Path]) -> dict[str, float]:
    """Each student's autograded score, read back from the courses' gradebooks."""
    from nbgrader.api import Gradebook

    totals = {}
    for course in courses:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for submission in gb.assignment_submissions(assignment.name):
                totals[submission.student_id] = round(submission.score, 4)
    return totals


# --- a hanging submission ---------------------------------------------------------------------

HANGING_SAMPLE = "hang_in_loss"  # grader/01_simclr/samples/: nt_xent_loss never returns


def time_hanging_submission(assignment: Assignment, folder: Path) -> dict:
    """What a submission whose loss loops forever costs, beside a correct one graded in the same run.

    The issue's target: at most about 2x the call limit of the slowest hidden test, in total.
    """
    hanging = next(v for v in read_variants(assignment.samples_dir) if v.name == HANGING_SAMPLE)
    solution_submission(assignment, folder / "class" / "correct")
    variant_submission(assignment, hanging, folder / "class" / "hanging")
    results = {r.student: r for r in grade_class(assignment, folder / "class", folder / "out", force=True,
                                                 progress=False, workers=1).results}
    correct, hung = results["correct"], results["hanging"]
    slowest_limit = max(t.call_limit for t in correct.tests)
    extra = hung.seconds - correct.seconds
    return {
        "correct_seconds": correct.seconds, "hanging_seconds": hung.seconds, "hang_cost_seconds": round(extra, 2),
        "slowest_call_limit_seconds": slowest_limit, "cost_over_slowest_limit": round(extra / slowest_limit, 2),
        "hanging_total": hung.total, "hanging_status": hung.status,
        "flat_limits_would_cost_at_least_seconds": assignment.limits.cell_seconds + assignment.limits.call_seconds,
    }


def print_hanging(hang: dict) -> None:
    print(f"\nA submission whose nt_xent_loss never returns: {hang['hanging_seconds']:.1f} s against "
          f"{hang['correct_seconds']:.1f} s for a correct one, so the hang costs {hang['hang_cost_seconds']:.1f} s = "
          f"{hang['cost_over_slowest_limit']:.2f}x the slowest hidden test's call limit "
          f"({hang['slowest_call_limit_seconds']:.1f} s; target: at most about 2x). With the flat limits it would "
          f"cost at least {hang['flat_limits_would_cost_at_least_seconds']:.0f} s (one cell limit and one call limit).")


# --- report ------------------------------------------------------------------------------------


def summarize(n: int, workers: int, ours: dict, theirs: dict, load_before: tuple) -> dict:
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {
        "assignment": ASSIGNMENT, "submissions": n, "workers": workers, "cpus": len(os.sched_getaffinity(0)),
        "load_average_1min": {"start": round(load_before[0], 2), "end": round(os.getloadavg()[0], 2)},
        "vlcourse": {
            "total_seconds": round(ours["total_seconds"], 2),
            "seconds_per_submission": round(ours["total_seconds"] / n, 2),
            "mean_grading_seconds_without_startup": round(mean(ours["grading_seconds"]), 2),
            "mean_runner_startup_seconds": round(mean(ours["startup_seconds"]), 2),
            # wall time not spent grading a submission: zygotes and grading processes starting,
            # collecting the suite, the CSV and feedback
            "one_off_startup_seconds": round(ours["total_seconds"] - sum(ours["grading_seconds"]) / workers, 2),
            "totals": ours["totals"], "statuses": ours["statuses"], "seconds_by_student": ours["seconds_by_student"],
        },
        "nbgrader": {
            "total_seconds": round(theirs["total_seconds"], 2),
            "seconds_per_submission": round(theirs["total_seconds"] / n, 2),
            "totals": theirs["totals"],
        },
        "ratio_nbgrader_over_vlcourse": round(theirs["total_seconds"] / ours["total_seconds"], 2),
        # The measure: seconds per submission, without interpreter and torch start-up (which
        # vlcourse's warm runners pay once per worker). nbgrader has no warm kernels, so its
        # per-submission time is all it has.
        "ratio_per_submission_without_startup": round(
            (theirs["total_seconds"] / n) / (mean(ours["grading_seconds"]) / workers), 2),
    }


def print_report(summary: dict) -> None:
    v, g, n = summary["vlcourse"], summary["nbgrader"], summary["submissions"]
    load = summary["load_average_1min"]
    print(f"\n{summary['assignment']}: {n} submissions, {summary['workers']} worker(s), {summary['cpus']} CPU(s), "
          f"load average {load['start']} at the start, {load['end']} at the end\n")
    print(f"{'tool':<20} {'submissions':>11} {'total s':>9} {'s/submission':>13}  isolation")
    print(f"{'vlcourse grade':<20} {n:>11} {v['total_seconds']:>9.1f} {v['seconds_per_submission']:>13.2f}  "
          "sandboxed runner process; hidden tests in the trusted pytest process")
    print(f"{'nbgrader autograde':<20} {n:>11} {g['total_seconds']:>9.1f} {g['seconds_per_submission']:>13.2f}  "
          "hidden tests run inside the student's kernel")
    print(f"\nratio nbgrader / vlcourse, whole run (start-ups included): {summary['ratio_nbgrader_over_vlcourse']:.2f}")
    print(f"ratio nbgrader / vlcourse, per submission without start-up: {summary['ratio_per_submission_without_startup']:.2f}")
    print(f"vlcourse per submission, mean: {v['mean_grading_seconds_without_startup']:.2f} s grading "
          f"+ {v['mean_runner_startup_seconds']:.2f} s getting a runner; start-up once per worker: "
          f"{v['one_off_startup_seconds']:.1f} s of the total")
    print(f"\n{'student':<48} {'vlcourse':>9} {'nbgrader':>9}")
    for student, total in v["totals"].items():
        theirs = g["totals"].get(student)
        flag = "" if theirs is not None and abs(theirs - total) < 0.01 else "   <- differs"
        print(f"{student:<48} {total:>9.2f} {theirs if theirs is not None else float('nan'):>9.2f}{flag}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--submissions", type=int, default=8, help="how many submissions (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="parallel gradings, the same for both tools (default 1)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()  # other work on the machine skews both timings: report it
    ensure_scripts_on_path()  # nbgrader runs alembic as a command, also without an activated venv
    os.environ["VLCOURSE_BUDGET"] = "grade"  # vlcourse's runner sets it itself; nbgrader's kernels inherit it
    assignment = load_assignment(ASSIGNMENT)
    tests = collect_graded_tests(assignment.grader_dir)
    with tempfile.TemporaryDirectory(prefix="vlcourse-grading-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        students = build_class(assignment, args.submissions, work / "class")
        print(f"grading {len(students)} submissions with vlcourse ...", flush=True)
        ours = time_vlcourse(assignment, work / "class", work / "vlcourse_out", args.workers)
        print("grading them with nbgrader autograde ...", flush=True)
        theirs = time_nbgrader(assignment, tests, students, work / "nbgrader", args.workers)
        print("grading a submission that hangs ...", flush=True)
        hang = time_hanging_submission(assignment, work / "hanging")
    summary = summarize(len(students), args.workers, ours, theirs, load_before)
    summary["hanging_submission"] = hang
    print_report(summary)
    print_hanging(hang)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
