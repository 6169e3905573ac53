"""Shared test configuration: how the suite splits over pytest-xdist's two workers.

The README's test command runs ``pytest -n 2 --dist loadscope`` (``pyproject.toml``), and
:func:`pytest_xdist_make_scheduler` gives xdist our own grouping of the tests into work units:

* every test module is one unit, run on one worker (its module fixtures are built once, and some
  modules are steps of one story, such as ``test_new_assignment.py``), except the modules in
  :data:`SPLIT`, whose tests are independent and each long (one hidden suite's verification, one
  solution notebook run end to end): each of their tests is a unit of its own, so they spread over both
  workers;
* modules that must not overlap in time share one unit (:data:`TOGETHER`);
* the units known to be long (:data:`LONG_FIRST`, from ``--durations``) are handed out first, longest
  first, so the two workers end at about the same time instead of one starting a five-minute unit
  when the other has nothing left to do;
* each worker, and the kernels and processes it starts, gets its share of the cores as torch's thread
  count (:func:`pytest_configure`).

(xdist's own ``loadgroup`` mode cannot do this with the pytest we install: it renames each test's
node id to carry its group, and pytest 9 no longer reads the attribute it sets.)
"""

from __future__ import annotations

import os
import sys

import pytest

SPLIT = {"tests/test_verify_and_build.py", "tests/test_notebooks.py"}

# Module -> the unit it joins. The withheld-code search plants bytecode and backup copies inside the
# package while it runs, and the red-team suite checks that grading its attacks left the package's
# files unchanged: run on two workers at once, the second sees the first's plants (a CI failure).
TOGETHER = {"tests/test_redteam.py": "tests/test_withheld_unreachable.py"}

# Longest first, as measured by --durations on the 2-core machine (a unit's own tests and module fixtures).
LONG_FIRST = [
    "tests/test_withheld_unreachable.py",  # with tests/test_redteam.py (TOGETHER)
    "tests/test_grading_cluster.py",
    "tests/test_lectures.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[05_lora]",
    "tests/test_gpu_day.py",
    "tests/test_new_assignment.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[06_icl]",
    "tests/test_forkserver.py",
    "tests/test_grading_class.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[03_mae]",
    "tests/test_grading_runner.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[01_simclr]",
    "tests/test_distributed.py",
    "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[05_lora]",
    "tests/test_cli_errors.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[04_clipcap]",
    "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[06_icl]",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[02_gpt]",
    "tests/test_lectures_demos.py",
    "tests/test_serve_access.py",
    "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[03_mae]",
    "tests/test_mutation.py",
    "tests/test_grading_timing.py",
    "tests/test_jupyter_role.py",
    "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[01_simclr]",
    "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[04_clipcap]",
    "tests/test_notebooks.py::test_solution_notebook_runs_end_to_end[02_gpt]",
]


def pytest_configure(config):
    """On an xdist worker: its share of the cores as the torch thread count, for it and what it starts.

    Torch's default is a thread per core in every process. Two workers that each train, or start a kernel
    or a grading process that does, would then run four spinning OpenMP threads on two cores, and every
    barrier waits for a thread that is not running. A variable already set is left as it is.
    """
    worker_count = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if not os.environ.get("PYTEST_XDIST_WORKER") or not worker_count:
        return
    share = max(1, len(os.sched_getaffinity(0)) // int(worker_count))
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(share))
    if "torch" in sys.modules:  # imported before this hook: set it directly as well
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def work_unit(nodeid: str) -> str:
    """The unit a test runs in: its module (or the one it joins), or the test itself in a :data:`SPLIT` module."""
    module = nodeid.split("::", 1)[0]
    return nodeid if module in SPLIT else TOGETHER.get(module, module)


def longest_first(units: list[str]) -> list[str]:
    """``units`` with those of :data:`LONG_FIRST` first, in its order; the rest keep the collection's order."""
    rank = {unit: i for i, unit in enumerate(LONG_FIRST)}
    return sorted(units, key=lambda unit: rank.get(unit, len(LONG_FIRST)))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: ignored where it is not installed
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class CourseScheduling(LoadScopeScheduling):
        """xdist's scope scheduling with our units, longest first."""

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _assign_work_unit(self, node) -> None:
            if not getattr(self, "_ordered", False):
                order = longest_first(list(self.workqueue))
                self.workqueue = type(self.workqueue)((unit, self.workqueue[unit]) for unit in order)
                self._ordered = True
            super()._assign_work_unit(node)

    return CourseScheduling(config, log)
