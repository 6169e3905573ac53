"""The narrow protocol between the trusted grader and the untrusted student runner.

Messages are length-prefixed frames over a pair of pipes. Each frame body is ``torch.save`` of
*plain data*: tensors (exactly ``torch.Tensor``), ``None``, ``bool``, ``int``, ``float``, ``str``,
and lists / tuples / dicts (string keys) of those. The trusted side decodes with
``torch.load(weights_only=True)``, which refuses arbitrary classes (no pickle ``__reduce__``
tricks), and then checks the result once more with :func:`check_plain` (no tensor subclasses,
bounded size and depth).

Objects that are not plain data (modules, optimisers, functions) stay in the runner and cross the
boundary as handles: ``{"__handle__": id, "type": "ClassName"}``.
"""

from __future__ import annotations

import io
import os
import select
import struct
import time

import torch

HEADER = struct.Struct("!Q")
MAX_FRAME_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 16
MAX_ITEMS = 100_000


class ProtocolError(Exception):
    """The other side sent something that is not a valid frame of plain data."""


class ChannelClosed(ProtocolError):
    """The other side closed its end (usually: the runner process died)."""


class ChannelTimeout(ProtocolError):
    """No complete frame arrived within the time allowed."""


def encode(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def decode(payload: bytes):
    """Decode a frame body with ``weights_only=True`` and check it is plain data."""
    try:
        value = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - any failure to decode is the sender's fault
        raise ProtocolError(f"could not decode a message as plain data ({type(exc).__name__})") from None
    check_plain(value)
    return value


def check_plain(value, depth: int = 0, budget: list[int] | None = None) -> None:
    """Raise :class:`ProtocolError` unless ``value`` is plain data (see module docstring)."""
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise ProtocolError("message has too many items")
    if depth > MAX_DEPTH:
        raise ProtocolError("message is nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return
    if isinstance(value, torch.Tensor):
        if type(value) is not torch.Tensor:
            raise ProtocolError(f"tensor subclass {type(value).__name__} is not allowed")
        if value.layout != torch.strided:
            raise ProtocolError("only dense tensors are allowed")
        return
    if type(value) in (list, tuple):
        for item in value:
            check_plain(item, depth + 1, budget)
        return
    if type(value) is dict or type(value).__name__ == "OrderedDict":
        for key, item in value.items():
            if type(key) is not str:
                raise ProtocolError("dictionary keys must be strings")
            check_plain(item, depth + 1, budget)
        return
    raise ProtocolError(f"type {type(value).__name__} is not plain data")


def write_frame(fd: int, obj) -> None:
    """Send one frame (blocking)."""
    body = encode(obj)
    data = HEADER.pack(len(body)) + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelTimeout("timed out waiting for a reply")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise ChannelTimeout("timed out waiting for a reply")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, timeout: float | None = None, max_bytes: int = MAX_FRAME_BYTES):
    """Receive and decode one frame; ``timeout`` in seconds bounds the whole frame."""
    deadline = None if timeout is None else time.monotonic() + timeout
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if size > max_bytes:
        raise ProtocolError(f"message of {size} bytes exceeds the limit of {max_bytes}")
    return decode(_read_exactly(fd, size, deadline))
