"""Seconds per submission: ``vlcourse grade`` against nbgrader's ``autograde``, on the same class, for each assignment.

One run on one machine, for each assignment asked for (``--assignment NN``, default all six, in order):

1. builds N submissions: the solution and every known mistake from ``grader/NN_name/mistakes/``, each
   with the assignment's reference files, repeated under new student names until there are N
   (cheats, blanks and malformed folders are left out: nbgrader cannot grade cheats honestly,
   and the others finish in no time);
2. grades them with :func:`vlcourse.grading.classroom.grade_class` (the code behind
   ``vlcourse grade ... --force``): each notebook runs in a sandboxed runner process, the hidden
   pytest suite runs in the trusted grader process;
3. grades the same answers with ``nbgrader autograde`` in a throw-away nbgrader course: the
   source notebook is the solution with one autograder test cell per hidden test appended
   (``in_kernel.py``: the hidden test functions themselves, run in the kernel; same points),
   ``nbgrader generate_assignment`` builds the student version, each submission's answers go into
   it under ``submitted/<student>/<assignment>/``, and autograde executes each whole notebook,
   hidden tests included, in a Jupyter kernel;
4. prints one table (per assignment: median seconds per submission without start-up and total wall
   seconds for both tools, and the ratio of the medians), and checks that both tools gave every
   student the same total.

Both tools run with ``VLCOURSE_BUDGET=grade`` (small training cells), the same number of workers
(``--workers``: vlcourse's worker processes; for nbgrader, that many ``nbgrader autograde``
processes at once, each on its own share of the class in its own course folder, since one
nbgrader process grades one notebook at a time) and the same torch thread count per notebook
(vlcourse's runner limit, 1 by default, set through ``OMP_NUM_THREADS`` for the kernels). An
assignment whose notebooks ask the course's LLM endpoint (``llm = true``) gets one endpoint per
worker for both tools: vlcourse starts its own with each worker; for nbgrader the benchmark starts
one per autograde process and names it in ``VLCOURSE_LLM_SOCKET``, inside the timed run.

Usage::

    python benchmarks/grading/run.py                             # all six assignments, N=6 each, one worker
    python benchmarks/grading/run.py --assignment 04 -n 8 --json /tmp/grading.json
    python benchmarks/grading/run.py --assignment 01 --hanging   # also: what a hanging submission costs
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from in_kernel import check_source
from vlcourse.grading.authoring.assignment import Assignment, list_assignments, load_assignment
from vlcourse.grading.authoring.variants import read_variants, solution_submission, variant_submission
from vlcourse.grading.classroom import grade_class
from vlcourse.grading.suite.plugin import GradedTest, collect_graded_tests
from vlcourse.paths import ensure_scripts_on_path

# nbgrader as a module of this interpreter: its kernels then run this interpreter too (ipykernel's own
# kernel spec), so they import the same vlcourse as the grading side (a worktree's, in a layered venv)
NBGRADER = [sys.executable, "-m", "nbgrader"]
TIMINGS = "autograde_timings.jsonl"  # nbgrader's convert hooks write when each submission starts and ends


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
    """Grade the class with vlcourse; wall seconds, each submission's grading seconds and total."""
    started = time.perf_counter()
    graded = grade_class(assignment, submissions, out, force=True, progress=False, workers=workers)
    wall = time.perf_counter() - started
    results = graded.results
    return {
        "total_seconds": wall,
        "seconds_by_student": {r.student: r.seconds for r in results},  # without start-up (SubmissionResult.seconds)
        "startup_seconds": [r.startup_seconds for r in results],
        "totals": {r.student: r.total for r in results},
        "statuses": {r.student: r.status for r in results},
    }


# --- nbgrader ----------------------------------------------------------------------------------


def hidden_test_file(assignment: Assignment, test: GradedTest) -> Path:
    return assignment.grader_dir / Path(test.nodeid.split("::")[0]).name


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
        cell = nbformat.v4.new_code_cell(check_source(hidden_test_file(assignment, test), test.name, test.points))
        cell.metadata["nbgrader"] = {
            "grade": True, "solution": False, "locked": True, "task": False,
            "grade_id": test.name, "points": test.points, "schema_version": 3,
        }
        nb.cells.append(cell)
    return nb


def write_nbgrader_config(course: Path, cell_seconds: float) -> None:
    """The course's config: vlcourse's per-cell limit, and hooks that time each submission (start-up excluded)."""
    (course / "nbgrader_config.py").write_text(
        "import json as _json, time as _time\n"
        "from pathlib import Path as _Path\n"
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.Execute.timeout = {int(cell_seconds)}  # vlcourse's per-cell limit for this assignment\n"
        "\n"
        "def _timed(event):\n"
        "    def hook(assignment, student, notebooks):\n"
        "        # notebooks: submitted/<student>/<assignment>/*.ipynb of the submission being converted\n"
        "        who = _Path(notebooks[0]).parent.parent.name if notebooks else student\n"
        f"        with open({str(course / TIMINGS)!r}, 'a') as f:\n"
        "            f.write(_json.dumps({'student': who, 'event': event, 'time': _time.time()}) + '\\n')\n"
        "    return hook\n"
        "\n"
        "c.BaseConverter.pre_convert_hook = _timed('start')\n"
        "c.BaseConverter.post_convert_hook = _timed('end')\n"
    )


def make_course(assignment: Assignment, tests: list[GradedTest], course: Path) -> Path:
    """A fresh nbgrader course with the assignment generated; returns the student version."""
    source = course / "source" / assignment.name
    source.mkdir(parents=True)
    nbformat.write(nbgrader_source(assignment, tests), source / assignment.notebook)
    write_nbgrader_config(course, assignment.limits.cell_seconds)
    subprocess.run([*NBGRADER, "generate_assignment", assignment.name, "--force"], cwd=course, check=True,
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


def kernel_environment(assignment: Assignment) -> dict[str, str]:
    """nbgrader's environment, which its kernels inherit: the runner's budget, threads and progress bars,
    and each notebook's LLM response cache in its own folder (a runner's is in its scratch folder)."""
    threads = str(assignment.limits.threads)
    return dict(os.environ, VLCOURSE_BUDGET="grade", OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
                TQDM_DISABLE="1", VLCOURSE_LLM_CACHE=".vlcourse-llm-cache")  # relative: the kernel's notebook folder


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
        (course / TIMINGS).unlink(missing_ok=True)
        place_submissions(assignment, course, release, share)
        courses.append(course)
    env = kernel_environment(assignment)
    started = time.perf_counter()
    endpoints = start_endpoints(assignment, len(courses))
    try:
        processes = [subprocess.Popen([*NBGRADER, "autograde", assignment.name, "--force"], cwd=course,
                                      env=dict(env, **endpoint_environment(endpoint)),
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for course, endpoint in zip(courses, endpoints)]
        logs = [p.communicate()[0] for p in processes]
    finally:
        for endpoint in endpoints:
            if endpoint is not None:
                endpoint.close()
    wall = time.perf_counter() - started
    for process, log in zip(processes, logs):
        if process.returncode != 0:
            raise RuntimeError(f"nbgrader autograde failed:\n{log[-3000:]}")
    return {"total_seconds": wall, "seconds_by_student": nbgrader_seconds(courses),
            "totals": nbgrader_totals(assignment, courses)}


def start_endpoints(assignment: Assignment, count: int) -> list:
    """For an ``llm = true`` assignment, one course LLM endpoint per autograde process (as one per vlcourse worker)."""
    if not assignment.llm:
        return [None] * count
    from vlcourse.llm import LocalEndpoint

    endpoints = [LocalEndpoint(threads=assignment.limits.threads) for _ in range(count)]
    return [endpoint.wait() for endpoint in endpoints]


def endpoint_environment(endpoint) -> dict[str, str]:
    if endpoint is None:
        return {}
    from vlcourse.llm.grading import SOCKET_VARIABLE

    return {SOCKET_VARIABLE: endpoint.socket}


def nbgrader_seconds(courses: list[Path]) -> dict[str, float]:
    """Each submission's seconds in autograde, from its convert hooks: copying it in, the kernel's start, the
    whole notebook, the scores saved (the autograde process's own start-up and the database set-up excluded)."""
    seconds = {}
    for course in courses:
        started = {}
        for line in (course / TIMINGS).read_text().splitlines():
            event = json.loads(line)
            if event["event"] == "start":
                started[event["student"]] = event["time"]
            elif event["student"] in started:
                seconds[event["student"]] = round(event["time"] - started.pop(event["student"]), 2)
    return seconds


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

TARGET_MEDIAN_SECONDS = 3.0  # issue 22: vlcourse's median per submission, start-up excluded, on every assignment


def summarize(assignment: str, n: int, workers: int, ours: dict, theirs: dict, load: tuple[float, float]) -> dict:
    ours_median = statistics.median(ours["seconds_by_student"].values())
    theirs_median = statistics.median(theirs["seconds_by_student"].values())
    disagree = {s: {"vlcourse": t, "nbgrader": theirs["totals"].get(s)} for s, t in ours["totals"].items()
                if theirs["totals"].get(s) is None or abs(theirs["totals"][s] - t) >= 0.01}
    return {
        "assignment": assignment, "submissions": n, "workers": workers, "cpus": len(os.sched_getaffinity(0)),
        "load_average_1min": {"start": round(load[0], 2), "end": round(load[1], 2)},
        "vlcourse": {
            "median_seconds_per_submission": round(ours_median, 2),  # without start-up (SubmissionResult.seconds)
            "total_seconds": round(ours["total_seconds"], 2),
            "mean_runner_startup_seconds": round(statistics.mean(ours["startup_seconds"]), 2),
            # wall time not spent grading a submission: zygotes and grading processes starting,
            # collecting the suite, the CSV and feedback
            "one_off_startup_seconds": round(ours["total_seconds"] - sum(ours["seconds_by_student"].values()) / workers, 2),
            "seconds_by_student": ours["seconds_by_student"], "totals": ours["totals"], "statuses": ours["statuses"],
        },
        "nbgrader": {
            "median_seconds_per_submission": round(theirs_median, 2),  # its convert hooks: one notebook, kernel start included
            "total_seconds": round(theirs["total_seconds"], 2),
            "seconds_by_student": theirs["seconds_by_student"], "totals": theirs["totals"],
        },
        "ratio_of_medians": round(theirs_median / ours_median, 2),  # the measure
        "ratio_of_totals": round(theirs["total_seconds"] / ours["total_seconds"], 2),
        "within_target": ours_median <= TARGET_MEDIAN_SECONDS,
        "totals_agree": not disagree, "disagreements": disagree,
    }


def print_assignment(summary: dict) -> None:
    v, g = summary["vlcourse"], summary["nbgrader"]
    load = summary["load_average_1min"]
    print(f"\n{summary['assignment']}: {summary['submissions']} submissions, {summary['workers']} worker(s), "
          f"load average {load['start']} at the start, {load['end']} at the end; vlcourse start-up "
          f"{v['one_off_startup_seconds']:.1f} s of its total, {v['mean_runner_startup_seconds']:.2f} s getting a runner "
          f"per submission (not in the median)")
    print(f"{'student':<52} {'vlcourse s':>10} {'nbgrader s':>10} {'vlcourse':>9} {'nbgrader':>9}")
    for student, total in v["totals"].items():
        theirs = g["totals"].get(student)
        flag = "" if student not in summary["disagreements"] else "   <- differs"
        print(f"{student:<52} {v['seconds_by_student'][student]:>10.2f} {g['seconds_by_student'].get(student, float('nan')):>10.2f} "
              f"{total:>9.2f} {theirs if theirs is not None else float('nan'):>9.2f}{flag}")


TABLE_HEADER = ("| assignment | submissions | vlcourse median s / submission | vlcourse total s | "
                "nbgrader median s / submission | nbgrader total s | ratio (medians) | ratio (totals) | totals agree |")


def table(summaries: list[dict]) -> str:
    """The one table, as Markdown (what the README shows)."""
    lines = [TABLE_HEADER, "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for s in summaries:
        v, g = s["vlcourse"], s["nbgrader"]
        over = "" if s["within_target"] else " (over 3 s)"
        lines.append(f"| {s['assignment']} | {s['submissions']} | {v['median_seconds_per_submission']:.2f}{over} | "
                     f"{v['total_seconds']:.1f} | {g['median_seconds_per_submission']:.2f} | {g['total_seconds']:.1f} | "
                     f"{s['ratio_of_medians']:.1f}× | {s['ratio_of_totals']:.1f}× | {'yes' if s['totals_agree'] else 'NO'} |")
    return "\n".join(lines)


def resolve(names: list[str] | None) -> list[str]:
    """``01`` or ``01_simclr`` -> ``01_simclr``; none: every assignment, in order."""
    known = list_assignments()
    if not names:
        return known
    chosen = []
    for name in names:
        matches = [a for a in known if a == name or a.split("_", 1)[0] == name]
        if len(matches) != 1:
            raise SystemExit(f"unknown assignment {name!r} (known: {', '.join(known)})")
        chosen.append(matches[0])
    return chosen


def bench_assignment(name: str, n: int, workers: int, work: Path) -> dict:
    load_start = os.getloadavg()[0]  # other work on the machine skews both timings: report it
    assignment = load_assignment(name)
    tests = collect_graded_tests(assignment.grader_dir)
    students = build_class(assignment, n, work / "class")
    print(f"{name}: grading {len(students)} submissions with vlcourse ...", flush=True)
    ours = time_vlcourse(assignment, work / "class", work / "vlcourse_out", workers)
    print(f"{name}: grading them with nbgrader autograde ...", flush=True)
    theirs = time_nbgrader(assignment, tests, students, work / "nbgrader", workers)
    summary = summarize(name, len(students), workers, ours, theirs, (load_start, os.getloadavg()[0]))
    print_assignment(summary)
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", action="append", metavar="NN",
                        help="an assignment (01 or 01_simclr); repeat for several (default: all six, in order)")
    parser.add_argument("-n", "--submissions", type=int, default=6, help="submissions per assignment (default 6)")
    parser.add_argument("--workers", type=int, default=1, help="parallel gradings, the same for both tools (default 1)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary folder)")
    parser.add_argument("--hanging", action="store_true",
                        help="also time a 01_simclr submission whose loss never returns, beside a correct one")
    args = parser.parse_args(argv)

    names = resolve(args.assignment)
    ensure_scripts_on_path()  # nbgrader runs alembic as a command, also without an activated venv
    os.environ["VLCOURSE_BUDGET"] = "grade"  # vlcourse's runner sets it itself; nbgrader's kernels inherit it
    summaries, hang = [], None
    with tempfile.TemporaryDirectory(prefix="vlcourse-grading-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in names:
            summaries.append(bench_assignment(name, args.submissions, args.workers, work / name))
            if args.json:  # a long run keeps what it has measured so far
                args.json.write_text(json.dumps({"assignments": summaries}, indent=2) + "\n")
        if args.hanging:
            print("grading a submission that hangs ...", flush=True)
            hang = time_hanging_submission(load_assignment("01_simclr"), work / "hanging")
    print(f"\n{args.workers} worker(s) each, {len(os.sched_getaffinity(0))} CPU(s); seconds per submission "
          "without start-up (vlcourse: SubmissionResult.seconds; nbgrader: one notebook in autograde, kernel start "
          "included)\n")
    print(table(summaries))
    over = [s["assignment"] for s in summaries if not s["within_target"]]
    differ = [s["assignment"] for s in summaries if not s["totals_agree"]]
    print(f"\nvlcourse median above {TARGET_MEDIAN_SECONDS:.0f} s: {', '.join(over) or 'none'}; "
          f"students whose totals differ between the tools: {', '.join(differ) or 'none'}")
    result = {"assignments": summaries, "table": table(summaries)}
    if hang is not None:
        result["hanging_submission"] = hang
        print_hanging(hang)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
