"""Time limits scaled from the reference, and a hung function not called again (issue 8, part 4)."""


import pytest

from vlcourse.grading.sandbox.forkserver import ForkServer, RunnerSpec
from vlcourse.grading.sandbox.limits import Limits
from vlcourse.grading.sandbox.runner import Cell, StudentError, StudentRunner
from vlcourse.grading.suite.student import Student
from vlcourse.grading.sandbox.timing import TimeLimits

LIMITS = Limits(call_seconds=60, cell_seconds=60, call_floor_seconds=1.0, cell_floor_seconds=1.0,
                reference_factor=10.0, startup_seconds=60, submission_seconds=300)
NOTEBOOK = """
import time
import torch

def spin(x=None):
    while True:
        pass

def fine(x):
    return x + 1

def apply(f, x):
    return f(x)

class Looper(torch.nn.Module):
    def forward(self, x):
        while True:
            pass
"""


def test_limits_scale_with_the_reference_and_respect_floor_ceiling_and_overrides():
    timing = TimeLimits(LIMITS, reference_calls={"fast": 0.01, "slow": 2.0, "huge": 100.0},
                        reference_cells={"train": 0.5}, explicit_calls={"own": 33.0})
    assert timing.call_limit("fast") == pytest.approx(1.1)  # floor + 10 x 0.01
    assert timing.call_limit("slow") == pytest.approx(21.0)
    assert timing.call_limit("huge") == 60  # never above the flat limit
    assert timing.call_limit("own") == 33.0
    assert timing.call_limit("unmeasured") == 60 and timing.call_limit(None) == 60
    assert timing.cell_limit("train") == pytest.approx(6.0)
    assert timing.cell_limit(None) == 60 and timing.cell_limit("other") == 60
    assert timing.slowest_call_limit() == 60


@pytest.fixture
def student(tmp_path):
    server = ForkServer(RunnerSpec(limits=LIMITS), tmp_path)
    timing = TimeLimits(LIMITS, reference_calls={"t": 0.05})
    runner = StudentRunner([Cell(0, NOTEBOOK)], server, timing)
    assert runner.run_notebook()[0].status == "ok"
    runner.current_test = "t"  # as the grading plugin does while hidden test "t" runs
    yield Student(runner), runner
    runner.close()
    server.close()


def test_a_hung_function_costs_one_scaled_limit_then_fails_at_once(student):
    student, runner = student
    with pytest.raises(StudentError, match=r"timed out after 1.5 s in spin\(\)"):
        student.spin()
    restarts = runner.restarts
    for _ in range(5):
        with pytest.raises(StudentError, match="spin did not finish before"):
            student.spin()
    with pytest.raises(StudentError, match="spin did not finish before"):
        student.apply(student.ref("spin"), 1)  # passed by reference counts too
    assert runner.restarts == restarts  # refused without running: no new hang, no restart
    assert student.fine(1) == 2  # other functions are unaffected
    assert student.apply(student.ref("fine"), 2) == 3
    assert runner.restarts == 1


def test_a_hung_method_blocks_its_object_and_what_was_built_with_it(student):
    student, _ = student
    import torch

    module = student.Looper()
    with pytest.raises(StudentError, match="timed out"):
        module(torch.ones(1))
    with pytest.raises(StudentError, match="Looper did not finish before"):
        student.Looper()
    wrapped = student.lib("torch.nn.Sequential")(student.lib("torch.nn.Identity")())
    assert wrapped.type_name == "Sequential" and not wrapped.involves  # library objects stay usable
    assert student.fine(3) == 4


def test_calls_are_timed_per_test(student):
    student, runner = student
    student.fine(1)
    runner.current_test = "other"
    student.lib("time.sleep")(0.3)
    assert runner.call_seconds["other"] >= 0.3 > runner.call_seconds["t"]


def test_a_cell_stuck_in_a_function_names_it_but_its_tests_still_call_it_once(tmp_path):
    server = ForkServer(RunnerSpec(limits=LIMITS), tmp_path)
    timing = TimeLimits(LIMITS, reference_cells={"train": 0.1}, reference_calls={"t": 0.05})
    cells = [Cell(0, NOTEBOOK), Cell(1, "def train():\n    return apply(spin, 0)\n\nresult = train()", grade_id="train")]
    runner = StudentRunner(cells, server, timing)
    try:
        results = runner.run_notebook()
        assert [r.status for r in results] == ["ok", "timeout"]
        assert "timed out after 2 s in spin()" in results[1].error  # the innermost notebook function
        runner.current_test = "t"
        student = Student(runner)
        assert student.fine(1) == 2
        with pytest.raises(StudentError, match="timed out"):  # a cell's hang may be a slow function: try once
            student.spin()
        restarts = runner.restarts
        with pytest.raises(StudentError, match="spin did not finish before"):
            student.spin()
        assert runner.restarts == restarts  # refused without running
    finally:
        runner.close()
        server.close()


def test_the_stack_dump_is_parsed_for_the_innermost_notebook_function():
    from vlcourse.grading.sandbox.runner import hung_function

    dump = ('some printed text\nStack (most recent call first):\n'
            '  File "/x/torch/nn/functional.py", line 3 in cross_entropy\n'
            '  File "<ipython-input-2-abc>", line 7 in nt_xent_loss\n'
            '  File "<ipython-input-3-def>", line 1 in <module>\n'
            '  File "/x/IPython/core/interactiveshell.py", line 3 in run_code\n')
    assert hung_function(dump) == "nt_xent_loss"
    assert hung_function("Stack (most recent call first):\n  File \"<ipython-input-1-a>\", line 1 in <module>\n") is None
    assert hung_function("no dump at all") is None
    fake_then_real = dump.replace("nt_xent_loss", "train_step") + dump
    assert hung_function(fake_then_real) == "nt_xent_loss"  # the last dump counts
