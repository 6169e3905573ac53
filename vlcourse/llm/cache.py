"""A disk cache of responses keyed by the full request (``diskcache``).

The key is a hash of the endpoint, the kind of call and every request parameter, so a class
re-running a notebook costs nothing and gets the same answers, and changing anything (the model,
the temperature, a single character of the prompt) asks the endpoint again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import diskcache


def request_key(endpoint: str, kind: str, request: dict) -> str:
    """A stable hash of one request."""
    blob = json.dumps({"endpoint": endpoint, "kind": kind, "request": request}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """Responses as plain JSON-able dicts in a ``diskcache.Cache`` (safe across processes and threads)."""

    def __init__(self, folder: Path):
        self.store = diskcache.Cache(str(folder))

    def get(self, key: str) -> dict | None:
        return self.store.get(key)

    def put(self, key: str, response: dict) -> None:
        self.store.set(key, response)

    def clear(self) -> None:
        self.store.clear()

    def __len__(self) -> int:
        return len(self.store)

    def close(self) -> None:
        self.store.close()
