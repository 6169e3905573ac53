"""Replaying the answers of reproducible requests (vlcourse.serve.replay), as the grader's endpoint does.

Two servers on the same engines, one keeping answers and one not, asked with the real ``openai`` client
over HTTP: a replayed answer must be exactly what the model computes, and only requests that have one
answer (temperature 0, or seeded) may be replayed.
"""

import openai
import pytest
from pydantic import BaseModel

from vlcourse.serve.config import ServeConfig
from vlcourse.serve.replay import ReplayCache, is_reproducible
from vlcourse.serve.run import BackgroundServer, build_engines

MODEL = "icl-tiny"


@pytest.fixture(scope="module")
def engines():
    return build_engines(ServeConfig(models=(MODEL,)))


@pytest.fixture(scope="module")
def replaying(engines):
    with BackgroundServer(ServeConfig(models=(MODEL,), port=0, replay_entries=100), engines) as running:
        yield running


@pytest.fixture(scope="module")
def computing(engines):
    with BackgroundServer(ServeConfig(models=(MODEL,), port=0), engines) as running:
        yield running


def client(server):
    return openai.OpenAI(base_url=server.url, api_key="local", max_retries=0, timeout=60)


def counts(server):
    replay = server.app.state.replay
    return replay.hits, len(replay.entries)


def choices(response):
    return [c.model_dump(exclude={"index"}) for c in response.choices]


PROMPT = "red circle -> dax\nblue star -> wug\nred star ->"


def test_greedy_answer_replayed_is_the_models_own(replaying, computing):
    ask = dict(model=MODEL, prompt=PROMPT, max_tokens=5, temperature=0, stop=["\n"], logprobs=2, echo=True)
    hits, kept = counts(replaying)
    first = client(replaying).completions.create(**ask)
    again = client(replaying).completions.create(**ask)
    fresh = client(computing).completions.create(**ask)
    assert counts(replaying) == (hits + 1, kept + 1), "the second identical greedy request is answered from the kept one"
    assert choices(first) == choices(again) == choices(fresh)
    assert again.id != first.id and again.usage == first.usage


def test_any_difference_in_the_request_is_computed(replaying, computing):
    base = dict(model=MODEL, prompt=PROMPT, max_tokens=5, temperature=0)
    client(replaying).completions.create(**base)
    for change in ({"max_tokens": 2}, {"prompt": PROMPT + " "}, {"stop": ["\n"]}, {"n": 2}, {"logprobs": 1}):
        hits, kept = counts(replaying)
        got = client(replaying).completions.create(**(base | change))
        assert counts(replaying) == (hits, kept + 1), f"{change}: a different request must not be replayed"
        assert choices(got) == choices(client(computing).completions.create(**(base | change))), change


def test_seeded_sampling_is_replayed_and_unseeded_is_not(replaying, computing):
    seeded = dict(model=MODEL, prompt=PROMPT, max_tokens=8, temperature=1.0, seed=7, n=3)
    first = client(replaying).completions.create(**seeded)
    hits, kept = counts(replaying)
    again = client(replaying).completions.create(**seeded)
    assert counts(replaying) == (hits + 1, kept)
    assert choices(again) == choices(first) == choices(client(computing).completions.create(**seeded))
    unseeded = dict(model=MODEL, prompt=PROMPT, max_tokens=8, temperature=1.0, n=4)
    for _ in range(2):
        client(replaying).completions.create(**unseeded)
    assert counts(replaying) == (hits + 1, kept), "sampling without a seed is never kept or replayed"


def test_chat_is_replayed_and_streaming_is_not(replaying, computing):
    chat = dict(model=MODEL, messages=[{"role": "user", "content": PROMPT}], max_tokens=4, temperature=0)
    first = client(replaying).chat.completions.create(**chat)
    hits, kept = counts(replaying)
    again = client(replaying).chat.completions.create(**chat)
    assert counts(replaying) == (hits + 1, kept)
    assert again.choices[0].message.content == first.choices[0].message.content == \
        client(computing).chat.completions.create(**chat).choices[0].message.content
    for _ in range(2):
        text = "".join(part.choices[0].text for part in client(replaying).completions.create(
            model=MODEL, prompt=PROMPT, max_tokens=4, temperature=0, stream=True) if part.choices)
        assert text == first_text(computing)
    assert counts(replaying) == (hits + 1, kept), "a streamed request is computed every time"


def first_text(server):
    return client(server).completions.create(model=MODEL, prompt=PROMPT, max_tokens=4, temperature=0).choices[0].text


def test_scoring_a_prompt_samples_nothing_and_is_replayed(replaying, computing):
    """echo + logprobs with max_tokens=0 (how label scoring asks), at the default temperature of 1"""
    score = dict(model=MODEL, prompt=PROMPT + " dax", max_tokens=0, echo=True, logprobs=0)
    first = client(replaying).completions.create(**score)
    hits, kept = counts(replaying)
    again = client(replaying).completions.create(**score)
    assert counts(replaying) == (hits + 1, kept)
    assert choices(again) == choices(first) == choices(client(computing).completions.create(**score))


def test_errors_are_not_kept(replaying):
    hits, kept = counts(replaying)
    for _ in range(2):
        with pytest.raises(openai.BadRequestError):
            client(replaying).completions.create(model=MODEL, prompt=PROMPT, max_tokens=5000, temperature=0)
    assert counts(replaying) == (hits, kept)


class Request(BaseModel):
    temperature: float = 1.0
    max_tokens: int | None = None
    seed: int | None = None
    stream: bool = False
    prompt: str = "x"


def test_least_recently_used_answer_goes_first_and_off_keeps_nothing():
    cache = ReplayCache(2)
    keys = [cache.key("completions", Request(temperature=0, prompt=p)) for p in "abc"]
    cache.put(keys[0], {"id": "a", "created": 0, "choices": ["A"]})
    cache.put(keys[1], {"id": "b", "created": 0, "choices": ["B"]})
    assert cache.get(keys[0], "cmpl")["choices"] == ["A"]  # a is now the most recently used
    cache.put(keys[2], {"id": "c", "created": 0, "choices": ["C"]})
    assert cache.get(keys[1], "cmpl") is None and cache.get(keys[0], "cmpl")["choices"] == ["A"]
    assert cache.get(keys[0], "cmpl")["id"].startswith("cmpl-")
    off = ReplayCache(0)
    assert off.key("completions", Request(temperature=0)) is None
    with pytest.raises(ValueError):
        ReplayCache(-1)


@pytest.mark.parametrize("fields, reproducible", [
    ({"temperature": 0}, True), ({"seed": 3}, True), ({"temperature": 0.7, "seed": 0}, True),
    ({"max_tokens": 0}, True), ({}, False), ({"temperature": 0.7}, False), ({"max_tokens": 1}, False),
    ({"temperature": 0, "stream": True}, False),
])
def test_which_requests_have_one_answer(fields, reproducible):
    assert is_reproducible(Request(**fields)) is reproducible
