"""Settings of the local OpenAI-compatible endpoint (its own file: the CLI and the client read it)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MODELS = ("gpt-shakespeare-tiny", "icl-tiny", "caption-gpt-shapes-tiny")


@dataclass
class ServeConfig:
    """Where and how ``vlcourse serve`` listens, and what it serves.

    Attributes:
        models: names of served models (see :data:`vlcourse.serve.models.SERVABLE`); the first is
            the default for requests that name a model the server only knows by alias.
        host, port: TCP address (ignored when ``uds`` is set). Port 0 picks a free port.
        uds: path of a Unix socket to listen on instead of TCP (the grader binds it into its sandbox).
        max_batch: most sequences decoded together in one forward pass (continuous batching).
        max_n: most choices one request may ask for (``n`` times the number of prompts).
        max_tokens_limit: most new tokens one choice may ask for.
        default_max_tokens: new tokens when a request does not say (OpenAI's completions default is 16).
        threads: torch CPU threads of the serving process (None keeps torch's choice).
        log_level: uvicorn's log level.
        api_keys: key -> who (a name, may be empty); when given, every ``/v1/`` request needs one of them
            as a bearer token (see :mod:`vlcourse.serve.access`). Required unless the endpoint only
            listens on loopback or a Unix socket.
        rate_limit: requests per second each key may send (``None``: no limit); beyond it, 429.
        burst: requests a key may send at once before the rate applies.
        replay_entries: how many answers to reproducible requests (temperature 0, or seeded) to keep and
            replay when the same request comes again (:mod:`vlcourse.serve.replay`); 0 (default): none.
    """

    models: tuple[str, ...] = DEFAULT_MODELS
    host: str = "127.0.0.1"
    port: int = 8000
    uds: str | None = None
    max_batch: int = 64
    max_n: int = 16
    max_tokens_limit: int = 1024
    default_max_tokens: int = 16
    threads: int | None = None
    log_level: str = "warning"
    api_keys: dict[str, str] = field(default_factory=dict)
    rate_limit: float | None = None
    burst: int = 20
    replay_entries: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.models:
            raise ValueError("models is empty: serve at least one, e.g. models=('gpt-shakespeare-tiny',)")
        for name in ("max_batch", "max_n", "max_tokens_limit", "default_max_tokens"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0 <= self.port < 65536:
            raise ValueError(f"port must be in [0, 65535], got {self.port}")
        if self.rate_limit is not None and not self.rate_limit > 0:
            raise ValueError(f"rate_limit must be a positive number of requests per second, got {self.rate_limit!r}")
        if not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"burst must be a positive integer, got {self.burst!r}")
        if self.rate_limit is not None and not self.api_keys:
            raise ValueError("rate_limit is per key: give the keys too (--api-key KEY or --api-keys FILE)")
        from vlcourse.serve.access import is_loopback

        if not isinstance(self.replay_entries, int) or self.replay_entries < 0:
            raise ValueError(f"replay_entries must be a non-negative integer, got {self.replay_entries!r}")
        if not self.uds and not is_loopback(self.host) and not self.api_keys:
            raise ValueError(f"refusing to serve on {self.host}, which other machines can reach, without API keys: "
                             "give --api-key KEY or --api-keys FILE (one key per student or TA)")
