"""The plain-data protocol: what crosses the trust boundary, and what is refused."""

import io
import os
import pickle
import threading

import pytest
import torch

from vlcourse.grading.sandbox.protocol import (
    ChannelClosed,
    ChannelTimeout,
    ProtocolError,
    check_plain,
    decode,
    encode,
    read_frame,
    write_frame,
)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/vlcourse-pwned",))


class SneakyTensor(torch.Tensor):
    pass


def test_round_trip_of_plain_data():
    value = {"a": torch.arange(6.0).reshape(2, 3), "b": [1, 2.5, "x", None, True], "c": (torch.ones(1),)}
    back = decode(encode(value))
    torch.testing.assert_close(back["a"], value["a"])
    assert back["b"] == value["b"]
    assert isinstance(back["c"], tuple)


def test_pickled_reduce_payload_is_refused_and_not_executed(tmp_path):
    payload = pickle.dumps({"x": Evil()})
    with pytest.raises(ProtocolError):
        decode(payload)
    assert not os.path.exists("/tmp/vlcourse-pwned")


def test_torch_save_of_arbitrary_object_is_refused():
    buffer = io.BytesIO()
    torch.save({"x": Evil()}, buffer)
    with pytest.raises(ProtocolError):
        decode(buffer.getvalue())
    assert not os.path.exists("/tmp/vlcourse-pwned")


def test_tensor_subclass_is_refused():
    with pytest.raises(ProtocolError):
        check_plain(torch.ones(2).as_subclass(SneakyTensor))


@pytest.mark.parametrize("bad", [{1: "int key"}, {"s": {1, 2}}, object(), b"bytes"])
def test_non_plain_values_are_refused(bad):
    with pytest.raises(ProtocolError):
        check_plain(bad)


def test_too_deep_nesting_is_refused():
    value = []
    for _ in range(40):
        value = [value]
    with pytest.raises(ProtocolError):
        check_plain(value)


def test_frames_over_a_pipe_and_timeouts():
    r, w = os.pipe()
    try:
        write_frame(w, {"ok": True, "t": torch.zeros(3)})
        got = read_frame(r, timeout=5)
        assert got["ok"] is True
        with pytest.raises(ChannelTimeout):
            read_frame(r, timeout=0.2)
    finally:
        os.close(w)
    with pytest.raises(ChannelClosed):
        read_frame(r, timeout=1)
    os.close(r)


def test_oversized_frame_is_refused_before_reading_it():
    r, w = os.pipe()
    writer = threading.Thread(target=write_frame, args=(w, {"t": torch.zeros(1000)}))
    writer.start()
    with pytest.raises(ProtocolError):
        read_frame(r, timeout=5, max_bytes=100)
    os.close(r)
    writer.join(timeout=5)
    os.close(w)
