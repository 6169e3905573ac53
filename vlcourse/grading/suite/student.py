"""What hidden tests see of a submission: the ``student`` fixture.

Hidden tests read like ordinary pytest::

    def test_loss(student):
        assert_close(student.nt_xent_loss(z1, z2, temperature=0.5), ref.nt_xent_loss(z1, z2, 0.5))

``student.NAME(...)`` calls the notebook's global ``NAME`` inside the runner. Results that are
plain data (tensors, numbers, strings, containers) come back by value; anything else (a module, an
optimiser) stays in the runner and comes back as a :class:`Handle`, whose methods can be called in
turn. ``student.lib("torch.optim.SGD")`` reaches library code inside the runner, and
``student.ref("train_step")`` passes a notebook function as an argument.

A function that hung is not called again: once a call that involved it (called by name, passed as
``student.ref``, or behind a handle built with it, or named by the runner's stack dump) ran past
its limit, later calls involving it fail at once with the same reason, so one endless loop costs
one call limit, not one per test. A cell that timed out inside a function does not mark it: the
cell may have given it far more work (a training run) than any test does, and a correct but slow
function still earns its tests.
"""

from __future__ import annotations

from vlcourse.grading.sandbox.runner import Hang, StudentError, StudentRunner


class Handle:
    """An object that lives in the runner (a module, an optimiser, a generator...)."""

    def __init__(self, student: Student, ident: int, type_name: str, involves: frozenset[str] = frozenset()):
        self._student = student
        self._ident = ident
        self.type_name = type_name
        self.involves = involves  # the notebook's names this object was made with (see Student.involved)

    def __call__(self, *args, **kwargs):
        return self._student._call({"handle": self._ident}, args, kwargs, label=self.type_name)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return RemoteCallable(self._student, {"handle": self._ident, "method": name}, f"{self.type_name}.{name}")

    def __repr__(self) -> str:
        return f"<handle #{self._ident}: {self.type_name} in the student's runner>"


class RemoteCallable:
    """A function or method in the runner; calling it sends a request."""

    def __init__(self, student: Student, target: dict, label: str):
        self._student = student
        self._target = target
        self.label = label

    def __call__(self, *args, **kwargs):
        return self._student._call(self._target, args, kwargs, label=self.label)

    def keep(self, *args, **kwargs) -> Handle:
        """Call, but keep the result in the runner even if it is plain data."""
        return self._student._call(self._target, args, kwargs, keep=True, label=self.label)


class StudentRef:
    """A notebook global passed as an argument (e.g. the student's own loss function)."""

    def __init__(self, name: str):
        self.name = name


class LibRef:
    """A library object passed as an argument, resolved inside the runner."""

    def __init__(self, dotted: str):
        self.dotted = dotted


class Student:
    """Proxy of one submission (see module docstring)."""

    def __init__(self, runner: StudentRunner):
        self._runner = runner
        self._handles: dict[int, frozenset[str]] = {}  # handle id -> names it involves

    def __getattr__(self, name: str) -> RemoteCallable:
        if name.startswith("_"):
            raise AttributeError(name)
        return RemoteCallable(self, {"name": name}, name)

    def lib(self, dotted: str) -> RemoteCallable:
        """Library code (torch, vlcourse, ...) inside the runner, e.g. ``lib("torch.optim.SGD")``."""
        return RemoteCallable(self, {"lib": dotted}, dotted.rsplit(".", 1)[-1])

    def ref(self, name: str) -> StudentRef:
        """A notebook global to pass as an argument, e.g. ``student.ref("nt_xent_loss")``."""
        return StudentRef(name)

    def libref(self, dotted: str) -> LibRef:
        """A library object to pass as an argument, e.g. ``student.libref("torch.nn.functional.relu")``."""
        return LibRef(dotted)

    # --- plumbing ----------------------------------------------------------------------------
    def _encode(self, value):
        if isinstance(value, Handle):
            return {"__handle__": value._ident}
        if isinstance(value, StudentRef):
            return {"__student__": value.name}
        if isinstance(value, LibRef):
            return {"__lib__": value.dotted}
        if type(value) in (list, tuple):
            return type(value)(self._encode(v) for v in value)
        if isinstance(value, dict):
            return {k: self._encode(v) for k, v in value.items()}
        return value

    def _decode(self, value, involves: frozenset[str]):
        if type(value) is dict and "__handle__" in value:
            ident = int(value["__handle__"])
            self._handles[ident] = involves
            return Handle(self, ident, str(value.get("type", "object")), involves)
        return value

    def involved(self, target: dict, args, kwargs) -> frozenset[str]:
        """The notebook's names a call runs: its target, ``ref`` arguments, and what handles were made with."""
        names = {target["name"]} if "name" in target else set()
        names |= self._handles.get(target.get("handle"), frozenset())
        stack = [list(args), list(kwargs.values())]
        while stack:
            value = stack.pop()
            if isinstance(value, StudentRef):
                names.add(value.name)
            elif isinstance(value, Handle):
                names |= value.involves
            elif type(value) in (list, tuple):
                stack += list(value)
            elif isinstance(value, dict):
                stack += list(value.values())
        return frozenset(names)

    def _call(self, target: dict, args, kwargs, keep: bool = False, label: str = "call"):
        involves = self.involved(target, args, kwargs)
        hung = self._runner.hung
        for name in sorted(involves & set(hung)):
            raise StudentError(f"{label}(...): not called again, since {name} did not finish before: {hung[name]}")
        try:
            value = self._runner.call(target, list(self._encode(list(args))), self._encode(dict(kwargs)), keep)
        except Hang as exc:
            hung |= {name: str(exc) for name in involves | {exc.function} - {None}}
            raise StudentError(f"{label}(...): {exc}") from None
        except StudentError as exc:
            raise StudentError(f"{label}(...): {exc}") from None
        return self._decode(value, involves)
