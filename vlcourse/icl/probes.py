"""A scripted OpenAI-compatible endpoint, for tests of code that calls a language model.

:class:`ScriptedEndpoint` hands out real ``openai.OpenAI`` clients whose HTTP transport is httpx's
own ``MockTransport``: the client builds, sends and parses requests exactly as against a provider,
but every completion is the next of a list of scripted texts, and every request body is recorded.
Assignment 06's hidden tests use it (inside the student's runner) to see which prompts a student's
function sends and to give it messy answers on purpose; its results, like everything from the
runner, are checked on the grader's side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import httpx
import openai
import torch

from vlcourse.grading.sandbox.child import NOT_PLAIN, to_plain
from vlcourse.grading.suite.probes import error_name  # noqa: F401  (the shared probe, for 06's tests of ValueErrors)

__all__ = ["ScriptedEndpoint", "table_encoder", "error_name", "call_and_arguments"]


class ScriptedEndpoint:
    """Answers ``/completions`` with scripted texts (in order, cycling), records every request.

    Example::

        endpoint = ScriptedEndpoint([" dax", " 3+8=11, 11+6=17"])
        client = endpoint.client()
        client.completions.create(model="m", prompt="red circle ->").choices[0].text  # " dax"
        endpoint.requests()  # [{"model": "m", "prompt": "red circle ->"}]

    A request with a list of prompts gets one choice per prompt and per ``n``, each the next text.

    A request with ``echo=True`` and ``logprobs`` (the scoring request of a label set) gets its prompt
    back, followed by the next scripted text unless ``max_tokens=0``, with per-token log-probabilities:
    the text splits into tokens of one word each with the whitespace before it (``"a -> dax"``:
    ``"a"``, ``" ->"``, ``" dax"``), the first token's log-probability is ``None`` and every other
    token's is ``logprobs[token]``, or ``default_logprob`` for a token not listed. Chosen values make
    ties between labels, and how a function breaks them, visible.
    """

    def __init__(self, texts: Sequence[str], logprobs: Mapping[str, float] | None = None,
                 default_logprob: float = -1.0):
        if not texts:
            raise ValueError("give at least one scripted text")
        self.texts = list(texts)
        self.logprobs = dict(logprobs or {})
        self.default_logprob = float(default_logprob)
        self.position = 0
        self.sent: list[dict] = []

    def _next(self) -> str:
        text = self.texts[self.position % len(self.texts)]
        self.position += 1
        return text

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.sent.append(body)
        if not request.url.path.endswith("/completions") or request.url.path.endswith("/chat/completions"):
            return httpx.Response(404, json={"error": {"message": "only /v1/completions is scripted",
                                                       "type": "invalid_request_error"}})
        prompts = body.get("prompt", "")
        prompts = prompts if isinstance(prompts, list) else [prompts]
        n = int(body.get("n") or 1)
        if body.get("echo") and body.get("logprobs") is not None:
            max_tokens = body.get("max_tokens")
            choices = []
            for i in range(len(prompts) * n):
                text = prompts[i // n] + (self._next() if max_tokens is None or max_tokens > 0 else "")
                choices.append({"index": i, "text": text, "finish_reason": "length", "logprobs": self._token_logprobs(text)})
        else:
            choices = [{"index": i, "text": self._next(), "finish_reason": "stop", "logprobs": None}
                       for i in range(len(prompts) * n)]
        return httpx.Response(200, json={"id": "cmpl-scripted", "object": "text_completion", "created": 0,
                                         "model": body.get("model", ""), "choices": choices,
                                         "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}})

    def _token_logprobs(self, text: str) -> dict:
        """OpenAI's completions ``logprobs`` object for ``text``, one word (with its leading whitespace) a token."""
        tokens = [(m.start(), m.group()) for m in re.finditer(r"\s*\S+|\s+", text)]
        values = [None if i == 0 else self.logprobs.get(t, self.default_logprob) for i, (_, t) in enumerate(tokens)]
        return {"tokens": [t for _, t in tokens], "token_logprobs": values, "top_logprobs": None,
                "text_offset": [offset for offset, _ in tokens]}

    def client(self) -> openai.OpenAI:
        """A fresh ``openai.OpenAI`` client talking to this endpoint (no retries)."""
        http = httpx.Client(transport=httpx.MockTransport(self._handle))
        return openai.OpenAI(base_url="http://scripted/v1", api_key="scripted", http_client=http, max_retries=0)

    def requests(self) -> list[dict]:
        """Every request body received so far (JSON as sent), in order."""
        return list(self.sent)


def table_encoder(table: dict[str, torch.Tensor]):
    """A text encoder that looks each text up in ``table`` (text -> (D,) tensor): ``encode(texts) -> (K, D)``.

    Embeddings of chosen norms and directions make a test's expected similarities exact.
    """
    return lambda texts: torch.stack([table[t] for t in texts])


def call_and_arguments(fn, args: list, kwargs: dict | None = None, watch: Sequence[int] = ()):
    """``fn(*args, **kwargs)`` and the positional arguments ``watch`` as they are *after* the call.

    Like :func:`vlcourse.grading.suite.probes.call_and_inputs`, for calls whose other arguments (a client, a
    text encoder) are not plain data: only the watched ones come back. The value comes back as it is
    when it is plain data (strings, numbers, lists, dicts and tensors, nested), else as ``"<type>"``.
    """
    value = fn(*args, **dict(kwargs or {}))
    return _plain(value), [args[i] for i in watch]


def _plain(value):
    """``value`` converted as the runner converts results (:func:`vlcourse.grading.sandbox.child.to_plain`), else ``"<type>"``."""
    plain = to_plain(value)
    return f"<{type(value).__name__}>" if plain is NOT_PLAIN else plain
