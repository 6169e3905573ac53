"""Grade a class on a Dask cluster: the same grading workers, scheduled by Dask distributed.

``vlcourse grade ... --cluster ADDRESS`` hands each submission to a Dask worker as one task. A
Dask worker is a grading process like the local ones (:mod:`vlcourse.grading.classroom`): it
holds the hidden tests and keeps one warm fork server per assignment for every submission it
grades; student code still runs only in that server's sandboxed runners. Results come back as
plain JSON data the moment each task finishes and the calling process saves them at once, so a
rerun resumes as a local run does.

Why Dask and not Ray: Dask is pure pip (no native runtime or object store to run), its scheduler
is one plain TCP process (``dask scheduler``) that any machine can start, and the clusters
universities have are documented deployments of it: dask-jobqueue for Slurm, PBS, SGE and LSF,
dask-kubernetes for Kubernetes. Futures and ``as_completed`` are all this needs.

Losing a worker loses nothing: the scheduler gives its unfinished tasks to other workers (grading
a submission again gives the same result: tasks are idempotent, and nothing is written on the
worker side but its own scratch folder). A task whose worker died more than
``allowed_failures`` times is given up by the scheduler (``KilledWorker``); that student then gets
a clear per-student error instead of stopping the class. Every other exception in a task is a
broken machine or grader, not a submission (a submission's failures are in its result), so it
stops the run, as it does locally, and is not retried.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from distributed import Client, LocalCluster, WorkerPlugin, as_completed
from distributed.scheduler import KilledWorker

from vlcourse.grading import workers
from vlcourse.grading.authoring.assignment import Assignment
from vlcourse.grading.grade import SubmissionResult, zero_result
from vlcourse.grading.suite.plugin import GradedTest, cell_points
from vlcourse.usererrors import UserError

LOCAL = "local"
SCHEMES = ("tcp", "tls", "ws", "wss")  # Dask's network transports
PLUGIN_NAME = "vlcourse-grading"
ADDRESS_HINT = ("give local, local:N (N worker processes on this machine) or the address of a running "
                "Dask scheduler, e.g. tcp://host:8786")


class ClusterError(UserError):
    """The cluster cannot grade this class (unreachable, no workers, files it cannot see); the message says why."""


@dataclass(frozen=True)
class ClusterConfig:
    """Where a class is graded by Dask.

    ``address``: ``local`` (a Dask LocalCluster on this machine, one worker process per core but
    no more than there are submissions), ``local:N`` (N worker processes) or a running scheduler's
    address (``tcp://host:8786``; ``host:8786`` means tcp). Each local worker is one process with
    one thread: torch and the sandbox are per process.
    """

    address: str = LOCAL
    connect_seconds: float | None = None  # None: Dask's distributed.comm.timeouts.connect (30 s)
    worker_wait_seconds: float = 300.0  # how long a running scheduler may have no worker before the run stops
    # LocalCluster only (a running scheduler has its own distributed.scheduler.allowed-failures, also 3):
    # how many of its workers may die while grading one submission before that student gets an error.
    allowed_failures: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", self.address.strip())
        if self.address != LOCAL and not self.address.startswith(f"{LOCAL}:"):
            object.__setattr__(self, "address", scheduler_address(self.address))
        elif self.address != LOCAL:
            count = self.address.partition(":")[2]
            if not count.isdigit() or int(count) < 1:
                raise ValueError(f"{self.address!r}: the number of local workers must be a whole number of at least 1, "
                                 "e.g. local:2")
        if self.allowed_failures < 0:
            raise ValueError(f"allowed_failures must be 0 or more, not {self.allowed_failures}")
        if self.worker_wait_seconds <= 0 or (self.connect_seconds is not None and self.connect_seconds <= 0):
            raise ValueError("connect_seconds and worker_wait_seconds must be positive")

    @property
    def local(self) -> bool:
        return self.address == LOCAL or self.address.startswith(f"{LOCAL}:")

    def local_workers(self, submissions: int) -> int:
        """How many worker processes a local cluster starts for ``submissions`` submissions."""
        if self.address != LOCAL:
            return int(self.address.partition(":")[2])
        return max(1, min(len(os.sched_getaffinity(0)), submissions))


def scheduler_address(text: str) -> str:
    """``text`` as a Dask scheduler address (``scheme://host:port``), or ValueError saying what to give."""
    url = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        port = url.port
    except ValueError:
        port = None
    if url.scheme not in SCHEMES or not url.hostname or port is None or url.path not in ("", "/"):
        raise ValueError(f"{text!r} is not a cluster address; {ADDRESS_HINT}")
    return f"{url.scheme}://{url.netloc}"


# --- the worker side ---------------------------------------------------------------------------


_lock = threading.Lock()  # one submission at a time per worker process, whatever its --nthreads
_scratch: Path | None = None  # this worker's scratch folder: its fork servers' folders live here
_suites: dict[str, str] = {}  # assignment name -> fingerprint of the suite its warm server and tests came from
_graded: Counter[str] = Counter()  # assignment name -> submissions this worker graded


def grade_task(assignment: Assignment, student: str, folder: Path, tests: list[GradedTest], suite: str,
               focus: workers.Focus | None = None) -> dict:
    """What a Dask worker runs for one submission; the result as plain JSON data.

    The same as a local worker's :func:`vlcourse.grading.workers.grade_in_worker`, on this
    worker's warm fork server for ``assignment`` (started by its first submission). ``suite`` is
    the assignment's fingerprint (:func:`suite_fingerprint`): a worker that outlives a run notices
    a changed assignment and starts afresh instead of grading with the old hidden tests.
    """
    with _lock:
        require_visible(assignment, folder)
        scratch = worker_scratch()
        if _suites.setdefault(assignment.name, suite) != suite:
            forget_suite(assignment)
            _suites[assignment.name] = suite
        result = workers.grade_in_worker(assignment, student, folder, tests, scratch, focus)
        _graded[assignment.name] += 1
    return result.to_json()


def require_visible(assignment: Assignment, folder: Path) -> None:
    """This worker sees the assignment and the submission where the calling process does, or ClusterError.

    Without this check a worker on another machine would grade every submission as an empty folder.
    """
    for path in (assignment.grader_dir, folder):
        if not path.exists():
            raise ClusterError(f"the Dask worker on {socket.gethostname()} cannot see {path}; grading on a cluster "
                               "needs the course folder, the submissions and --out on a filesystem that every worker "
                               "shares (e.g. NFS), at the same path")


def worker_scratch() -> Path:
    """This worker's scratch folder, made on its first submission (which also sets one torch thread).

    It lies in the Dask worker's own local directory, so that what a killed worker leaves behind
    is removed by Dask when the next worker starts on that machine.
    """
    global _scratch
    if _scratch is None:
        import torch
        from distributed import get_worker

        torch.set_num_threads(1)  # each worker grades one submission at a time; workers fill the cores
        try:
            base = get_worker().local_directory
        except ValueError:  # not in a Dask worker (called directly)
            base = None
        _scratch = Path(tempfile.mkdtemp(prefix="vlcourse-grading-", dir=base))
    return _scratch


def forget_suite(assignment: Assignment) -> None:
    """The assignment changed since this worker last graded it: drop its fork server, time limits and hidden tests.

    pytest keeps imported test modules in ``sys.modules``, so without this a long-lived worker would
    go on running the old hidden tests.
    """
    workers.forget_server(assignment.name)
    root = assignment.grader_dir.resolve()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(root):
            del sys.modules[name]


def worker_report() -> dict[str, dict[str, int]]:
    """Per assignment, what this worker did: submissions graded and how often its fork server's zygote started."""
    return {name: {"graded": count, "server_starts": workers.server_starts(name)} for name, count in _graded.items()}


def release_worker() -> None:
    """Close this worker's fork servers and remove its scratch folder (the worker is closing)."""
    global _scratch
    if not _lock.acquire(timeout=5):
        return  # a submission is still being graded: the sandboxes end with this process anyway
    try:
        workers.close_servers()
        _suites.clear()
        if _scratch is not None:
            shutil.rmtree(_scratch, ignore_errors=True)
            _scratch = None
    finally:
        _lock.release()


class GradingWorker(WorkerPlugin):
    """Registered on every worker of the cluster: cleans up the worker's sandboxes when the worker closes.

    With ``ignore_interrupts`` (the workers of a local cluster, which share the terminal of
    ``vlcourse grade``), Ctrl-C is left to the grading process, which stops them, instead of each
    worker printing a traceback, as local worker processes do. Workers started by hand keep it.
    """

    idempotent = True  # a second run on the same cluster keeps the warm servers of the first

    def __init__(self, ignore_interrupts: bool = False):
        self.ignore_interrupts = ignore_interrupts

    def setup(self, worker) -> None:
        if self.ignore_interrupts and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def teardown(self, worker) -> None:
        release_worker()


# --- the calling side --------------------------------------------------------------------------


def suite_fingerprint(assignment: Assignment) -> str:
    """A short hash of what grading depends on: the grader folder and the solution notebook."""
    digest = hashlib.sha256()
    files = sorted(p for p in assignment.grader_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files + [p for p in [assignment.solution_notebook] if p.is_file()]:
        digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def as_config(cluster: ClusterConfig | str) -> ClusterConfig:
    return cluster if isinstance(cluster, ClusterConfig) else ClusterConfig(cluster)


def scheduler_client(config: ClusterConfig) -> Client:
    """A client of the running scheduler at ``config.address``, or ClusterError saying how to start one."""
    timeout = {} if config.connect_seconds is None else {"timeout": config.connect_seconds}  # None would wait forever
    try:
        return Client(config.address, set_as_default=False, **timeout)
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"could not reach a Dask scheduler at {config.address} ({str(exc).splitlines()[0]}); "
                           "check the address, or start one with `dask scheduler` and workers with "
                           f"`dask worker {config.address} --nthreads 1`") from None


def require_reachable(config: ClusterConfig) -> None:
    """A running scheduler answers at ``config.address`` (checked before any slow work; a local cluster always does)."""
    if not config.local:
        scheduler_client(config).close()


@contextmanager
def connect(config: ClusterConfig, submissions: int) -> Iterator[Client]:
    """A client of the configured cluster, with at least one worker; a local cluster ends with the block."""
    if config.local:
        import dask

        # worker-saturation 1.0: a one-thread worker holds only the task it runs, so a worker that
        # dies takes the blame for one submission, not for the next one queued behind it. No
        # profiler: it would sample the grading thread's deep stacks every 10 ms, on busy cores.
        settings = {"distributed.scheduler.allowed-failures": config.allowed_failures,
                    "distributed.scheduler.worker-saturation": 1.0,
                    "distributed.worker.profile.enabled": False}
        with dask.config.set(settings), LocalCluster(
                n_workers=config.local_workers(submissions), threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
                # no dashboard; its scheduler's bare HTTP server (health, metrics) on any free loopback port, not 8787
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, Client(cluster) as client:
            yield client
        return
    with scheduler_client(config) as client:
        try:
            client.wait_for_workers(1, timeout=config.worker_wait_seconds)
        except TimeoutError:
            raise ClusterError(f"the Dask scheduler at {config.address} had no worker for {config.worker_wait_seconds:g} s; "
                               f"start some with `dask worker {config.address} --nthreads 1`") from None
        yield client


def lost_result(student: str, max_scores: dict[str, float], error: KilledWorker) -> SubmissionResult:
    """A submission whose grading worker died every time it was graded: zero, with a clear reason, for a human."""
    result = zero_result(student, max_scores, "crashed", (
        f"not graded: the grading worker died each of the {error.allowed_failures + 1} times it graded this "
        "submission (see the Dask workers' logs). Once the cause is found, delete this student's "
        "results/<student>.json and rerun the same command to grade it again."))
    result.needs_review = True
    return result


def collect(future, student: str, max_scores: dict[str, float]) -> SubmissionResult:
    """The result of one finished task; a task the scheduler gave up on becomes that student's error."""
    try:
        if future.status == "error" and isinstance(error := future.exception(), KilledWorker):
            return lost_result(student, max_scores, error)
        return SubmissionResult.from_json(future.result())
    finally:
        future.release()


def grade_on_cluster(assignment: Assignment, folders: dict[str, Path], tests: list[GradedTest],
                     cluster: ClusterConfig | str = LOCAL, focus: dict[str, workers.Focus] | None = None,
                     *, task: Callable[..., dict] = grade_task) -> Iterator[SubmissionResult]:
    """Yield results as submissions finish on the cluster (the cluster counterpart of ``classroom.grade_many``).

    One task per submission, submitted at once; Dask queues them and gives each worker the next
    one when it is free. ``task`` is what each worker runs (:func:`grade_task`; tests replace it).
    On an exception or Ctrl-C the unfinished tasks are cancelled.
    """
    if not folders:
        return
    config, focus = as_config(cluster), focus or {}
    max_scores, suite, run = cell_points(tests), suite_fingerprint(assignment), uuid.uuid4().hex[:8]
    with connect(config, len(folders)) as client:
        client.register_plugin(GradingWorker(ignore_interrupts=config.local), name=PLUGIN_NAME)
        # retries=0: a task raises only for a broken machine or grader (see the module's docstring);
        # a lost worker is the scheduler's business (allowed-failures), not a retry.
        futures = {client.submit(task, assignment, student, folder, tests, suite, focus.get(student),
                                 key=f"vlcourse-grade-{run}-{i}", retries=0): student
                   for i, (student, folder) in enumerate(folders.items())}
        try:
            for future in as_completed(futures, loop=client.loop):
                yield collect(future, futures[future], max_scores)
        except BaseException:
            client.cancel(list(futures))
            raise
