"""The HTTP layer: a FastAPI app with OpenAI's routes over one :class:`Engine` per model.

Routes: ``GET /v1/models``, ``POST /v1/completions`` (``echo`` and ``logprobs``: the scoring
tools of in-context learning), ``POST /v1/chat/completions``, both streaming as server-sent events
(``data: {...}`` lines ending with ``data: [DONE]``) when ``stream`` is set.

Chat on these small models has no chat training behind it: the messages' contents are joined with
newlines (:func:`chat_prompt`) and the model continues that text.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vlcourse.serve.access import KeyAccess
from vlcourse.serve.config import ServeConfig
from vlcourse.serve.engine import Engine, Failed, Finished, SamplingParams, Sequence, TokenEvent
from vlcourse.serve.models import ServedModel
from vlcourse.serve.protocol import APIError, ChatRequest, CompletionRequest, validation_message
from vlcourse.serve.replay import ReplayCache


def chat_prompt(messages) -> str:
    """The text a chat becomes for a model without a chat template: the contents, one per line."""
    return "\n".join(m.content for m in messages)


def find_engine(engines: dict[str, Engine], name: str) -> Engine:
    if name not in engines:
        raise APIError(404, f"The model {name!r} does not exist; this server has: {', '.join(engines)}",
                       "model", "model_not_found")
    return engines[name]


def encode_prompt(served: ServedModel, prompt: str | list[int], param: str = "prompt") -> list[int]:
    """Token ids of a prompt, checked: not empty, only known characters, ids in range, fits the context."""
    if isinstance(prompt, str):
        if not prompt:
            raise APIError(400, "the prompt is empty: send at least one character", param)
        try:
            ids = served.tokenizer.encode(prompt)
        except (KeyError, ValueError) as exc:
            raise APIError(400, f"the prompt cannot be encoded by {served.name}: {exc.args[0]}", param) from None
        if not ids:
            raise APIError(400, f"the prompt has no tokens for {served.name} (only spaces?)", param)
    else:
        ids = list(prompt)
        if not ids:
            raise APIError(400, "the prompt is empty: send at least one token", param)
        vocab = served.tokenizer.vocab_size
        if any(not 0 <= i < vocab for i in ids):
            raise APIError(400, f"token ids must be in [0, {vocab}) for {served.name}", param)
    if len(ids) > served.context_length:
        raise APIError(400, f"This model's maximum context length is {served.context_length} tokens, "
                            f"but the prompt has {len(ids)} tokens; shorten it", param, "context_length_exceeded")
    return ids


def prompts_of(request: CompletionRequest) -> list[str | list[int]]:
    p = request.prompt
    if isinstance(p, str) or (p and isinstance(p[0], int)):
        return [p]
    if not p:
        raise APIError(400, "the prompt list is empty", "prompt")
    return list(p)


def sampling(request, max_tokens: int | None, config: ServeConfig, logprobs: int | None) -> SamplingParams:
    wanted = config.default_max_tokens if max_tokens is None else max_tokens
    if wanted > config.max_tokens_limit:
        raise APIError(400, f"max_tokens is {wanted}, this server allows at most {config.max_tokens_limit}", "max_tokens")
    return SamplingParams(max_tokens=wanted, temperature=request.temperature, top_p=request.top_p,
                          stop=request.stop_strings(), seed=request.seed, logprobs=logprobs)


def check_n(choices: int, config: ServeConfig) -> None:
    if choices > config.max_n:
        raise APIError(400, f"n times the number of prompts is {choices}; this server allows at most {config.max_n} "
                            "choices per request (send several requests)", "n")


class Choice:
    """One choice being decoded, seen from the event loop: a queue of engine events.

    A streamed choice gets each token as it comes; otherwise the engine thread keeps the tokens and
    hands them over once, at the end: every hand-over wakes the event loop and passes the GIL
    between threads, which would cost more than decoding a token of these small models.
    """

    def __init__(self, engine: Engine, ids: list[int], params: SamplingParams, loop: asyncio.AbstractEventLoop,
                 stream: bool = False):
        self.queue: asyncio.Queue = asyncio.Queue()
        if stream:
            sink = lambda event: loop.call_soon_threadsafe(self.queue.put_nowait, event)  # noqa: E731
        else:
            kept: list = []

            def sink(event) -> None:  # runs in the engine thread
                kept.append(event)
                if isinstance(event, (Finished, Failed)):
                    loop.call_soon_threadsafe(self._deliver, list(kept))

        self.prompt_tokens = len(ids)
        self.seq = engine.submit(Sequence(ids, params, sink)) if params.max_tokens > 0 else None
        if self.seq is None:
            self.queue.put_nowait(Finished("length", 0))

    def _deliver(self, events: list) -> None:
        for event in events:
            self.queue.put_nowait(event)

    async def events(self) -> AsyncIterator[TokenEvent | Finished]:
        while True:
            event = await self.queue.get()
            if isinstance(event, Failed):
                raise APIError(500, f"the model failed: {event.message}", type="server_error")
            yield event
            if isinstance(event, Finished):
                return

    def cancel(self) -> None:
        if self.seq is not None:
            self.seq.cancel()


async def prompt_logprobs(engine: Engine, ids: list[int], top: int) -> list[TokenEvent | None]:
    """Log-probabilities of a prompt's own tokens (``echo``): None for the first, which has no context."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future = loop.create_future()
    engine.score([ids], lambda result: loop.call_soon_threadsafe(done.set_result, result))
    result = await done
    if isinstance(result, Failed):
        raise APIError(500, f"the model failed: {result.message}", type="server_error")
    logp = result[0]  # (T, V)
    served = engine.served
    events: list[TokenEvent | None] = [None]
    for t in range(1, len(ids)):
        alternatives = {}
        if top:
            best = logp[t - 1].topk(min(top, logp.size(-1)))
            alternatives = {served.token_text(i, ids[t - 1]): float(v) for v, i in zip(best.values, best.indices)}
        text = served.token_text(ids[t], ids[t - 1])
        events.append(TokenEvent(text, text, float(logp[t - 1, ids[t]]), alternatives))
    return events


def legacy_logprobs(events: list[TokenEvent | None], first_text: str, offset: int = 0) -> dict:
    """OpenAI's completions ``logprobs`` object from token events (None: a first prompt token)."""
    tokens, values, tops, offsets = [], [], [], []
    position = offset
    for event in events:
        text = first_text if event is None else event.text
        tokens.append(text)
        values.append(None if event is None else event.logprob)
        tops.append(None if event is None else event.top)
        offsets.append(position)
        position += len(text)
    return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


def chat_logprobs(events: list[TokenEvent]) -> dict:
    return {"content": [{"token": e.text, "logprob": e.logprob, "bytes": list(e.text.encode()),
                         "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode())} for t, v in e.top.items()]}
                        for e in events]}


def usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def sse(payload: dict | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def create_app(engines: dict[str, Engine], config: ServeConfig) -> FastAPI:
    """The FastAPI app serving ``engines`` (model id -> engine)."""
    app = FastAPI(title="vlcourse local OpenAI-compatible endpoint")
    if config.api_keys:  # a shared endpoint: keys and a rate per key (vlcourse.serve.access)
        app.add_middleware(KeyAccess, keys=dict(config.api_keys), rate=config.rate_limit, burst=config.burst)
    created = int(time.time())
    replay = app.state.replay = ReplayCache(config.replay_entries)  # reproducible requests' answers, if kept

    @app.exception_handler(APIError)
    async def api_error(_, exc: APIError):
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_, exc: RequestValidationError):
        message, param = validation_message(exc.errors())
        return JSONResponse(APIError(400, message, param).body(), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_, exc: StarletteHTTPException):
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(APIError(exc.status_code, str(exc.detail), type=kind).body(), status_code=exc.status_code)

    @app.get("/v1/models")
    async def list_models():
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": created, "owned_by": "vlcourse",
             "context_length": engine.served.context_length} for name, engine in engines.items()]}

    @app.get("/v1/models/{name}")
    async def get_model(name: str):
        engine = find_engine(engines, name)
        return {"id": name, "object": "model", "created": created, "owned_by": "vlcourse",
                "context_length": engine.served.context_length}

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.post("/v1/completions")
    async def completions(request: CompletionRequest, http: Request):
        engine = find_engine(engines, request.model)
        key = replay.key("completions", request)
        if (kept := replay.get(key, "cmpl")) is not None:
            return JSONResponse(kept)
        prompts = [encode_prompt(engine.served, p) for p in prompts_of(request)]
        check_n(len(prompts) * request.n, config)
        params = sampling(request, request.max_tokens, config, request.logprobs)
        if request.stream and request.echo and request.logprobs is not None:
            raise APIError(400, "echo with logprobs is not available when streaming; set stream=false", "echo")
        loop = asyncio.get_running_loop()
        plan = [(p, j) for p in range(len(prompts)) for j in range(request.n)]
        choices = [Choice(engine, prompts[p], _seeded(params, j), loop, request.stream) for p, j in plan]
        meta = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time()),
                "model": request.model}
        if request.stream:
            return StreamingResponse(_stream_completions(choices, plan, prompts, engine, request, meta),
                                     media_type="text/event-stream")
        return JSONResponse(replay.put(key, await _complete(choices, plan, prompts, engine, request, meta)))  # plain data

    @app.post("/v1/chat/completions")
    async def chat(request: ChatRequest, http: Request):
        engine = find_engine(engines, request.model)
        key = replay.key("chat", request)
        if (kept := replay.get(key, "chatcmpl")) is not None:
            return JSONResponse(kept)
        ids = encode_prompt(engine.served, chat_prompt(request.messages), "messages")
        check_n(request.n, config)
        max_tokens = request.max_completion_tokens if request.max_completion_tokens is not None else request.max_tokens
        top = (request.top_logprobs or 0) if request.logprobs else None
        params = sampling(request, max_tokens, config, top)
        loop = asyncio.get_running_loop()
        choices = [Choice(engine, ids, _seeded(params, j), loop, request.stream) for j in range(request.n)]
        meta = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": request.model}
        if request.stream:
            return StreamingResponse(_stream_chat(choices, request, meta, len(ids)), media_type="text/event-stream")
        return JSONResponse(replay.put(key, await _chat(choices, request, meta, len(ids))))

    return app


def _seeded(params: SamplingParams, j: int) -> SamplingParams:
    """The j-th choice's parameters: with a seed, choice j uses seed + j (distinct, reproducible)."""
    if params.seed is None or j == 0:
        return params
    return SamplingParams(**{**vars(params), "seed": params.seed + j})


async def _collect(choice: Choice) -> tuple[list[TokenEvent], Finished]:
    events = []
    try:
        async for event in choice.events():
            if isinstance(event, Finished):
                return events, event
            events.append(event)
    finally:
        choice.cancel()
    raise AssertionError("unreachable")


async def _complete(choices, plan, prompts, engine, request: CompletionRequest, meta) -> dict:
    try:
        results = await asyncio.gather(*(_collect(c) for c in choices))
    finally:
        for c in choices:
            c.cancel()
    echoed = {}
    if request.echo:
        for p in {p for p, _ in plan}:
            echoed[p] = await prompt_logprobs(engine, prompts[p], request.logprobs or 0)
    out, completion_tokens = [], 0
    for index, ((p, _), (events, finished)) in enumerate(zip(plan, results)):
        text = "".join(e.text for e in events)
        prompt_text = engine.served.tokenizer.decode(prompts[p])
        logprobs = None
        if request.logprobs is not None:
            head = echoed[p] if request.echo else []
            logprobs = legacy_logprobs(head + events, engine.served.token_text(prompts[p][0]))
        out.append({"index": index, "text": prompt_text + text if request.echo else text,
                    "logprobs": logprobs, "finish_reason": finished.reason})
        completion_tokens += finished.completion_tokens
    prompt_tokens = sum(len(prompts[p]) for p in {p for p, _ in plan}) if plan else 0
    return {**meta, "choices": out, "usage": usage(prompt_tokens, completion_tokens)}


async def _merged(choices: list[Choice]) -> AsyncIterator[tuple[int, TokenEvent | Finished]]:
    """Events of several choices as they come, tagged with the choice index."""
    queue: asyncio.Queue = asyncio.Queue()

    async def pump(i: int, choice: Choice):
        try:
            async for event in choice.events():
                await queue.put((i, event))
        except APIError as exc:
            await queue.put((i, exc))

    tasks = [asyncio.create_task(pump(i, c)) for i, c in enumerate(choices)]
    try:
        finished = 0
        while finished < len(choices):
            i, event = await queue.get()
            if isinstance(event, APIError):
                raise event
            finished += isinstance(event, Finished)
            yield i, event
    finally:
        for task in tasks:
            task.cancel()
        for c in choices:
            c.cancel()


async def _stream_completions(choices, plan, prompts, engine, request: CompletionRequest, meta):
    completion_tokens = 0
    try:
        if request.echo:
            for index, (p, _) in enumerate(plan):
                text = engine.served.tokenizer.decode(prompts[p])
                yield sse({**meta, "choices": [{"index": index, "text": text, "logprobs": None, "finish_reason": None}]})
        async for index, event in _merged(choices):
            if isinstance(event, Finished):
                completion_tokens += event.completion_tokens
                choice = {"index": index, "text": "", "logprobs": None, "finish_reason": event.reason}
            else:
                logprobs = legacy_logprobs([event], "") if request.logprobs is not None else None
                choice = {"index": index, "text": event.text, "logprobs": logprobs, "finish_reason": None}
            yield sse({**meta, "choices": [choice]})
        if request.include_usage():
            prompt_tokens = sum(len(prompts[p]) for p in {p for p, _ in plan})
            yield sse({**meta, "choices": [], "usage": usage(prompt_tokens, completion_tokens)})
        yield sse("[DONE]")
    except APIError as exc:
        yield sse(exc.body())
    finally:
        for c in choices:
            c.cancel()


async def _chat(choices, request: ChatRequest, meta, prompt_tokens: int) -> dict:
    try:
        results = await asyncio.gather(*(_collect(c) for c in choices))
    finally:
        for c in choices:
            c.cancel()
    out, completion_tokens = [], 0
    for index, (events, finished) in enumerate(results):
        out.append({"index": index, "message": {"role": "assistant", "content": "".join(e.text for e in events)},
                    "logprobs": chat_logprobs(events) if request.logprobs else None,
                    "finish_reason": finished.reason})
        completion_tokens += finished.completion_tokens
    return {**meta, "choices": out, "usage": usage(prompt_tokens, completion_tokens)}


async def _stream_chat(choices, request: ChatRequest, meta, prompt_tokens: int):
    meta = {**meta, "object": "chat.completion.chunk"}
    completion_tokens = 0
    try:
        for index in range(len(choices)):
            yield sse({**meta, "choices": [{"index": index, "delta": {"role": "assistant", "content": ""},
                                            "logprobs": None, "finish_reason": None}]})
        async for index, event in _merged(choices):
            if isinstance(event, Finished):
                completion_tokens += event.completion_tokens
                choice = {"index": index, "delta": {}, "logprobs": None, "finish_reason": event.reason}
            else:
                choice = {"index": index, "delta": {"content": event.text},
                          "logprobs": chat_logprobs([event]) if request.logprobs else None, "finish_reason": None}
            yield sse({**meta, "choices": [choice]})
        if request.include_usage():
            yield sse({**meta, "choices": [], "usage": usage(prompt_tokens, completion_tokens)})
        yield sse("[DONE]")
    except APIError as exc:
        yield sse(exc.body())
    finally:
        for c in choices:
            c.cancel()
