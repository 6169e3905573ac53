"""The hidden tests of ``grader/NN_name/test_*.py`` run as nbgrader autograder cells.

nbgrader runs its tests *inside the student's kernel*, after the student's own cells. Rather than a
hand-kept rewrite of each hidden test (which drifts whenever a suite changes), each nbgrader test
cell loads the hidden test module itself and calls one test function with in-kernel stand-ins for
the fixtures vlcourse's grader gives it. The same stand-ins serve every assignment:

* ``student``: vlcourse's own :class:`~vlcourse.grading.suite.student.Student` proxy, talking to a
  :class:`KernelRunner` instead of a runner process. That runner is vlcourse's
  :class:`~vlcourse.grading.sandbox.child.Runner` (the code that serves calls in a sandboxed runner)
  on the kernel's globals, and every request and reply goes through the protocol's ``encode`` /
  ``decode`` as it would across the process boundary. So calls by name, ``student.lib(...)`` (library
  code and probes, imported in the kernel), ``student.ref`` / ``libref`` arguments, handles of objects
  that are not plain data (modules, clients, scripted endpoints) and ``.keep()`` behave as under
  ``vlcourse grade``; tensor arguments are copies (a function that modifies its inputs in place cannot
  also change the test's own copy), results are plain data or handles, and an exception raised by the
  student's code is a ``StudentError``;
* ``submitted``: the files handed in, from nbgrader's ``submitted/<student>/<assignment>/``, as
  vlcourse scores the handed-in file and not the copy a grade-budget training cell rewrites;
* ``credit``: partial credit, returned as the cell's last value (nbgrader's partial-credit rule).

So both tools run the same checks, with the same inputs, seeds, tolerances and points. What differs
is forced by where nbgrader runs them: the reference sits in the student's kernel (nothing is
withheld there), the hidden module and its per-process caches are loaded once per notebook (nbgrader
has no grading process that outlives a kernel), the trusted-side cross-checks compare the kernel with
itself, and what the test and the student's code write to stdout and stderr while a check runs is
swallowed (nbgrader scores any output on stderr as a failed test, and a second output would hide the
partial credit; vlcourse keeps a runner's output out of the scores too).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import logging
import sys
import types
import warnings
from pathlib import Path

from vlcourse.grading.sandbox.child import Runner, describe_error
from vlcourse.grading.sandbox.protocol import decode, encode
from vlcourse.grading.sandbox.runner import StudentError
from vlcourse.grading.suite.student import Student

HERE = Path(__file__).resolve().parent


class KernelRunner(Runner):
    """vlcourse's runner-side call handling (targets, references, handles, plain results) on the kernel's globals."""

    def __init__(self, namespace: dict):
        self.shell = types.SimpleNamespace(user_ns=namespace)  # what Runner reads of its IPython shell
        self.handles = {}
        self.next_handle = 1


class InKernelChannel:
    """What :class:`Student` needs of a ``StudentRunner``, with the runner in this very kernel.

    Requests and replies are encoded and decoded as on vlcourse's pipes (``torch.save``, then
    ``torch.load(weights_only=True)`` and the plain-data check), so arguments and results are copies
    and only plain data or handles come back. There are no time limits (nbgrader's per-cell timeout
    is the only one), so no function is ever marked as hung.
    """

    def __init__(self, namespace: dict):
        self.runner = KernelRunner(namespace)
        self.hung: dict[str, str] = {}
        self.current_test: str | None = None

    def call(self, target: dict, args: list, kwargs: dict, keep: bool = False):
        request = decode(encode({"op": "call", "target": target, "args": args, "kwargs": kwargs, "keep": keep}))
        try:
            reply = self.runner.call(request)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the runner reports every failure of student code
            raise StudentError(describe_error(exc)) from None
        return decode(encode(reply))["value"]


class HandedIn:
    """The ``submitted`` fixture: files from nbgrader's ``submitted/<student>/<assignment>/`` folder."""

    def __init__(self):
        here = Path.cwd()  # autograded/<student>/<assignment>
        self.folder = here.parents[1].parent / "submitted" / here.parent.name / here.name

    def path(self, name: str) -> str:
        if not (self.folder / name).is_file():
            raise StudentError(f"your submission has no file {name!r}: run the cell that saves it, and submit it")
        return str(self.folder / name)


class Credit:
    def __init__(self):
        self.fraction = 1.0

    def award(self, fraction: float) -> None:
        self.fraction = min(1.0, max(0.0, float(fraction)))


_students: dict[int, Student] = {}  # one per kernel namespace, as vlcourse's is one per submission


def kernel_student(namespace: dict) -> Student:
    if id(namespace) not in _students:
        _students[id(namespace)] = Student(InKernelChannel(namespace))
    return _students[id(namespace)]


def hidden_module(test_file: str):
    """The hidden test module, loaded once per kernel (as once per vlcourse grading process)."""
    path = Path(test_file)
    name = f"_vlcourse_hidden_{path.parent.name}_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_hidden_test(test_file: str, name: str, points: float, namespace: dict) -> float:
    """Run hidden test ``name`` of ``test_file`` against the kernel's globals; the points earned (raises if it fails)."""
    warnings.filterwarnings("ignore")
    swallowed = io.StringIO()
    logging.disable(logging.CRITICAL)  # handlers made before the redirect (transformers') hold the kernel's stderr
    try:
        with contextlib.redirect_stdout(swallowed), contextlib.redirect_stderr(swallowed):
            test = getattr(hidden_module(test_file), name)
            credit = Credit()
            fixtures = {"student": kernel_student(namespace), "submitted": HandedIn(), "credit": credit}
            test(**{p: fixtures[p] for p in inspect.signature(test).parameters})
    finally:
        logging.disable(logging.NOTSET)
    return round(points * credit.fraction, 4)


def check_source(test_file: Path, test_name: str, points: float) -> str:
    """Source of the nbgrader test cell for one hidden test: all of it hidden from students."""
    return (f"# Hidden check: {test_name} of vlcourse's grader/{test_file.parent.name}, run in this kernel\n"
            "### BEGIN HIDDEN TESTS\n"
            f"import sys as _sys\nif {str(HERE)!r} not in _sys.path:\n    _sys.path.insert(0, {str(HERE)!r})\n"
            "from in_kernel import run_hidden_test as _run_hidden_test\n"
            f"_run_hidden_test({str(test_file)!r}, {test_name!r}, {points!r}, globals())\n"
            "### END HIDDEN TESTS")
