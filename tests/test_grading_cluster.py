"""Grading a class on Dask (vlcourse.grading.cluster): a real scheduler and two worker processes on loopback.

The cluster is started as a TA would start one: ``dask scheduler`` and two ``dask worker``
processes (one thread each). The same class graded there and locally gives the same
``grades.csv``, byte for byte, also when a worker is killed in the middle of the run.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from vlcourse.cli import main
from vlcourse.grading.authoring.assignment import load_assignment
from vlcourse.grading.classroom import grade_class

COURSE = Path(__file__).parent / "fixtures" / "course"
SLOW_CELL = "import time\ntime.sleep(1.5)"  # so that a worker killed mid-run is busy grading


@pytest.fixture(scope="module")
def toy():
    return load_assignment("00_toy", COURSE)


def graded_cell(nb, grade_id):
    return next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def write(folder: Path, nb) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "toy.ipynb")


def slow(nb):
    nb.cells.append(nbformat.v4.new_code_cell(SLOW_CELL))
    return nb


def build_class(root: Path, toy) -> Path:
    """Eight students: right, wrong, blank, a deleted cell, malformed; the gradable ones take a second or two."""
    solution = lambda: slow(nbformat.read(toy.solution_notebook, as_version=4))  # noqa: E731
    for name in ("correct", "correct_again", "correct_third"):
        write(root / name, solution())
    write(root / "blank", slow(nbformat.read(toy.exercise_notebook, as_version=4)))
    nb = solution()
    graded_cell(nb, "scale").source = "def scale(x, k):\n    return x + k"
    write(root / "wrong_scale", nb)
    nb = solution()
    nb.cells.remove(graded_cell(nb, "scale"))
    write(root / "deleted_cell", nb)
    (root / "not_json").mkdir()
    (root / "not_json" / "toy.ipynb").write_text('{"cells": [ oops')
    (root / "empty_folder").mkdir()
    return root


EXPECTED = {"correct": 4, "correct_again": 4, "correct_third": 4, "blank": 0, "wrong_scale": 2, "deleted_cell": 2,
            "not_json": 0, "empty_folder": 0}


@pytest.fixture(scope="module")
def submissions(toy, tmp_path_factory):
    return build_class(tmp_path_factory.mktemp("class"), toy)


@pytest.fixture(scope="module")
def local_csv(toy, submissions, tmp_path_factory):
    """The class graded by one local worker, as `vlcourse grade` does without --cluster."""
    out = tmp_path_factory.mktemp("local")
    result = grade_class(toy, submissions, out, progress=False, workers=1)
    assert {r.student: r.total for r in result.results} == EXPECTED
    return (out / "grades.csv").read_bytes()


def start(command: list[str], log: Path) -> subprocess.Popen:
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")  # as the README recommends
    with open(log, "wb") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes (one thread each) on loopback; yields the address."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    info = folder / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    processes = [start(dask + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], folder / "scheduler.log")]
    try:
        deadline = time.monotonic() + 120
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        for i in range(2):
            processes.append(start(dask + ["worker", "--scheduler-file", str(info), "--nthreads", "1", "--host", "127.0.0.1",
                                           "--name", f"grader{i}", "--no-dashboard"], folder / f"worker{i}.log"))
        address = json.loads(info.read_text())["address"]
        with Client(address) as client:
            client.wait_for_workers(2, timeout=180)
        yield address
    finally:
        stop(processes[1:])  # the workers first, so that they close quietly
        stop(processes[:1])


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cluster_grades_like_one_local_worker(toy, submissions, local_csv, scheduler, tmp_path):
    """Two Dask workers, each with one warm fork server for all its submissions; the same grades.csv."""
    from distributed import Client

    from vlcourse.grading.cluster import worker_report

    result = grade_class(toy, submissions, tmp_path / "out", progress=False, cluster=scheduler)
    assert {r.student: r.total for r in result.results} == EXPECTED
    assert (tmp_path / "out" / "grades.csv").read_bytes() == local_csv
    assert len(list((tmp_path / "out" / "results").glob("*.json"))) == len(EXPECTED)
    with Client(scheduler) as client:
        reports = client.run(worker_report)
    assert len(reports) == 2
    assert all(report["00_toy"]["server_starts"] == 1 for report in reports.values()), reports  # one warm sandbox each
    assert sum(report["00_toy"]["graded"] for report in reports.values()) == len(EXPECTED)
    assert all(report["00_toy"]["graded"] >= 1 for report in reports.values()), reports  # both took part

    saved = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "results").glob("*.json")}
    again = grade_class(toy, submissions, tmp_path / "out", progress=False, cluster=scheduler)  # resumes: nothing to do
    assert {r.student: r.total for r in again.results} == EXPECTED
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "results").glob("*.json")} == saved


def kill_a_busy_worker(address: str, results: Path, killed: dict) -> None:
    """Once a result is saved, SIGKILL the process of a worker that is grading a submission."""
    from distributed import Client

    with Client(address) as client:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            busy = [worker for worker, keys in client.processing().items() if keys]
            if busy and any(results.glob("*.json")):
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                killed.update(pid=pid, saved=len(list(results.glob("*.json"))))
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.05)


def test_a_killed_worker_loses_nothing(toy, submissions, local_csv, scheduler, tmp_path):
    """SIGKILL a worker in the middle of the class: its submission is graded elsewhere, grades.csv is the same."""
    from distributed import Client

    killed: dict = {}
    killer = threading.Thread(target=kill_a_busy_worker, args=(scheduler, tmp_path / "out" / "results", killed))
    killer.start()
    result = grade_class(toy, submissions, tmp_path / "out", progress=False, cluster=scheduler)
    killer.join()
    assert killed and 1 <= killed["saved"] < len(EXPECTED), killed  # killed mid-run
    assert {r.student: r.total for r in result.results} == EXPECTED
    assert (tmp_path / "out" / "grades.csv").read_bytes() == local_csv
    with Client(scheduler) as client:  # the worker's nanny started a new worker process in its place
        client.wait_for_workers(2, timeout=120)
        assert killed["pid"] not in client.run(os.getpid).values()


def test_a_submission_that_kills_its_worker_every_time_is_a_clear_error(toy, submissions, tmp_path):
    """A local Dask cluster (`--cluster local:2`): one student's grading kills the worker each time; the class goes on."""
    from vlcourse.grading.cluster import ClusterConfig, grade_on_cluster, grade_task
    from vlcourse.grading.suite.plugin import collect_graded_tests

    def task(assignment, student, *args):
        if student == "poison":
            os._exit(1)  # as if grading this submission brought down the grading process, every time
        return grade_task(assignment, student, *args)

    folders = {"correct": submissions / "correct", "poison": submissions / "correct_again",
               "wrong_scale": submissions / "wrong_scale"}
    config = ClusterConfig("local:2", allowed_failures=1)
    results = {r.student: r for r in grade_on_cluster(toy, folders, collect_graded_tests(toy.grader_dir), config, task=task)}
    assert {s: r.total for s, r in results.items()} == {"correct": 4, "poison": 0, "wrong_scale": 2}
    poison = results["poison"]
    assert poison.status == "crashed" and poison.needs_review
    assert "the grading worker died each of the 2 times it graded this submission" in poison.messages[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("address, words", [
    ("foo", "'foo' is not a cluster address; give local, local:N"),
    ("local:0", "must be a whole number of at least 1"),
    ("http://host:8786", "is not a cluster address"),
    ("tcp://127.0.0.1:{port}", "could not reach a Dask scheduler at tcp://127.0.0.1:"),
])
def test_a_bad_cluster_address_is_one_line(address, words, toy, tmp_path, capsys, monkeypatch):
    import dask
    import distributed  # noqa: F401 - its config defaults must be there before dask.config.set, which restores the old config

    write(tmp_path / "class" / "ada", nbformat.read(toy.solution_notebook, as_version=4))
    monkeypatch.setenv("VLCOURSE_ROOT", str(COURSE))
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        status = main(["--course", str(COURSE), "grade", "00_toy", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                       "--cluster", address.format(port=free_port())])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("error: --cluster ") or err.startswith("error: could not reach"), err
    assert words in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results").exists()


def test_cluster_and_workers_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["grade", "00_toy", str(tmp_path), "--out", str(tmp_path / "out"), "--cluster", "local", "--workers", "2"])
    assert exit.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("address, normalised", [
    ("local", "local"), ("local:3", "local:3"), ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
    ("10.0.0.5:8786", "tcp://10.0.0.5:8786"), ("tls://grading.example.edu:8786", "tls://grading.example.edu:8786"),
    ("tcp://[::1]:8786", "tcp://[::1]:8786"),
])
def test_cluster_addresses(address, normalised):
    from vlcourse.grading.cluster import ClusterConfig

    assert ClusterConfig(address).address == normalised
    assert ClusterConfig(address).local == normalised.startswith("local")


def test_local_cluster_size(monkeypatch):
    from vlcourse.grading.cluster import ClusterConfig

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)))
    assert ClusterConfig("local").local_workers(100) == 4 and ClusterConfig("local").local_workers(2) == 2
    assert ClusterConfig("local:3").local_workers(1) == 3


def test_a_worker_forgets_a_changed_assignment(toy, tmp_path, monkeypatch):
    """A long-lived worker must not go on grading with hidden tests that were edited since its last run."""
    import shutil
    import types

    from vlcourse.grading import cluster

    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    copy = load_assignment("00_toy", course)
    before = cluster.suite_fingerprint(copy)
    hidden = copy.grader_dir / "test_toy.py"
    module = types.ModuleType("test_toy_as_pytest_imported_it")
    module.__file__ = str(hidden)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    hidden.write_text(hidden.read_text() + "\n# edited\n")
    assert cluster.suite_fingerprint(copy) != before
    assert cluster.suite_fingerprint(toy) != before  # the same files elsewhere: another course
    cluster.forget_suite(copy)
    assert module.__name__ not in sys.modules
