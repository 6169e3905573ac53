"""The student runner: the untrusted side of the grading boundary.

Forked for each submission by the warm zygote (:mod:`vlcourse.grading.sandbox.zygote`) inside the
sandbox, in the submission's scratch folder, with resource limits;
:class:`vlcourse.grading.sandbox.runner.StudentRunner` talks to it over two pipes. It executes the
submission's cells one at a time in an IPython shell (so magics behave as in Jupyter) and then
serves calls from the grader. Nothing in here is trusted: every reply is checked
again on the grader's side, and all comparisons happen there.

Requests (plain data, see :mod:`vlcourse.grading.sandbox.protocol`):

* ``{"op": "exec", "source": str}`` -> ``{"ok": bool, "error": str | None}``
* ``{"op": "call", "target": TARGET, "args": list, "kwargs": dict, "keep": bool}``
  -> ``{"ok": True, "value": plain data or handle}`` or ``{"ok": False, "error": str}``,
  where TARGET is ``{"name": str}`` (a global of the notebook), ``{"lib": "pkg.mod.attr"}``,
  ``{"handle": int}`` or ``{"handle": int, "method": str}``. Arguments may contain
  ``{"__handle__": id}``, ``{"__student__": name}`` and ``{"__lib__": "pkg.mod.attr"}`` references.
* ``{"op": "release", "handle": int}``, ``{"op": "ping"}``
"""

from __future__ import annotations

import importlib
import os
import random
import sys
import traceback

from vlcourse.grading.sandbox.protocol import read_frame, write_frame

MAX_ERROR_CHARS = 2000


class Withheld(Exception):
    """Raised by the stand-ins of reference code an assignment withholds while grading."""


def withhold(dotted_names: list[str]) -> None:
    """Replace each ``package.module.attr`` with a stub that raises :class:`Withheld`.

    Re-exports of the same object (``vlcourse.simclr.nt_xent_loss`` for
    ``vlcourse.simclr.losses.nt_xent_loss``) are replaced too. Under the sandbox the source files
    are masked as well, so this matters for process-only isolation.
    """
    for dotted in dotted_names:
        module_name, _, attr = dotted.rpartition(".")
        try:
            original = getattr(importlib.import_module(module_name), attr, None)
        except Exception:  # noqa: BLE001 - a masked module cannot be imported at all: fine
            original = None

        def stub(*args, _name=dotted, **kwargs):
            raise Withheld(f"{_name} is withheld while grading: write your own implementation")

        for module in list(sys.modules.values()):
            if module is None:
                continue
            if getattr(module, "__name__", None) == module_name:
                setattr(module, attr, stub)
            elif original is not None:
                for name, value in list(vars(module).items()):
                    if value is original:
                        setattr(module, name, stub)


def preload(names: list[str]) -> None:
    """Import what the notebook will import anyway, during start-up (which is not graded time).

    An entry ``package.module:function`` also calls ``function()`` once. For a cached loader
    (``functools.cache``: a reference model read from its checkpoint) that is paid in the zygote, and
    every runner forked from it finds the loaded object in the cache, instead of each submission
    loading it again in its first hidden test.
    """
    for name in names:
        module_name, _, function = name.partition(":")
        try:
            module = importlib.import_module(module_name)
            if function:
                getattr(module, function)()
        except Exception:  # noqa: BLE001 - the notebook will report it if it matters
            pass


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


GRADING_DIR = os.path.dirname(os.path.abspath(__file__))


def describe_error(exc: BaseException) -> str:
    """``Type: message`` plus the last few frames outside the grader, cut to a readable length."""
    try:
        stack = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(GRADING_DIR)]
        frames = traceback.format_list(stack[-4:])
        text = "".join(frames) + f"{type(exc).__name__}: {exc}"
    except Exception:  # noqa: BLE001 - a hostile __str__ must not break the runner
        text = type(exc).__name__
    return text[-MAX_ERROR_CHARS:]


class Runner:
    """Executes cells and serves calls; see the module docstring for the messages."""

    def __init__(self):
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = InteractiveShell.instance(colors="nocolor")
        self.handles: dict[int, object] = {}
        self.next_handle = 1

    # --- cells -------------------------------------------------------------------------------
    def exec_cell(self, source: str) -> dict:
        result = self.shell.run_cell(source, store_history=True)
        sys.stdout.flush()
        sys.stderr.flush()
        error = result.error_before_exec or result.error_in_exec
        return {"ok": error is None, "error": None if error is None else describe_error(error)}

    # --- calls -------------------------------------------------------------------------------
    def resolve_target(self, target: dict):
        if "name" in target:
            return self.student_global(target["name"])
        if "lib" in target:
            return import_dotted(target["lib"])
        obj = self.handles[target["handle"]]
        return getattr(obj, target["method"]) if "method" in target else obj

    def student_global(self, name: str):
        try:
            return self.shell.user_ns[name]
        except KeyError:
            raise NameError(f"name {name!r} is not defined by your notebook") from None

    def resolve_args(self, value):
        if type(value) is dict:
            if "__handle__" in value:
                return self.handles[value["__handle__"]]
            if "__student__" in value:
                return self.student_global(value["__student__"])
            if "__lib__" in value:
                return import_dotted(value["__lib__"])
            return {k: self.resolve_args(v) for k, v in value.items()}
        if type(value) in (list, tuple):
            return type(value)(self.resolve_args(v) for v in value)
        return value

    def call(self, request: dict) -> dict:
        func = self.resolve_target(request["target"])
        args = self.resolve_args(request.get("args", []))
        kwargs = self.resolve_args(request.get("kwargs", {}))
        result = func(*args, **kwargs)
        plain = None if request.get("keep") else to_plain(result)
        if plain is NOT_PLAIN or request.get("keep"):
            return {"ok": True, "value": self.store(result)}
        return {"ok": True, "value": plain}

    def store(self, obj) -> dict:
        handle = self.next_handle
        self.next_handle += 1
        self.handles[handle] = obj
        return {"__handle__": handle, "type": type(obj).__name__}

    def serve(self, request_fd: int, reply_fd: int) -> None:
        while True:
            request = read_frame(request_fd)
            op = request.get("op")
            try:
                if op == "exec":
                    reply = self.exec_cell(request["source"])
                elif op == "call":
                    reply = self.call(request)
                elif op == "release":
                    self.handles.pop(request["handle"], None)
                    reply = {"ok": True}
                elif op == "ping":
                    reply = {"ok": True}
                else:
                    reply = {"ok": False, "error": f"unknown op {op!r}"}
            except BaseException as exc:  # noqa: BLE001 - report every failure, SystemExit included
                reply = {"ok": False, "error": describe_error(exc)}
            try:
                write_frame(reply_fd, reply)
            except Exception as exc:  # noqa: BLE001 - e.g. a value torch.save cannot encode
                write_frame(reply_fd, {"ok": False, "error": f"result could not be sent: {describe_error(exc)}"})


NOT_PLAIN = object()


def to_plain(value, depth: int = 0):
    """Convert a result to plain data, or return ``NOT_PLAIN`` (it then travels as a handle)."""
    import numpy as np
    import torch

    if depth > 16:
        return NOT_PLAIN
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) in (torch.Tensor, torch.nn.Parameter):
        return value.detach().cpu().contiguous().clone()
    if isinstance(value, np.ndarray) and value.dtype != object:
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, np.generic):
        return value.item()
    if type(value) is torch.Size:
        return tuple(int(v) for v in value)
    if type(value) in (list, tuple):
        items = [to_plain(v, depth + 1) for v in value]
        return NOT_PLAIN if any(i is NOT_PLAIN for i in items) else type(value)(items)
    if isinstance(value, dict) and all(type(k) is str for k in value):
        items = {k: to_plain(v, depth + 1) for k, v in value.items()}
        return NOT_PLAIN if any(i is NOT_PLAIN for i in items.values()) else items
    return NOT_PLAIN


def import_dotted(path: str):
    """Import ``pkg.mod.attr.attr`` by trying the longest importable module prefix."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot import {path}")
