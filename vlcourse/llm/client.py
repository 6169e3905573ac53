"""Official ``openai`` clients for a configuration: an HTTP endpoint, or a Unix socket via httpx.

The ``openai`` client speaks HTTP through ``httpx``; for a Unix socket we hand it an
``httpx.Client`` whose transport connects to the socket (``httpx.HTTPTransport(uds=...)``), and the
URL's host is then only a name. A socket speaks plain HTTP, so its transport skips loading the
certificate store (``verify=False``): that took 20 ms for every client made, and a graded
notebook makes one per call. Retries (with exponential back-off on timeouts, 429 and 5xx) and
timeouts are the client's own.
"""

from __future__ import annotations

import httpx
import openai

from vlcourse.llm.config import LLMConfig

SOCKET_BASE_URL = "http://vlcourse-llm/v1"  # any host will do: the transport ignores it


def resolve(config: LLMConfig) -> LLMConfig:
    """``config`` with the endpoint settled: a local one is started on demand when none is given."""
    if config.base_url or config.socket:
        return config
    from dataclasses import replace

    from vlcourse.llm.local import shared_endpoint

    return replace(config, socket=shared_endpoint().socket)


def _common(config: LLMConfig) -> dict:
    if config.base_url and not config.api_key and "api.openai.com" in config.base_url:
        raise ValueError("OPENAI_BASE_URL points at OpenAI but OPENAI_API_KEY is not set")
    return dict(base_url=config.base_url or SOCKET_BASE_URL, api_key=config.api_key or "local",
                timeout=config.timeout, max_retries=config.max_retries)


def make_client(config: LLMConfig | None = None) -> openai.OpenAI:
    """A synchronous client for ``config`` (default: from the environment)."""
    config = resolve(config or LLMConfig.from_env())
    http = None
    if config.socket:
        http = httpx.Client(transport=httpx.HTTPTransport(uds=config.socket, verify=False), timeout=config.timeout)
    return openai.OpenAI(**_common(config), http_client=http)


def make_async_client(config: LLMConfig | None = None) -> openai.AsyncOpenAI:
    """An ``asyncio`` client for ``config`` (default: from the environment)."""
    config = resolve(config or LLMConfig.from_env())
    http = None
    if config.socket:
        http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=config.socket, verify=False),
                                 timeout=config.timeout)
    return openai.AsyncOpenAI(**_common(config), http_client=http)
