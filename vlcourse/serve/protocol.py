"""The request bodies the endpoint accepts and the error bodies it returns, in OpenAI's shapes.

Requests are validated strictly (``"temperature": "hot"`` or ``"max_tokens": 2.5`` are errors, not
coerced); fields we do not use (``user``, ``presence_penalty``, ...) are accepted and ignored, as a
client written for OpenAI sends them. Every error is an :class:`APIError` rendered as::

    {"error": {"message": "...", "type": "invalid_request_error", "param": "prompt", "code": null}}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class APIError(Exception):
    """An error with OpenAI's body shape and an HTTP status."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class _Request(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    model: str
    max_tokens: int | None = Field(default=None, ge=0)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1)
    stream: bool = False
    stop: str | list[str] | None = None
    seed: int | None = None
    stream_options: dict | None = None

    def stop_strings(self) -> tuple[str, ...]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        if len(stops) > 4:
            raise APIError(400, f"at most 4 stop sequences are allowed, got {len(stops)}", "stop")
        if any(s == "" for s in stops):
            raise APIError(400, "stop sequences must not be empty strings", "stop")
        return tuple(stops)

    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.get("include_usage"))


class CompletionRequest(_Request):
    """``POST /v1/completions``: text in, text out; ``echo`` and ``logprobs`` for scoring."""

    prompt: str | list[str] | list[int] | list[list[int]]
    echo: bool = False
    logprobs: int | None = Field(default=None, ge=0, le=5)


class ChatMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str


class ChatRequest(_Request):
    """``POST /v1/chat/completions``. ``max_completion_tokens`` is the newer name of ``max_tokens``."""

    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=0)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)


def validation_message(errors: list[dict]) -> tuple[str, str | None]:
    """A one-line message and the offending parameter from pydantic's validation errors."""
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    param = loc[0] if loc else None
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None
    if first.get("type") == "missing":
        return f"missing required parameter: {'.'.join(loc)!r}", param
    where = ".".join(loc) or "body"
    got = first.get("input")
    return f"invalid value for {where!r}: {first.get('msg', 'invalid')} (got {got!r})"[:500], param
