"""Shared test configuration: how the suite splits over pytest-xdist's two workers.

The README's test command runs ``pytest -n 2 --dist loadscope`` (``pyproject.toml``), and
:func:`pytest_xdist_make_scheduler` gives xdist our own grouping of the tests into work units:

* every test module is one unit, run on one worker (its module fixtures are built once, and some
  modules are steps of one story, such as ``test_new_assignment.py``), except the modules in
  :data:`SPLIT`, whose tests are independent and each long (one hidden suite's verification each):
  each of their tests is a unit of its own, so they spread over both workers;
* the units known to be long (:data:`LONG_FIRST`, from ``--durations``) are handed out first, longest
  first, so the two workers end at about the same time instead of one starting a five-minute unit
  when the other has nothing left to do.

(xdist's own ``loadgroup`` mode cannot do this with the pytest we install: it renames each test's
node id to carry its group, and pytest 9 no longer reads the attribute it sets.)
"""

from __future__ import annotations

import pytest

SPLIT = {"tests/test_verify_and_build.py"}

# Longest first, as measured by --durations on the 2-core machine (a unit's own tests and module fixtures).
LONG_FIRST = [
    "tests/test_lectures.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[06_icl]",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[05_lora]",
    "tests/test_withheld_unreachable.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[04_clipcap]",
    "tests/test_notebooks.py",
    "tests/test_redteam.py",
    "tests/test_gpu_day.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[03_mae]",
    "tests/test_grading_cluster.py",
    "tests/test_new_assignment.py",
    "tests/test_lectures_demos.py",
    "tests/test_grading_class.py",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[01_simclr]",
    "tests/test_verify_and_build.py::test_hidden_suite_verifies[02_gpt]",
    "tests/test_distributed.py",
]


def work_unit(nodeid: str) -> str:
    """The unit a test runs in: its module, or the test itself in a :data:`SPLIT` module."""
    module = nodeid.split("::", 1)[0]
    return nodeid if module in SPLIT else module


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
