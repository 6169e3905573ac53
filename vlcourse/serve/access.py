"""Who may use a shared endpoint, and how fast: API keys and a per-key request rate.

A class sharing one ``vlcourse serve`` gets one key per student or TA (``--api-key`` / ``--api-keys
FILE``, as vLLM's server takes ``--api-key``). Every ``/v1/`` request must carry one as
``Authorization: Bearer KEY`` (what the ``openai`` client sends from ``OPENAI_API_KEY``); a missing or
unknown key gets 401 in OpenAI's error shape. Each key has a token bucket (``rate`` requests per
second, ``burst`` at once): a request beyond it gets 429 with ``Retry-After``, so one student looping
on the endpoint cannot starve the others. ``/health`` stays open.

The check is a plain ASGI middleware (a few dictionary lookups per request); without keys it is not
installed at all, so the local single-user endpoint pays nothing.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

PROTECTED_PREFIX = "/v1/"


def read_key_file(path: str | Path) -> dict[str, str]:
    """Keys from a file, one per line: ``KEY`` or ``KEY  who`` (a name for logs); ``#`` starts a comment.

    Raises ValueError naming the line of a malformed or repeated key, or a file with none.
    """
    keys: dict[str, str] = {}
    for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key, _, who = line.partition(" ")
        if len(key) < 8:
            raise ValueError(f"{path}:{number}: a key must have at least 8 characters")
        if key in keys:
            raise ValueError(f"{path}:{number}: the key of {keys[key] or 'an earlier line'} is repeated")
        keys[key] = who.strip()
    if not keys:
        raise ValueError(f"{path} holds no key (one per line: KEY [name])")
    return keys


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class TokenBucket:
    """``rate`` tokens a second up to ``burst``; a request takes one (Turner's token bucket)."""

    rate: float
    burst: int
    tokens: float = field(init=False)
    stamp: float = field(init=False)

    def __post_init__(self):
        self.tokens, self.stamp = float(self.burst), time.monotonic()

    def take(self, now: float | None = None) -> float:
        """0 if a request may go now (and takes its token), else the seconds until one may."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def error_body(message: str, kind: str, code: str | None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode()


class KeyAccess:
    """ASGI middleware: ``/v1/`` requests need a known bearer key and stay under its rate."""

    def __init__(self, app, keys: dict[str, str], rate: float | None, burst: int):
        self.app, self.keys = app, keys
        self.buckets = {key: TokenBucket(rate, burst) for key in keys} if rate else {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            return await self.app(scope, receive, send)
        key = bearer_key(scope)
        if key is None:
            return await respond(send, 401, error_body(
                "You didn't provide an API key: send it as 'Authorization: Bearer KEY' (the openai client sends "
                "OPENAI_API_KEY)", "invalid_request_error", None))
        if key not in self.keys:
            return await respond(send, 401, error_body(
                f"Incorrect API key provided: {key[:3]}...{key[-2:]}", "invalid_request_error", "invalid_api_key"))
        bucket = self.buckets.get(key)
        wait = bucket.take() if bucket is not None else 0.0
        if wait:
            return await respond(send, 429, error_body(
                f"Rate limit reached: at most {bucket.rate:g} requests per second per key; retry after {wait:.2f} s",
                "requests", "rate_limit_exceeded"), [(b"retry-after", str(max(1, math.ceil(wait))).encode()),
                                                     (b"retry-after-ms", str(math.ceil(wait * 1000)).encode())])
        return await self.app(scope, receive, send)


def bearer_key(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


async def respond(send, status: int, body: bytes, headers: list | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
