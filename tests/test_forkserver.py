"""Warm runners: one zygote per sandbox forks every runner, and no submission reaches the next one.

The red-team suite (test_redteam.py) grades each attack with an honest student in one class; here
the attacks aim at what is new with a fork server: the zygote itself, and whatever a runner could
leave in the shared sandbox for the runner after it.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from vlcourse.grading.sandbox.forkserver import ForkServer, RunnerSpec
from vlcourse.grading.sandbox.limits import Limits
from vlcourse.grading.sandbox.procs import is_running, running_with
from vlcourse.grading.sandbox.runner import Cell, StudentRunner
from vlcourse.grading.sandbox.sandbox import bwrap_works
from vlcourse.grading.suite.student import Student

FAST = Limits(cell_seconds=10, call_seconds=10, startup_seconds=90, submission_seconds=120)

needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap is not installed (setup.sh installs it)")


@pytest.fixture
def server(tmp_path, request):
    sandbox = getattr(request, "param", True)
    with ForkServer(RunnerSpec(limits=FAST, sandbox=sandbox), tmp_path) as warm:
        yield warm


def run(server: ForkServer, *sources: str) -> tuple[StudentRunner, list[str]]:
    """One submission on ``server``: reset, run the cells, return the runner (to call into) and statuses."""
    server.reset()
    runner = StudentRunner([Cell(i, s) for i, s in enumerate(sources)], server)
    return runner, [r.status for r in runner.run_notebook()]


def test_one_zygote_serves_many_submissions(server):
    pids = set()
    for n in range(3):
        runner, statuses = run(server, f"import os\nn = {n}\ndef who():\n    return os.getpid(), os.getppid(), n")
        pid, parent, echoed = Student(runner).who()
        runner.close()
        assert statuses == ["ok"] and echoed == n
        pids.add(pid)
    assert server.starts == 1  # torch and the interpreter started once
    assert len(pids) == 3  # but every submission had a process of its own


def test_exit_status_comes_back_through_the_zygote(server):
    runner, statuses = run(server, "import os\nos._exit(3)", "x = 1")
    try:
        assert statuses == ["crashed", "ok"]
        assert "exit status 3" in runner.results[0].error
    finally:
        runner.close()


def test_runner_gets_the_thread_count_of_its_limits(tmp_path):
    spec = RunnerSpec(limits=Limits(**{**vars(FAST), "threads": 2}), sandbox=True)
    with ForkServer(spec, tmp_path) as warm:
        runner, statuses = run(warm, "import torch\ndef threads():\n    x = torch.randn(256, 256)\n"
                                     "    return torch.get_num_threads(), float((x @ x).sum())")
        threads, _ = Student(runner).threads()  # a matmul on 2 threads after fork: no OpenMP hang
        runner.close()
    assert statuses == ["ok"] and threads == 2


LEAVE_TRACES = r'''
import os, subprocess, sys
import ctypes
libc = ctypes.CDLL(None)
segment = libc.shmget(0, 4096, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600: a System V segment
assert segment >= 0
for path in ("/tmp/planted.py", "/var/tmp/planted", "/dev/shm/planted", "planted_in_work.py"):
    with open(path, "w") as f:
        f.write("PLANTED = True\n")
os.makedirs("locked/inner", exist_ok=True)
os.chmod("locked", 0)
subprocess.Popen([sys.executable, "-c", "import os, time; os.setsid(); time.sleep(600)"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
'''

LOOK_FOR_TRACES = r'''
import os
def traces():
    files = [p for p in ("/tmp/planted.py", "/var/tmp/planted", "/dev/shm/planted", "planted_in_work.py", "locked")
             if os.path.exists(p)]
    me, parent = os.getpid(), os.getppid()
    others = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"time.sleep(600)" in cmd:
            others.append(int(pid))
    segments = open("/proc/sysvipc/shm").read().splitlines()[1:]
    return files, others, segments
'''


@needs_bwrap
def test_nothing_a_submission_leaves_reaches_the_next(server):
    attacker, statuses = run(server, LEAVE_TRACES)
    assert statuses == ["ok"]
    attacker.close()
    honest, statuses = run(server, LOOK_FOR_TRACES)
    files, sleepers, segments = Student(honest).traces()
    honest.close()
    assert statuses == ["ok"]
    assert files == [] and sleepers == [] and segments == []


ATTACK_ZYGOTE = r'''
import os
def read_parent_memory():
    try:
        with open(f"/proc/{os.getppid()}/mem", "rb") as f:
            return "read"
    except OSError as exc:
        return type(exc).__name__
def trace_parent():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.ptrace(16, os.getppid(), 0, 0)  # PTRACE_ATTACH: -1 when refused
'''


@needs_bwrap
def test_the_zygote_cannot_be_traced_or_read(server):
    runner, statuses = run(server, ATTACK_ZYGOTE)
    try:
        student = Student(runner)
        assert statuses == ["ok"]
        assert student.read_parent_memory() == "PermissionError"
        assert student.trace_parent() == -1
    finally:
        runner.close()


KILL_THE_ZYGOTE_AND_WAIT = """
import os, signal, time
parent = os.getppid()
os.kill(parent, signal.SIGKILL)
for _ in range(200):  # up to 2 s for it to die (in the sandbox it will not: it is the PID namespace's init)
    if not os.path.exists(f"/proc/{parent}/status") or "zombie" in open(f"/proc/{parent}/status").read():
        break
    time.sleep(0.01)
"""


@pytest.mark.parametrize("server", [True, False], indirect=True, ids=["sandbox", "process"])
@pytest.mark.parametrize("attack", ["SIGKILL", "SIGSTOP"])
def test_a_killed_or_stopped_zygote_costs_only_the_attacker(server, attack):
    attack_cell = KILL_THE_ZYGOTE_AND_WAIT if attack == "SIGKILL" else "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)"
    runner, statuses = run(server, "before = 1", attack_cell, "import os\nos._exit(1)", "def value():\n    return before + 1")
    assert statuses[0] == "ok" and statuses[2] == "crashed"  # the crash makes the runner restart now
    assert Student(runner).value() == 2  # its own runner is back, the earlier cells replayed
    runner.close()
    honest, statuses = run(server, "def value():\n    return 42")
    assert statuses == ["ok"] and Student(honest).value() == 42
    honest.close()
    # In the sandbox the zygote is its init and ignores both; outside, a stopped one is woken, a killed one replaced
    assert server.starts == (2 if attack == "SIGKILL" and not server.sandboxed else 1)


@pytest.mark.parametrize("server", [True, False], indirect=True, ids=["sandbox", "process"])
def test_closing_ends_every_process(server):
    marker = f"time.sleep(600) # {id(server)}"
    runner, _ = run(server, f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; {marker}'])")
    zygote = server.zygote_pid
    runner.close()
    server.close()
    deadline = time.monotonic() + 10
    while (running_with(marker.encode()) or is_running(zygote)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running_with(marker.encode()) == [] and not is_running(zygote)
    assert not server.root.exists()


@needs_bwrap
def test_handed_in_files_never_reach_the_zygote(server):
    """A submission's ``numpy.py`` or ``matplotlibrc`` must not be read by a zygote that restarts mid-submission."""
    def stage():
        (server.work_dir / "numpy.py").write_text("raise SystemExit('a handed-in numpy.py was imported')\n")
        (server.work_dir / "matplotlibrc").write_text("backend: module://handed_in_backend\n")
        return []

    server.prepare(stage)
    runner = StudentRunner([Cell(0, "import os\ndef staged():\n    return sorted(os.listdir('.'))")], server)
    statuses = [r.status for r in runner.run_notebook()]
    os.kill(server.zygote_pid, signal.SIGKILL)  # a runner cannot do this (see above); a crash or the OOM killer can
    while is_running(server.zygote_pid):
        time.sleep(0.01)
    runner.kill()  # its runner went with the sandbox
    staged = Student(runner).staged()  # restarts: new sandbox, files staged again, cells replayed
    runner.close()
    assert statuses == ["ok"] and server.starts == 2  # restarted mid-submission, and fine
    assert "numpy.py" in staged  # and the submission was staged again for its own runner
    honest, statuses = run(server, "import matplotlib\ndef backend():\n    return matplotlib.get_backend()")
    assert statuses == ["ok"] and Student(honest).backend().lower() == "agg"
    honest.close()


def test_a_sandbox_that_cannot_start_stops_the_class_instead_of_zeroing_it(tmp_path):
    import dataclasses

    from vlcourse.grading.authoring.assignment import load_assignment
    from vlcourse.grading.classroom import grade_class
    from vlcourse.grading.sandbox.forkserver import ServerError

    toy = load_assignment("00_toy", Path(__file__).parent / "fixtures" / "course")
    broken = dataclasses.replace(toy, limits=Limits(startup_seconds=0.01))  # no zygote is ready that fast
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / toy.notebook).write_bytes(toy.solution_notebook.read_bytes())
    with pytest.raises(ServerError, match="could not start"):
        grade_class(broken, tmp_path / "class", tmp_path / "out", progress=False, workers=1)
    assert not list((tmp_path / "out").glob("results/*.json"))  # nobody got a zero for it


def test_a_preloaded_loader_is_called_once_in_the_zygote_and_runners_find_its_result(tmp_path):
    """``module:function`` in an assignment's preload: the model is read before the fork, not per submission."""
    spec = RunnerSpec(limits=FAST, sandbox=bwrap_works(), preload=["vlcourse.icl.data:load_clip", "no_such_module:f",
                                                                 "vlcourse.icl.data:no_such_function"])
    source = "from vlcourse.icl.data import load_clip\ndef loaded():\n    return load_clip.cache_info().currsize"
    with ForkServer(spec, tmp_path) as warm:
        for _ in range(2):
            runner, statuses = run(warm, source)
            assert statuses == ["ok"] and Student(runner).loaded() == 1, "the CLIP model was not loaded in the zygote"
            runner.close()
    cold = RunnerSpec(limits=FAST, sandbox=bwrap_works(), preload=["vlcourse.icl.data"])
    (tmp_path / "cold").mkdir()
    with ForkServer(cold, tmp_path / "cold") as warm:
        runner, statuses = run(warm, source)
        assert statuses == ["ok"] and Student(runner).loaded() == 0  # an import alone loads nothing
        runner.close()
