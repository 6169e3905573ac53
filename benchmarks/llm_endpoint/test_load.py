"""Load run (slow, not in the default suite): thousands of concurrent requests, none lost, all exact.

Run with ``pytest -m slow benchmarks/llm_endpoint/test_load.py``.
"""

import asyncio

import openai
import pytest

from vlcourse.serve.config import ServeConfig
from vlcourse.serve.run import BackgroundServer

MODEL = "gpt-shakespeare-tiny"
REQUESTS = 2000
DISTINCT = 100


@pytest.mark.slow
def test_thousands_of_concurrent_requests_match_sequential_answers():
    names = ["ROMEO", "JULIET", "KING", "QUEEN", "LEAR", "BRUTUS", "HAMLET", "DUKE", "ARIEL", "MIRANDA"]
    prompts = [f"{n}:\n{w}" for n in names for w in ("I ", "O ", "My ", "What ", "Come ", "Nay ", "Go ", "Good ", "Sir ", "Yet ")]
    assert len(set(prompts)) == DISTINCT
    with BackgroundServer(ServeConfig(models=(MODEL,), port=0, threads=1)) as server:
        with openai.OpenAI(base_url=server.url, api_key="local", max_retries=0) as client:
            sequential = {p: client.completions.create(model=MODEL, prompt=p, max_tokens=16, temperature=0).choices[0].text
                          for p in prompts}

        async def flood():
            gate = asyncio.Semaphore(64)
            async with openai.AsyncOpenAI(base_url=server.url, api_key="local", max_retries=0, timeout=600) as aclient:
                async def one(i: int):
                    async with gate:
                        reply = await aclient.completions.create(model=MODEL, prompt=prompts[i % DISTINCT],
                                                                 max_tokens=16, temperature=0)
                        return i, reply.choices[0].text, reply.choices[0].finish_reason
                return await asyncio.gather(*(one(i) for i in range(REQUESTS)))

        answers = asyncio.run(flood())
        engine = server.engines[MODEL]
    assert len(answers) == REQUESTS and sorted(i for i, _, _ in answers) == list(range(REQUESTS))
    assert all(text == sequential[prompts[i % DISTINCT]] and reason == "length" for i, text, reason in answers)
    assert engine.stats.largest_batch > 1  # concurrent requests shared forward passes
