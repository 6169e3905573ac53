"""What a runner prints: kept head and tail, with the middle dropped and counted."""

from __future__ import annotations

import threading


class OutputTail:
    """Keeps the first and last ``limit`` bytes of a stream, drops the middle, counts everything."""

    def __init__(self, limit: int):
        self.limit = limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            room = self.limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[: max(0, len(self.tail) - self.limit)]

    def text(self) -> str:
        with self.lock:
            dropped = self.total - len(self.head) - len(self.tail)
            middle = f"\n[... {dropped} bytes of output dropped ...]\n" if dropped > 0 else ""
            return self.head.decode(errors="replace") + middle + self.tail.decode(errors="replace")


def drain(stream, sink: OutputTail) -> None:
    for chunk in iter(lambda: stream.read1(1 << 16), b""):
        sink.feed(chunk)
