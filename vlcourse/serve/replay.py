"""Answers to reproducible requests, kept and replayed (``ServeConfig.replay_entries``; off by default).

A request at temperature 0 (greedy decoding), with a ``seed``, or that samples nothing (``max_tokens=0``,
scoring its prompt) has one answer: sending it again gives the same choices. The grader's endpoint (:class:`vlcourse.llm.grading.SandboxEndpoint`) turns this on:
a class's submissions send the same requests again and again (the hidden tests ask every student's
``evaluate_icl`` the same 240 questions), and each one after the first is answered from here instead of
by the model. What a submission sends is still what decides its answer: the key is the whole request
(route, model, prompt, every sampling field), so a request that differs in anything is computed.

Requests that sample tokens without a seed, and streaming requests, are never kept.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict

from pydantic import BaseModel


def is_reproducible(request: BaseModel) -> bool:
    """Whether the request has one answer: not streamed, and greedy (temperature 0), seeded, or sampling
    nothing (``max_tokens=0``: scoring a prompt with ``echo`` and ``logprobs``)."""
    if getattr(request, "stream", False):
        return False
    return request.temperature == 0 or request.seed is not None or getattr(request, "max_tokens", None) == 0


class ReplayCache:
    """At most ``max_entries`` responses (plain dicts), least recently used dropped first.

    Used from the server's event loop only (one thread), so it needs no lock. Two identical requests
    in flight at once are both computed; the later one's answer is kept.
    """

    def __init__(self, max_entries: int):
        if not isinstance(max_entries, int) or max_entries < 0:
            raise ValueError(f"max_entries must be a non-negative integer, got {max_entries!r}")
        self.max_entries = max_entries
        self.entries: OrderedDict[str, dict] = OrderedDict()
        self.hits = self.misses = 0

    def key(self, route: str, request: BaseModel) -> str | None:
        """The request's key, or None when it must be computed (caching off, not reproducible)."""
        if self.max_entries == 0 or not is_reproducible(request):
            return None
        return route + " " + json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def get(self, key: str | None, prefix: str) -> dict | None:
        """The kept response for ``key`` under a new id (``prefix``-...) and creation time; None if not kept."""
        if key is None:
            return None
        kept = self.entries.get(key)
        if kept is None:
            self.misses += 1
            return None
        self.hits += 1
        self.entries.move_to_end(key)
        return {**kept, "id": f"{prefix}-{uuid.uuid4().hex}", "created": int(time.time())}

    def put(self, key: str | None, response: dict) -> dict:
        """Keep ``response`` under ``key`` (if any); returns it."""
        if key is not None:
            self.entries[key] = response
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
        return response
