"""The :class:`LLM` front end: chat and text completions, scoring by log-likelihood, batches.

Everything goes through the official ``openai`` client (:mod:`vlcourse.llm.client`), so the same
calls work against the local endpoint, OpenAI or a vLLM server. Scoring a fixed set of answers by
their log-likelihood given a prompt is how Brown et al. (2020, "Language Models are Few-Shot
Learners") evaluate multiple-choice tasks in context; it needs ``echo`` with ``logprobs`` from a
completions endpoint (the local one, vLLM and llama.cpp give them).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Sequence
from dataclasses import replace

import openai
from openai.types import Completion
from openai.types.chat import ChatCompletion
from tqdm.auto import tqdm

from vlcourse.llm.cache import ResponseCache, request_key
from vlcourse.llm.client import make_async_client, make_client, resolve
from vlcourse.llm.config import LOCAL_MODELS, LLMConfig
from vlcourse.llm.usage import Usage

KINDS = {"completions": Completion, "chat": ChatCompletion}
MAX_PROMPTS_PER_REQUEST = 16  # scoring sends several prompts in one completions request


def run_sync(coroutine: Awaitable):
    """Run a coroutine to completion from synchronous code, also inside Jupyter's running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    result: dict = {}

    def target():
        try:
            result["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def rebuild(kind: str, data: dict):
    """A cached response as the client's own type, built as leniently as the client builds it
    (endpoints send ``None`` where OpenAI's types say float, e.g. the first echoed token's logprob)."""
    from openai._models import construct_type  # the client's own response builder

    return construct_type(type_=KINDS[kind], value=data)


def as_messages(messages: str | Sequence[dict]) -> list[dict]:
    """A chat from a string (one user message) or a list of ``{"role", "content"}`` dicts."""
    return [{"role": "user", "content": messages}] if isinstance(messages, str) else list(messages)


class LLM:
    """A language model behind an OpenAI-compatible endpoint, with a cache and usage totals.

    Example::

        llm = LLM()                      # the environment's endpoint, else the local one
        llm.complete_text("red circle -> dax\\nblue square ->", max_tokens=3, temperature=0)
        llm.score("2+2=", ["4", "5"])    # log-likelihood of each answer
        llm.batch_complete(prompts, concurrency=8)
        print(llm.usage.summary())

    Args:
        config: where to send requests (default :meth:`LLMConfig.from_env`).
        **overrides: fields of the config to change, e.g. ``model="gpt-4o-mini"``, ``cache_dir=None``.
    """

    def __init__(self, config: LLMConfig | None = None, **overrides):
        config = config or LLMConfig.from_env()
        self.config = replace(config, **overrides) if overrides else config
        self.usage = Usage(prices=dict(self.config.prices))
        self.cache = ResponseCache(self.config.cache_dir) if self.config.cache_dir else None
        self._client: openai.OpenAI | None = None
        self._model: str | None = self.config.model

    # --- the endpoint ---------------------------------------------------------------------------------
    @property
    def client(self) -> openai.OpenAI:
        """The synchronous ``openai`` client (the local endpoint starts here if it is needed)."""
        if self._client is None:
            self.config = resolve(self.config)
            self._client = make_client(self.config)
        return self._client

    @property
    def model(self) -> str:
        """The default model: the configured one, else the first local model the endpoint serves."""
        if self._model is None:
            if not self.config.is_local:
                raise ValueError("the endpoint is remote but no model is named: set VLCOURSE_LLM_MODEL "
                                 "(e.g. gpt-4o-mini) or pass LLM(model=...)")
            served = [m.id for m in self.client.models.list().data]
            self._model = next((m for m in LOCAL_MODELS if m in served), served[0])
        return self._model

    def endpoint_id(self) -> str:
        """What identifies the endpoint in cache keys; the local one by its checkpoints' hashes."""
        if self.config.base_url:
            return self.config.base_url
        from vlcourse.checkpoints import read_manifest

        return "local:" + ",".join(sorted(e.sha256[:16] for e in read_manifest().values()))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.cache is not None:
            self.cache.close()

    # --- one request ----------------------------------------------------------------------------------
    def _params(self, params: dict) -> dict:
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("model", self.model)
        return params

    def _cached(self, kind: str, params: dict, use_cache: bool):
        if self.cache is None or not use_cache:
            return None, None
        key = request_key(self.endpoint_id(), kind, params)
        hit = self.cache.get(key)
        if hit is not None:
            response = rebuild(kind, hit)
            self.usage.add(response, cached=True)
            return key, response
        return key, None

    def _store(self, key: str | None, response) -> None:
        self.usage.add(response)
        if key is not None:
            self.cache.put(key, response.model_dump(mode="json"))

    def _create(self, kind: str, params: dict, use_cache: bool = True):
        params = self._params(params)
        key, hit = self._cached(kind, params, use_cache)
        if hit is not None:
            return hit
        api = self.client.completions if kind == "completions" else self.client.chat.completions
        response = api.create(**params)
        self._store(key, response)
        return response

    async def _acreate(self, client: openai.AsyncOpenAI, kind: str, params: dict, use_cache: bool = True):
        params = self._params(params)
        key, hit = self._cached(kind, params, use_cache)
        if hit is not None:
            return hit
        api = client.completions if kind == "completions" else client.chat.completions
        response = await api.create(**params)
        self._store(key, response)
        return response

    # --- the public calls -------------------------------------------------------------------------------
    def complete(self, prompt: str | list[str], *, model: str | None = None, max_tokens: int | None = 16,
                 temperature: float | None = None, stop: str | list[str] | None = None, seed: int | None = None,
                 logprobs: int | None = None, echo: bool | None = None, n: int | None = None,
                 cache: bool = True, **extra) -> Completion:
        """A text completion (``POST /completions``); ``extra`` goes to the endpoint unchanged."""
        params = dict(model=model, prompt=prompt, max_tokens=max_tokens, temperature=temperature, stop=stop,
                      seed=seed, logprobs=logprobs, echo=echo, n=n, **extra)
        return self._create("completions", params, cache)

    def chat(self, messages: str | Sequence[dict], *, model: str | None = None, max_tokens: int | None = None,
             temperature: float | None = None, stop: str | list[str] | None = None, seed: int | None = None,
             logprobs: bool | None = None, top_logprobs: int | None = None, n: int | None = None,
             cache: bool = True, **extra) -> ChatCompletion:
        """A chat completion (``POST /chat/completions``); a string is one user message."""
        params = dict(model=model, messages=as_messages(messages), max_tokens=max_tokens, temperature=temperature,
                      stop=stop, seed=seed, logprobs=logprobs, top_logprobs=top_logprobs, n=n, **extra)
        return self._create("chat", params, cache)

    def complete_text(self, prompt: str, **kwargs) -> str:
        """The text of the first choice of :meth:`complete`."""
        return self.complete(prompt, **kwargs).choices[0].text

    def chat_text(self, messages: str | Sequence[dict], **kwargs) -> str:
        """The content of the first choice of :meth:`chat`."""
        return self.chat(messages, **kwargs).choices[0].message.content or ""

    def score(self, prompt: str, continuations: Sequence[str], *, model: str | None = None,
              cache: bool = True) -> list[float]:
        """Log-likelihood of each continuation after ``prompt``: the sum of its tokens' log-probabilities.

        One completions request per 16 continuations, with ``echo=True, logprobs=0, max_tokens=0``:
        the endpoint returns the log-probability of every prompt token. The tokens that start at or
        after the end of ``prompt`` belong to the continuation (a token that straddles the boundary
        counts as the continuation's).
        """
        texts = [prompt + c for c in continuations]
        scores: list[float] = []
        for start in range(0, len(texts), MAX_PROMPTS_PER_REQUEST):
            chunk = texts[start:start + MAX_PROMPTS_PER_REQUEST]
            response = self.complete(chunk, model=model, max_tokens=0, echo=True, logprobs=0, cache=cache)
            for choice in sorted(response.choices, key=lambda c: c.index):
                lp = choice.logprobs
                scores.append(sum(value for token, offset, value in zip(lp.tokens, lp.text_offset, lp.token_logprobs)
                                  if offset + len(token) > len(prompt) and value is not None))
        return scores

    def choose(self, prompt: str, options: Sequence[str], **kwargs) -> str:
        """The option with the highest log-likelihood after ``prompt`` (see :meth:`score`)."""
        scores = self.score(prompt, options, **kwargs)
        return options[max(range(len(options)), key=scores.__getitem__)]

    # --- many requests at once ----------------------------------------------------------------------------
    async def _abatch(self, kind: str, requests: list[dict], concurrency: int, progress: bool, use_cache: bool):
        self.client  # noqa: B018  (settles the endpoint and the model before going concurrent)
        self.model  # noqa: B018
        gate = asyncio.Semaphore(concurrency)
        bar = tqdm(total=len(requests), desc=f"{kind} x{concurrency}", disable=not progress)

        async with make_async_client(self.config) as client:
            async def one(params: dict):
                async with gate:
                    try:
                        return await self._acreate(client, kind, params, use_cache)
                    finally:
                        bar.update(1)

            try:
                return await asyncio.gather(*(one(p) for p in requests))
            finally:
                bar.close()

    def batch_complete(self, prompts: Sequence[str], *, concurrency: int = 8, progress: bool = True,
                       cache: bool = True, **kwargs) -> list[Completion]:
        """:meth:`complete` for many prompts, ``concurrency`` requests in flight, in the prompts' order."""
        kwargs.setdefault("max_tokens", 16)
        requests = [{"prompt": p, **kwargs} for p in prompts]
        return run_sync(self._abatch("completions", requests, concurrency, progress, cache))

    def batch_chat(self, conversations: Sequence[str | Sequence[dict]], *, concurrency: int = 8,
                   progress: bool = True, cache: bool = True, **kwargs) -> list[ChatCompletion]:
        """:meth:`chat` for many conversations, ``concurrency`` requests in flight, in order."""
        requests = [{"messages": as_messages(c), **kwargs} for c in conversations]
        return run_sync(self._abatch("chat", requests, concurrency, progress, cache))
