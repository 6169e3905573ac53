"""The hidden tests of ``grader/01_simclr/test_simclr.py`` run as nbgrader autograder cells.

nbgrader runs its tests *inside the student's kernel*, after the student's own cells. Rather than a
hand-kept rewrite of each hidden test (which drifts whenever the suite changes), each nbgrader
test cell loads the hidden test module itself and calls one test function with in-kernel stand-ins
for the fixtures vlcourse's grader gives it:

* ``student``: the kernel's own globals (``student.nt_xent_loss(...)`` calls the student's function;
  ``student.lib(dotted)`` imports; ``student.ref(name)`` is the global itself). Tensor arguments are
  copied on each call, as they are when they cross vlcourse's process boundary, so a function that
  modifies its inputs in place cannot also change the test's own copy of them;
* ``submitted``: the files handed in, from nbgrader's ``submitted/<student>/<assignment>/``, as
  vlcourse scores the handed-in encoder and not the copy the grade-budget training cell rewrites;
* ``credit``: partial credit, returned as the cell's last value (nbgrader's partial-credit rule).

So both tools run the same checks, with the same inputs, seeds, tolerances and points. What differs
is forced by where nbgrader runs them: the reference sits in the student's kernel (nothing is
withheld there), the trusted-side cross-checks compare the kernel with itself, and warnings are
silenced, because nbgrader scores any output on stderr as a failed test.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import warnings
from pathlib import Path

HIDDEN_TESTS = Path(__file__).resolve().parents[2] / "grader" / "01_simclr" / "test_simclr.py"


class KernelStudent:
    """The ``student`` fixture inside the student's own kernel."""

    def __init__(self, namespace: dict):
        self._namespace = namespace

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return called_with_copies(self.ref(name))

    def lib(self, dotted: str):
        return called_with_copies(self.libref(dotted))

    def libref(self, dotted: str):
        from vlcourse.grading.sandbox.child import import_dotted

        return import_dotted(dotted)

    def ref(self, name: str):
        try:
            return self._namespace[name]
        except KeyError:
            raise NameError(f"name {name!r} is not defined by your notebook") from None


def copies(value):
    """Tensors copied, inside lists, tuples and dicts; every other object passed as it is."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if type(value) in (list, tuple):
        return type(value)(copies(v) for v in value)
    if type(value) is dict:
        return {k: copies(v) for k, v in value.items()}
    return value


def called_with_copies(function):
    def call(*args, **kwargs):
        return function(*copies(args), **copies(kwargs))
    return call


class HandedIn:
    """The ``submitted`` fixture: files from nbgrader's ``submitted/<student>/<assignment>/`` folder."""

    def __init__(self):
        here = Path.cwd()  # autograded/<student>/<assignment>
        self.folder = here.parents[1].parent / "submitted" / here.parent.name / here.name

    def path(self, name: str) -> str:
        if not (self.folder / name).is_file():
            raise FileNotFoundError(f"no handed-in {name} in {self.folder}")
        return str(self.folder / name)


class Credit:
    def __init__(self):
        self.fraction = 1.0

    def award(self, fraction: float) -> None:
        self.fraction = min(1.0, max(0.0, float(fraction)))


def hidden_module():
    if "_vlcourse_hidden_tests" not in sys.modules:
        spec = importlib.util.spec_from_file_location("_vlcourse_hidden_tests", HIDDEN_TESTS)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["_vlcourse_hidden_tests"]


def run_hidden_test(name: str, points: float, namespace: dict) -> float:
    """Run hidden test ``name`` against the kernel's globals; the points earned (raises if it fails)."""
    warnings.filterwarnings("ignore")
    test = getattr(hidden_module(), name)
    credit = Credit()
    fixtures = {"student": KernelStudent(namespace), "submitted": HandedIn(), "credit": credit}
    test(**{p: fixtures[p] for p in inspect.signature(test).parameters})
    return round(points * credit.fraction, 4)


def check_source(test_name: str, points: float) -> str:
    """Source of the nbgrader test cell for one hidden test: all of it hidden from students."""
    return (f"# Hidden check: {test_name} of vlcourse's grader/01_simclr, run in this kernel\n"
            "### BEGIN HIDDEN TESTS\n"
            f"import sys as _sys\n_sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
            "from in_kernel import run_hidden_test as _run_hidden_test\n"
            f"_run_hidden_test({test_name!r}, {points!r}, globals())\n"
            "### END HIDDEN TESTS")
