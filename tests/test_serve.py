"""The local OpenAI-compatible endpoint, exercised with the real ``openai`` client over real HTTP.

One uvicorn server (in a thread of this process, on a loopback port) serves the tiny Shakespeare
GPT for the whole module; its answers are checked against the model called directly.
"""

import asyncio
import json
import time

import httpx
import openai
import pytest
import torch

from vlcourse.gpt import generate
from vlcourse.serve.config import ServeConfig
from vlcourse.serve.run import BackgroundServer

MODEL = "gpt-shakespeare-tiny"


@pytest.fixture(scope="module")
def server():
    with BackgroundServer(ServeConfig(models=(MODEL,), port=0, max_n=8, max_tokens_limit=200)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with openai.OpenAI(base_url=server.url, api_key="local", max_retries=0, timeout=60) as c:
        yield c


def served(server):
    return server.engines[MODEL].served


def test_lists_its_models(client):
    models = client.models.list().data
    assert [m.id for m in models] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL


def test_greedy_completion_is_the_models_own_greedy_continuation(client, server):
    model, tok = served(server).model, served(server).tokenizer
    prompt = "ROMEO:\nWhat"
    reply = client.completions.create(model=MODEL, prompt=prompt, max_tokens=30, temperature=0)
    expected = generate(model, torch.tensor([tok.encode(prompt)]), 30, greedy=True)[0, len(prompt):]
    assert reply.choices[0].text == tok.decode(expected)
    assert reply.choices[0].finish_reason == "length"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (len(prompt), 30)


def test_echo_logprobs_score_the_prompt_exactly(client, server):
    model, tok = served(server).model, served(server).tokenizer
    prompt = "To be, or not to be"
    reply = client.completions.create(model=MODEL, prompt=prompt, max_tokens=0, echo=True, logprobs=3)
    lp = reply.choices[0].logprobs
    ids = tok.encode(prompt)
    with torch.no_grad():
        direct = torch.log_softmax(model(torch.tensor([ids]))[0][0], -1)  # (T, V)
    assert reply.choices[0].text == prompt and "".join(lp.tokens) == prompt
    assert lp.token_logprobs[0] is None and lp.text_offset == list(range(len(prompt)))
    for t in range(1, len(ids)):
        assert lp.token_logprobs[t] == pytest.approx(float(direct[t - 1, ids[t]]), abs=1e-4)
        assert len(lp.top_logprobs[t]) == 3 and max(lp.top_logprobs[t].values()) >= lp.token_logprobs[t] - 1e-6


def test_seed_makes_sampling_reproducible_and_choices_differ(client):
    ask = dict(model=MODEL, prompt="KING:", max_tokens=40, temperature=1.0, seed=7, n=3)
    first, again = client.completions.create(**ask), client.completions.create(**ask)
    texts = [c.text for c in first.choices]
    assert texts == [c.text for c in again.choices]
    assert len(set(texts)) == 3  # choice j uses seed + j


def test_stop_strings_end_the_choice_and_are_not_returned(client):
    reply = client.completions.create(model=MODEL, prompt="ROMEO:\n", max_tokens=150, temperature=0, stop=["\n", "the"])
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert "\n" not in choice.text and "the" not in choice.text
    full = client.completions.create(model=MODEL, prompt="ROMEO:\n", max_tokens=150, temperature=0).choices[0].text
    assert full.startswith(choice.text) and full[len(choice.text):].startswith(("\n", "the"))


def test_streaming_gives_the_same_text_as_one_response(client):
    ask = dict(model=MODEL, prompt="First Citizen:\n", max_tokens=40, temperature=0, stop=["ou"])
    whole = client.completions.create(**ask).choices[0]
    chunks = list(client.completions.create(**ask, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.finish_reason
    assert chunks[-1].usage.completion_tokens == client.completions.create(**ask).usage.completion_tokens


def test_chat_and_streaming_chat(client):
    messages = [{"role": "system", "content": "KING HENRY:"}, {"role": "user", "content": "What say you"}]
    reply = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=25, temperature=0,
                                           logprobs=True, top_logprobs=2)
    text = reply.choices[0].message.content
    assert reply.choices[0].message.role == "assistant" and len(text) == 25
    assert "".join(t.token for t in reply.choices[0].logprobs.content) == text
    stream = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=25, temperature=0, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == text
    newer = client.chat.completions.create(model=MODEL, messages=messages, max_completion_tokens=5, temperature=0)
    assert newer.choices[0].message.content == text[:5]


def test_async_clients_concurrently_get_the_sequential_answers(client, server):
    prompts = [f"{name}:\n" for name in ("ROMEO", "JULIET", "KING", "QUEEN", "HAMLET", "MENENIUS", "BRUTUS", "LEAR")]
    sequential = [client.completions.create(model=MODEL, prompt=p, max_tokens=30, temperature=0).choices[0].text
                  for p in prompts]

    async def together():
        async with openai.AsyncOpenAI(base_url=server.url, api_key="local", max_retries=0) as aclient:
            replies = await asyncio.gather(*(aclient.completions.create(model=MODEL, prompt=p, max_tokens=30, temperature=0)
                                             for p in prompts))
            stream = await aclient.completions.create(model=MODEL, prompt=prompts[0], max_tokens=30, temperature=0, stream=True)
            streamed = "".join([c.choices[0].text async for c in stream if c.choices])
        return [r.choices[0].text for r in replies], streamed

    concurrent, streamed = asyncio.run(together())
    assert concurrent == sequential and streamed == sequential[0]


BAD_REQUESTS = [
    (dict(model="gpt-17", prompt="hi"), openai.NotFoundError, "model"),
    (dict(model=MODEL, prompt=""), openai.BadRequestError, "prompt"),
    (dict(model=MODEL, prompt="x" * 65), openai.BadRequestError, "prompt"),
    (dict(model=MODEL, prompt="café ☕"), openai.BadRequestError, "prompt"),
    (dict(model=MODEL, prompt=[]), openai.BadRequestError, "prompt"),
    (dict(model=MODEL, prompt="hi", temperature="hot"), openai.BadRequestError, "temperature"),
    (dict(model=MODEL, prompt="hi", max_tokens=2.5), openai.BadRequestError, "max_tokens"),
    (dict(model=MODEL, prompt="hi", max_tokens=-1), openai.BadRequestError, "max_tokens"),
    (dict(model=MODEL, prompt="hi", max_tokens=10_000), openai.BadRequestError, "max_tokens"),
    (dict(model=MODEL, prompt="hi", n=9), openai.BadRequestError, "n"),
    (dict(model=MODEL, prompt=["a", "b", "c"], n=3), openai.BadRequestError, "n"),
    (dict(model=MODEL, prompt="hi", logprobs=6), openai.BadRequestError, "logprobs"),
    (dict(model=MODEL, prompt="hi", stop=["a", "b", "c", "d", "e"]), openai.BadRequestError, "stop"),
    (dict(model=MODEL, prompt=[70, 1]), openai.BadRequestError, "prompt"),
    (dict(model=MODEL, prompt=12), openai.BadRequestError, "prompt"),
]


@pytest.mark.parametrize("ask, error, param", BAD_REQUESTS, ids=[str(i) for i in range(len(BAD_REQUESTS))])
def test_bad_requests_get_a_clear_4xx_in_openais_shape(client, ask, error, param):
    with pytest.raises(error) as caught:
        client.completions.create(**ask)
    body = caught.value.body
    assert set(body) == {"message", "type", "param", "code"} and body["param"] == param and body["message"]
    assert 400 <= caught.value.status_code < 500
    assert client.completions.create(model=MODEL, prompt="hi", max_tokens=2).choices[0].text  # still serving


def test_context_length_error_has_its_code_and_bad_chat_is_refused(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL, prompt="x" * 100)
    assert caught.value.code == "context_length_exceeded" and "64" in caught.value.message
    for messages in ([], [{"role": "wizard", "content": "hi"}], [{"role": "user", "content": 3}]):
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model=MODEL, messages=messages)


def test_malformed_json_and_unknown_routes(server):
    root = server.url.removesuffix("/v1")
    bad = httpx.post(f"{root}/v1/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    missing = httpx.post(f"{root}/v1/completions", json={"prompt": "hi"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "model"
    assert httpx.get(f"{root}/v1/embeddings").json()["error"]["type"] == "not_found_error"


def test_a_client_that_disconnects_mid_stream_frees_its_slot(client, server):
    engine = server.engines[MODEL]
    cancelled = engine.stats.cancelled
    root = server.url.removesuffix("/v1")
    with httpx.stream("POST", f"{root}/v1/completions", timeout=30,
                      json={"model": MODEL, "prompt": "ROMEO:", "max_tokens": 200, "stream": True, "n": 4}) as response:
        lines = response.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert json.loads(first[6:])["choices"][0]["text"] is not None
    # the server notices the closed connection and stops decoding: all four sequences are dropped
    for _ in range(2000):
        if engine.stats.cancelled >= cancelled + 4 and engine.idle():
            break
        time.sleep(0.01)
    assert engine.stats.cancelled >= cancelled + 4 and engine.idle()
    assert client.completions.create(model=MODEL, prompt="hi", max_tokens=3).usage.completion_tokens == 3


def test_serves_on_a_unix_socket(tmp_path):
    path = tmp_path / "llm.sock"
    with BackgroundServer(ServeConfig(models=(MODEL,), uds=str(path))) as running:
        assert running.url == f"unix:{path}"
        http = httpx.Client(transport=httpx.HTTPTransport(uds=str(path)))
        with openai.OpenAI(base_url="http://localhost/v1", api_key="local", http_client=http, max_retries=0) as c:
            text = c.completions.create(model=MODEL, prompt="ROMEO:", max_tokens=5, temperature=0).choices[0].text
    assert len(text) == 5


# --- the caption GPT of assignment 04 (word tokens: a word brings its space, a newline ends a caption) ------
CAPTION_MODEL = "caption-gpt-shapes-tiny"


@pytest.fixture(scope="module")
def caption_server():
    with BackgroundServer(ServeConfig(models=(CAPTION_MODEL,), port=0)) as running:
        yield running


def test_caption_text_round_trips_and_token_texts_add_up_to_the_decoding(caption_server):
    served = caption_server.engines[CAPTION_MODEL].served
    tok = served.tokenizer
    text = "a red circle\nthere is a small blue square above a green triangle\n"
    assert tok.decode(tok.encode(text)) == text
    assert tok.decode(tok.encode("A  Red circle ")) == "a red circle"
    rows = torch.randint(0, tok.vocab_size, (50, 12), generator=torch.Generator().manual_seed(0)).tolist()
    for row in rows:  # includes padding, start and end tokens anywhere
        pieces = [served.token_text(row[0])] + [served.token_text(t, p) for p, t in zip(row, row[1:])]
        assert "".join(pieces) == tok.decode(row)


def test_caption_gpt_continues_a_caption_over_http(caption_server):
    from vlcourse.clipcap.text import caption_words

    served = caption_server.engines[CAPTION_MODEL].served
    model, tok = served.model, served.tokenizer
    with openai.OpenAI(base_url=caption_server.url, api_key="local", max_retries=0, timeout=60) as c:
        assert CAPTION_MODEL in [m.id for m in c.models.list().data]
        reply = c.completions.create(model=CAPTION_MODEL, prompt="a red", max_tokens=20, temperature=0,
                                     stop=["\n"], logprobs=2)
        choice = reply.choices[0]
        ids = tok.encode("a red")
        greedy = generate(model, torch.tensor([ids]), 20, greedy=True)[0].tolist()
        expected = tok.decode(greedy)[len("a red"):].split("\n")[0]
        assert choice.text == expected and choice.finish_reason == "stop"
        assert choice.text.startswith(" ") and set(choice.text.split()) <= set(caption_words())
        assert "".join(choice.logprobs.tokens) == choice.text
        with torch.no_grad():
            direct = torch.log_softmax(model(torch.tensor([greedy]))[0][0], -1)  # (T, V)
        for t, value in enumerate(choice.logprobs.token_logprobs):
            position = len(ids) + t
            assert value == pytest.approx(float(direct[position - 1, greedy[position]]), abs=1e-4)
            assert max(choice.logprobs.top_logprobs[t].values()) == pytest.approx(value, abs=1e-5)  # greedy: the best
        scored = c.completions.create(model=CAPTION_MODEL, prompt="a red circle\na blue", max_tokens=0, echo=True,
                                      logprobs=1).choices[0]
        assert scored.text == "a red circle\na blue" and "".join(scored.logprobs.tokens) == scored.text
        with pytest.raises(openai.BadRequestError) as caught:
            c.completions.create(model=CAPTION_MODEL, prompt="a red dragon")
        assert "dragon" in caught.value.message
        with pytest.raises(openai.BadRequestError):
            c.completions.create(model=CAPTION_MODEL, prompt="   ")


def test_engine_with_its_cache_decodes_what_the_full_forward_pass_decodes(server):
    """Sequences join while others run, leave, and run past the context (64): at temperature 0 each
    gets exactly the greedy tokens of sequential full-forward decoding (vlcourse.gpt.generate)."""
    import threading

    from vlcourse.serve.engine import Engine, Finished, SamplingParams, Sequence

    model, tok = served(server).model, served(server).tokenizer
    engine = Engine(served(server), max_batch=4)  # fewer slots than sequences: some wait for a free row
    # The four long ones arrive at once and fill every row (however fast the engine decodes); the two short
    # ones arrive while those run, wait for a row, and take over the rows of the ones that finish first.
    prompts = ["ROMEO:\n", "KING HENRY:\nWhat say you to this, my lord", "QUEEN:\nNay", "HAMLET:\nO", "J", "To be"]
    lengths = [90, 40, 70, 30, 5, 1]
    results = {}
    done = threading.Event()
    try:
        for i, (prompt, n) in enumerate(zip(prompts, lengths)):
            events = []

            def sink(event, i=i, events=events):
                events.append(event)
                if isinstance(event, Finished):
                    results[i] = "".join(e.text for e in events[:-1])
                    if len(results) == len(prompts):
                        done.set()

            engine.submit(Sequence(tok.encode(prompt), SamplingParams(max_tokens=n, temperature=0), sink))
            if i >= 3:
                time.sleep(0.01 * i)  # the short ones' arrivals spread over the decoding of the others
        assert done.wait(120)
    finally:
        engine.close()
    for i, (prompt, n) in enumerate(zip(prompts, lengths)):
        expected = generate(model, torch.tensor([tok.encode(prompt)]), n, greedy=True)[0, len(prompt):]
        assert results[i] == tok.decode(expected), prompts[i]
    assert engine.stats.largest_batch == 4 and engine.stats.prefilled >= 4
