"""vlcourse.llm: the real ``openai`` client over real HTTP to the local endpoint (sync, async, streaming)."""

import asyncio

import openai
import pytest
import torch

from vlcourse.llm import LLM, LLMConfig, LocalEndpoint, make_async_client, make_client
from vlcourse.llm.cache import request_key
from vlcourse.serve.config import ServeConfig
from vlcourse.serve.run import BackgroundServer

MODEL = "gpt-shakespeare-tiny"


@pytest.fixture(scope="module")
def server():
    with BackgroundServer(ServeConfig(models=(MODEL,), port=0)) as running:
        yield running


@pytest.fixture
def llm(server, tmp_path):
    model = LLM(LLMConfig(base_url=server.url, api_key="local", model=MODEL, cache_dir=tmp_path / "cache", max_retries=0))
    yield model
    model.close()


def test_config_comes_from_the_environment(monkeypatch, tmp_path):
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "VLCOURSE_LLM_MODEL", "OPENAI_MODEL", "VLCOURSE_LLM_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VLCOURSE_LLM_CACHE", "off")
    local = LLMConfig.from_env()
    assert local.is_local and local.base_url is None and local.cache_dir is None
    monkeypatch.setenv("OPENAI_BASE_URL", "https://example.org/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("VLCOURSE_LLM_MODEL", "some-model")
    monkeypatch.setenv("VLCOURSE_LLM_CACHE", str(tmp_path))
    remote = LLMConfig.from_env()
    assert (remote.base_url, remote.api_key, remote.model, remote.cache_dir) == ("https://example.org/v1", "sk-test", "some-model", tmp_path)
    with pytest.raises(ValueError, match="VLCOURSE_LLM_MODEL"):
        LLM(LLMConfig(base_url="https://example.org/v1", api_key="k")).model
    with pytest.raises(ValueError, match="not both"):
        LLMConfig(base_url="http://x/v1", socket="/tmp/s")


def test_completion_and_chat_with_sampling_controls(llm, server):
    engine = server.engines[MODEL]
    tok, model = engine.served.tokenizer, engine.served.model
    greedy = llm.complete_text("ROMEO:\n", max_tokens=20, temperature=0)
    from vlcourse.gpt import generate

    assert greedy == tok.decode(generate(model, torch.tensor([tok.encode("ROMEO:\n")]), 20, greedy=True)[0, 7:])
    stopped = llm.complete_text("ROMEO:\n", max_tokens=20, temperature=0, stop=["e"])
    assert greedy.startswith(stopped) and "e" not in stopped
    sampled = [llm.complete_text("KING:", max_tokens=30, temperature=0.9, seed=s, cache=False) for s in (1, 1, 2)]
    assert sampled[0] == sampled[1] != sampled[2]
    reply = llm.chat("ROMEO:\n", max_tokens=20, temperature=0, logprobs=True, top_logprobs=1)
    assert reply.choices[0].message.content == greedy and len(reply.choices[0].logprobs.content) == 20
    scored = llm.complete("To be", max_tokens=3, temperature=0, logprobs=2)
    assert len(scored.choices[0].logprobs.token_logprobs) == 3


def test_score_is_the_log_likelihood_of_each_answer(llm, server):
    engine = server.engines[MODEL]
    tok, model = engine.served.tokenizer, engine.served.model
    prompt, answers = "ROMEO:\nI will ", ["go", "xq", "love thee"]
    scores = llm.score(prompt, answers)
    for answer, score in zip(answers, scores):
        ids = tok.encode(prompt + answer)
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ids]))[0][0], -1)  # (T, V)
        direct = sum(float(logp[t - 1, ids[t]]) for t in range(len(prompt), len(ids)))
        assert score == pytest.approx(direct, abs=1e-3)
    assert llm.choose(prompt, answers) == answers[max(range(3), key=scores.__getitem__)]
    many = [f"{c}" for c in "abcdefghijklmnopqrst"]  # 20 answers: two requests of at most 16 prompts
    assert len(llm.score(prompt, many)) == 20


def test_cache_keys_on_the_full_request_and_usage_adds_up(llm, server):
    engine = server.engines[MODEL]
    first = llm.complete("HAMLET:", max_tokens=12, temperature=0)
    sequences = engine.stats.sequences
    again = llm.complete("HAMLET:", max_tokens=12, temperature=0)
    assert again.choices[0].text == first.choices[0].text and engine.stats.sequences == sequences  # no request sent
    llm.complete("HAMLET:", max_tokens=12, temperature=0.5, seed=3)  # any change asks again
    assert engine.stats.sequences == sequences + 1
    assert llm.usage.requests == 3 and llm.usage.cached == 1
    assert llm.usage.prompt_tokens == 2 * len("HAMLET:") and llm.usage.completion_tokens == 24
    assert llm.usage.cost == 0.0 and "3 requests (1 from the cache)" in llm.usage.summary()
    assert request_key("a", "chat", {"x": 1, "y": 2}) == request_key("a", "chat", {"y": 2, "x": 1})
    assert request_key("a", "chat", {"x": 1}) != request_key("b", "chat", {"x": 1})


def test_batch_sends_concurrently_and_keeps_order(llm, server):
    prompts = [f"{name}:\n" for name in ("ROMEO", "JULIET", "KING", "QUEEN", "LEAR", "BRUTUS")] * 3
    prompts = [p + "abcdefghij"[i % 10] for i, p in enumerate(prompts)]
    sequential = [llm.complete_text(p, max_tokens=15, temperature=0, cache=False) for p in prompts]
    replies = llm.batch_complete(prompts, max_tokens=15, temperature=0, concurrency=6, progress=False)
    assert [r.choices[0].text for r in replies] == sequential
    chats = llm.batch_chat(prompts[:4], max_tokens=15, temperature=0, concurrency=4, progress=False)
    assert [c.choices[0].message.content for c in chats] == sequential[:4]
    cached = llm.usage.cached
    llm.batch_complete(prompts, max_tokens=15, temperature=0, concurrency=6, progress=False)
    assert llm.usage.cached == cached + len(prompts)


def test_async_client_and_streaming(server):
    config = LLMConfig(base_url=server.url, api_key="local", model=MODEL)

    async def talk():
        async with make_async_client(config) as client:
            stream = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "ROMEO:"}], max_tokens=10, temperature=0, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    streamed = asyncio.run(talk())
    with make_client(config) as client:
        whole = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "ROMEO:"}],
                                               max_tokens=10, temperature=0).choices[0].message.content
    assert streamed == whole and len(whole) == 10


def test_bad_requests_raise_the_clients_errors(llm):
    with pytest.raises(openai.NotFoundError):
        llm.complete("hi", model="no-such-model")
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        llm.complete("x" * 500)
    assert llm.complete_text("hi", max_tokens=2)  # still serving


def test_starts_the_local_endpoint_on_demand_on_a_unix_socket(monkeypatch):
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "VLCOURSE_LLM_MODEL", "OPENAI_MODEL", "VLCOURSE_LLM_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    with LocalEndpoint(models=(MODEL,), threads=1) as endpoint:
        llm = LLM(LLMConfig(socket=endpoint.socket, cache_dir=None))
        assert llm.model == MODEL and llm.config.is_local
        assert len(llm.complete_text("ROMEO:", max_tokens=8, temperature=0)) == 8
        assert len(llm.batch_complete(["A:", "B:"], max_tokens=4, progress=False)) == 2
        llm.close()
    assert endpoint.proc.poll() is not None


def test_endpoint_started_in_a_short_lived_thread_outlives_it():
    """The parent-death signal follows the forking thread: an endpoint first needed in a worker thread
    (a batch call, a Jupyter callback) must keep serving after that thread has ended."""
    import threading

    started = []
    worker = threading.Thread(target=lambda: started.append(LocalEndpoint(models=(MODEL,), threads=1).wait()))
    worker.start()
    worker.join()
    endpoint = started[0]
    try:
        llm = LLM(LLMConfig(socket=endpoint.socket, cache_dir=None))
        assert endpoint.proc.poll() is None, "the endpoint died with the thread that started it"
        assert len(llm.complete_text("ROMEO:", max_tokens=4, temperature=0)) == 4
        llm.close()
    finally:
        endpoint.close()
