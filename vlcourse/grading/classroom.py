"""Grade a whole class: every submission in a folder, with a progress bar and resumable results.

Each finished submission is saved at once to ``OUT/results/<student>.json``; a rerun skips the
students already graded unless ``force`` is set, so an interrupted run loses nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm.auto import tqdm

from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.results.class_report import write_class_report
from vlcourse.grading.integrity.diagnosis import attach_diagnoses
from vlcourse.grading.grade import SubmissionResult, load_result, save_result
from vlcourse.grading.suite.plugin import cell_points, collect_graded_tests
from vlcourse.grading.sandbox.sandbox import WEAKER_ISOLATION_NOTE, bwrap_works
from vlcourse.grading.integrity.similarity import class_flags, normalised_tokens
from vlcourse.grading.results.report import summary_text, write_csv, write_feedback
from vlcourse.grading.intake.due import DuePolicy, Lateness, assess, feedback_note, load_due
from vlcourse.grading.intake.lms import Intake, read_submissions
from vlcourse.grading.results.lms_export import write_lms_grades
from vlcourse.grading.workers import Focus, close_servers, grade_in_worker, start_worker, stop_workers

if TYPE_CHECKING:
    from vlcourse.grading.cluster import ClusterConfig


def grade_many(assignment: Assignment, folders: dict[str, Path], tests, workers: int,
               focus: dict[str, Focus] | None = None) -> Iterator[SubmissionResult]:
    """Yield results as submissions finish, in worker processes when ``workers`` > 1.

    Each grading process keeps one warm fork server, so interpreter, torch and IPython start once
    per worker, not once per submission. ``focus`` (student -> :class:`Focus`) grades those
    students' submissions on some cells only.
    """
    focus = focus or {}
    with tempfile.TemporaryDirectory(prefix="vlcourse-grading-") as scratch:
        if workers <= 1 or len(folders) <= 1:
            try:
                for student, folder in folders.items():
                    yield grade_in_worker(assignment, student, folder, tests, Path(scratch), focus.get(student))
            finally:
                close_servers()
            return
        context = multiprocessing.get_context("spawn")  # no inherited threads or torch state
        with ProcessPoolExecutor(max_workers=min(workers, len(folders)), mp_context=context,
                                 initializer=start_worker, initargs=(assignment, Path(scratch))) as pool:
            futures = {pool.submit(grade_in_worker, assignment, s, f, tests, Path(scratch), focus.get(s)): s
                       for s, f in folders.items()}
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BaseException:
                stop_workers(pool)
                raise


def notebook_prints(notebook, cells: list[str]) -> dict[str, list[str]]:
    """Normalised tokens of the graded cells of one of our own notebooks (a path, or a notebook node)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, (str, Path)) else notebook
    return {grade_id: normalised_tokens(cell.source) for cell in nb.cells
            if (grade_id := cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")) in cells}


def flag_copies(assignment: Assignment, results: list[SubmissionResult]) -> None:
    """Attach copy-detection flags to the results (see vlcourse.grading.integrity.similarity); scores are untouched.

    The base code everyone may share is the released starter cell and the reference solution.
    """
    cells = assignment.graded_cells()
    sources = [assignment.solution_notebook, assignment.exercise_notebook]
    prints = [notebook_prints(path, cells) for path in sources if path.exists()]
    base = {cell: [p[cell] for p in prints if cell in p] for cell in cells}
    flags = class_flags({r.student: r.fingerprints for r in results}, base)
    for result in results:
        result.flags = flags[result.student]


@dataclass
class ClassResult:
    assignment: Assignment
    results: list[SubmissionResult]
    max_scores: dict[str, float]
    out: Path
    intake: Intake | None = None  # how the submissions were read (vlcourse.grading.intake.lms)
    lateness: dict[str, Lateness] = field(default_factory=dict)  # student -> against the deadline
    lms_file: Path | None = None  # Canvas or Moodle import file (vlcourse.grading.results.lms_export)

    @property
    def cells(self) -> list[str]:
        return list(self.max_scores)

    def summary(self) -> str:
        lines = [summary_text(self.results, self.cells)]
        if self.intake is not None:
            lines += self.intake.summary_lines()
        late = [f"{s} ({l.cells()[1]}, -{l.penalty:.0%})" for s, l in self.lateness.items() if l.late]
        if late:
            lines.append(f"Late: {', '.join(late)}")
        return "\n".join(lines)


SUBMISSIONS_PER_WORKER = 30


def default_workers(submissions: int, per_worker: int | None = None) -> int:
    """One grading process per core, but no more than one per ``per_worker`` submissions
    (default ``SUBMISSIONS_PER_WORKER``).

    Starting a worker (its Python, torch and warm zygote) costs about what grading 10-20 small
    submissions does, and on 2 cores two workers only beat one from about 60 submissions on
    (``benchmarks/grading``), so small classes are graded by one warm worker. An assignment whose
    submissions cost seconds each (06's LLM calls) sets a smaller ``submissions_per_worker``: its
    47 verification submissions took 374 s on one worker and 198 s on two.
    """
    cores = max(1, len(os.sched_getaffinity(0)))
    return max(1, min(cores, submissions // (per_worker or SUBMISSIONS_PER_WORKER)))


def grade_todo(assignment: Assignment, todo: dict[str, Path], tests, workers: int | None,
               cluster: ClusterConfig | str | None) -> Iterator[SubmissionResult]:
    """The submissions still to grade, graded here (``workers`` processes) or on a Dask ``cluster``."""
    if cluster is not None:
        from vlcourse.grading.cluster import grade_on_cluster  # dask: only when a cluster is asked for

        return grade_on_cluster(assignment, todo, tests, cluster)
    return grade_many(assignment, todo, tests, workers or default_workers(len(todo), assignment.submissions_per_worker))


def grade_class(
    assignment: Assignment,
    submissions: Path,
    out: Path,
    force: bool = False,
    progress: bool = True,
    workers: int | None = None,
    due: DuePolicy | None = None,
    cluster: ClusterConfig | str | None = None,
) -> ClassResult:
    """Grade every submission under ``submissions``; write ``grades.csv``, feedback, the class report and results.

    Students already graded in ``out/results`` are skipped unless ``force``. With ``workers`` > 1
    (default: see :func:`default_workers`) submissions are graded in parallel worker processes; each result
    is saved the moment it is done, so Ctrl-C or a crash loses no finished grade. With ``cluster``
    (an address such as ``local:2`` or ``tcp://host:8786``, or a
    :class:`vlcourse.grading.cluster.ClusterConfig`) the workers are a Dask cluster's instead.
    """
    if not bwrap_works():
        print(f"warning: {WEAKER_ISOLATION_NOTE}", file=sys.stderr)
    tests = collect_graded_tests(assignment.grader_dir)
    max_scores = cell_points(tests)
    cells = list(max_scores)
    intake = read_submissions(submissions, assignment.name, out / "intake")  # LMS downloads, zips, nbgrader
    folders = intake.folders
    results_dir = out / "results"
    done = {} if force else {s: r for s in folders if (r := load_result(results_dir, s)) is not None}
    todo = {s: f for s, f in folders.items() if s not in done}
    bar = tqdm(total=len(folders), initial=len(done), desc=f"grading {assignment.name}", disable=not progress)
    for result in grade_todo(assignment, todo, tests, workers, cluster):
        save_result(result, results_dir)
        done[result.student] = result
        bar.update(1)
    bar.close()
    results = [done[s] for s in folders]
    flag_copies(assignment, results)
    signatures = attach_diagnoses(assignment, results, save_to=results_dir)
    policy = due or load_due(assignment.grader_dir)
    lateness = {s: assess(policy, h.handed_in, h.late_marker) for s, h in intake.hand_ins.items()}
    for result in results:  # after saving: notes about this run's intake, never stored as the result's own
        hand_in = intake.hand_ins[result.student]
        result.messages += hand_in.notes + [note for note in [feedback_note(lateness[result.student])] if note]
    show_due = policy.active or any(l.late for l in lateness.values())
    write_csv(results, cells, out / "grades.csv", lateness if show_due else None)
    lms_file = write_lms_grades(intake, results, lateness, assignment.name, out)
    write_feedback(results, f"{assignment.name}: {assignment.title}", out / "feedback")
    write_class_report(f"{assignment.name}: {assignment.title}", results, max_scores, signatures, out / "report.html")
    return ClassResult(assignment, results, max_scores, out, intake, lateness, lms_file)
