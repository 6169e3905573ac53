"""Which endpoint :mod:`vlcourse.llm` talks to, read from the environment.

========================  ==============================================================================
``OPENAI_BASE_URL``       an OpenAI-compatible endpoint (OpenAI, a vLLM or llama.cpp server, ...)
``OPENAI_API_KEY``        its key (the local endpoint needs none)
``VLCOURSE_LLM_MODEL``    the model to ask (``OPENAI_MODEL`` also works); needed with a remote endpoint
``VLCOURSE_LLM_SOCKET``   the Unix socket of a running local endpoint (the grader sets it in its sandbox)
``VLCOURSE_LLM_CACHE``    the folder of the response cache; ``off`` turns caching off
========================  ==============================================================================

With neither ``OPENAI_BASE_URL`` nor ``VLCOURSE_LLM_SOCKET`` set, :mod:`vlcourse.llm` starts the
course's own endpoint (``vlcourse serve``) on a private Unix socket the first time it is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

LOCAL_MODELS = ("icl-tiny", "gpt-shakespeare-tiny")  # the local default: the first one that ships

# US dollars per million tokens (prompt, completion); the local models cost nothing. Extend it for
# your provider with LLMConfig(prices={...}); unknown models are counted as free, and said so.
PRICES: dict[str, tuple[float, float]] = {
    "icl-tiny": (0.0, 0.0),
    "gpt-shakespeare-tiny": (0.0, 0.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-3.5-turbo-instruct": (1.50, 2.00),
}


@dataclass
class LLMConfig:
    """Where requests go and how they are sent.

    Attributes:
        base_url: the endpoint (``https://api.openai.com/v1``); None: the local endpoint.
        api_key: sent as a bearer token ("local" for the local endpoint, which ignores it).
        model: the model asked when a call does not name one; None picks the local default.
        socket: Unix socket of a running local endpoint (reached with an httpx transport on it).
        cache_dir: folder of the disk cache of responses; None: no cache.
        timeout: seconds per request before the client gives up (the client then retries).
        max_retries: retries of the ``openai`` client on timeouts, 429s and 5xx (with back-off).
        prices: dollars per million (prompt, completion) tokens by model, for :class:`~vlcourse.llm.usage.Usage`.
    """

    base_url: str | None = None
    api_key: str | None = None
    model: str | None = None
    socket: str | None = None
    cache_dir: Path | None = None
    timeout: float = 60.0
    max_retries: int = 2
    prices: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(PRICES))

    def __post_init__(self):
        if self.base_url and self.socket:
            raise ValueError("set either base_url (an HTTP endpoint) or socket (a local Unix socket), not both")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout}")
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")

    @property
    def is_local(self) -> bool:
        """True when the course's own endpoint answers (on a given socket or started on demand)."""
        return self.base_url is None

    @classmethod
    def from_env(cls, **overrides) -> LLMConfig:
        """The configuration the environment variables above describe, with ``overrides`` applied."""
        env = os.environ
        cache = env.get("VLCOURSE_LLM_CACHE")
        if cache is None:
            from vlcourse.paths import cache_dir

            cache_path = cache_dir() / "llm"
        else:
            cache_path = None if cache.lower() in ("off", "0", "") else Path(cache)
        values = dict(
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("VLCOURSE_LLM_MODEL") or env.get("OPENAI_MODEL") or None,
            socket=None if env.get("OPENAI_BASE_URL") else env.get("VLCOURSE_LLM_SOCKET") or None,
            cache_dir=cache_path,
        )
        values.update(overrides)
        return cls(**values)
