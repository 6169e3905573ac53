"""The student runner: cells and calls across the process boundary, and what happens when they misbehave."""

import pytest
import torch

from vlcourse.grading.sandbox.limits import GiB, Limits
from vlcourse.grading.sandbox.forkserver import ForkServer, RunnerSpec
from vlcourse.grading.sandbox.runner import Cell, StudentError, StudentRunner
from vlcourse.grading.suite.student import Student

FAST = dict(cell_seconds=6, call_seconds=6, startup_seconds=60, submission_seconds=120)


@pytest.fixture
def runner_factory(tmp_path):
    """Runners on a fork server of their own (process isolation), closed after the test."""
    made = []

    def factory(sources, withheld=(), **limits):
        server = ForkServer(RunnerSpec(limits=Limits(**{**FAST, **limits}), withheld=list(withheld)), tmp_path)
        runner = StudentRunner([Cell(index=i, source=s) for i, s in enumerate(sources)], server)
        made.append((runner, server))
        return runner

    yield factory
    for runner, server in made:
        runner.close()
        server.close()


def test_cells_calls_and_handles(runner_factory):
    runner = runner_factory([
        "import torch\ndef double(x):\n    return 2 * x",
        "1 / 0",
        "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.lin = torch.nn.Linear(2, 3)\n    def forward(self, x):\n        return self.lin(x)",
    ])
    results = runner.run_notebook()
    assert [r.status for r in results] == ["ok", "error", "ok"]
    assert "ZeroDivisionError" in results[1].error
    student = Student(runner)
    torch.testing.assert_close(student.double(torch.ones(2)), torch.full((2,), 2.0))
    net = student.Net()
    state = net.state_dict()
    assert set(state) == {"lin.weight", "lin.bias"}
    out = net(torch.ones(1, 2))
    torch.testing.assert_close(out, torch.ones(1, 2) @ state["lin.weight"].T + state["lin.bias"])
    with pytest.raises(StudentError, match="not defined by your notebook"):
        student.missing_function()


def test_exit_and_hang_cost_only_their_cell(runner_factory):
    runner = runner_factory([
        "value = 41",
        "import os\nos._exit(3)",
        "value += 1",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "def answer():\n    return value",
    ])
    statuses = [r.status for r in runner.run_notebook()]
    assert statuses == ["ok", "crashed", "ok", "timeout", "ok"]
    assert Student(runner).answer() == 42  # replay after each restart kept the earlier cells' effects
    assert runner.restarts == 2


def test_sys_exit_is_an_error_not_a_crash(runner_factory):
    runner = runner_factory(["import sys\nsys.exit(0)", "x = 1"])
    assert [r.status for r in runner.run_notebook()] == ["error", "ok"]


def test_memory_bomb_hits_the_limit(runner_factory):
    runner = runner_factory(["hog = bytearray(8 * 2**30)", "ok = True"], memory_bytes=5 * GiB)
    results = runner.run_notebook()
    assert results[0].status in ("error", "crashed")
    assert results[1].status == "ok"


def test_hanging_call_times_out_then_runner_recovers(runner_factory):
    runner = runner_factory(["import time\ndef slow():\n    time.sleep(60)\ndef fast():\n    return 7"], call_seconds=2)
    runner.run_notebook()
    student = Student(runner)
    with pytest.raises(StudentError, match="timed out"):
        student.slow()
    assert student.fast() == 7


def test_total_time_limit_stops_everything(runner_factory):
    runner = runner_factory(["import time\ntime.sleep(5)", "x = 1", "y = 2"], submission_seconds=3, cell_seconds=10)
    results = runner.run_notebook()
    assert results[0].status == "timeout"
    assert all(r.status == "skipped" for r in results[1:])
    with pytest.raises(StudentError, match="total time"):
        Student(runner).anything()


def test_withheld_reference_is_unavailable(runner_factory):
    runner = runner_factory(["from vlcourse.training import learning_rate\ndef use():\n    return learning_rate(0, None)"],
                            withheld=["vlcourse.training.learning_rate"])
    runner.run_notebook()
    with pytest.raises(StudentError, match="withheld while grading"):
        Student(runner).use()


def test_runner_restarts_cleanly_after_a_fork_bomb(runner_factory):
    """The bomb's dying processes must not block the restart (they count against the process limit)."""
    runner = runner_factory([
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        "after = 'still graded'",
    ], cell_seconds=4, processes=64)
    statuses = [r.status for r in runner.run_notebook()]
    assert statuses[0] in ("timeout", "crashed", "error")
    assert statuses[1] == "ok"
