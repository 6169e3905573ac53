"""Fair share on a shared endpoint: do the other keys still get answers fast while one key floods it?

``fair_share(url, keys, ...)`` runs the well-behaved keys' clients twice over real HTTP with the
``openai`` client: alone, then while a separate process floods the endpoint with the last key (as
many requests in flight as it likes, each resent the moment it comes back, 429 or not). It reports
both medians of the well-behaved requests' latency, their ratio, how many of them were lost (none
should be: the ``openai`` client retries a 429 after ``Retry-After``), and what the flooder got.

    python -m vlcourse.serve.loadtest http://gpu-host:8000/v1 --keys keys.txt   # a TA checking the class endpoint
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from dataclasses import asdict, dataclass

MODEL = "gpt-shakespeare-tiny"
PROMPTS = ["ROMEO:\n", "JULIET:\nO ", "KING:\nMy ", "HAMLET:\nWhat ", "LEAR:\nCome ", "DUKE:\nNay "]


@dataclass
class FairShare:
    unloaded_median: float  # seconds per well-behaved request, no flood
    flooded_median: float  # the same requests while one key floods
    requests: int  # well-behaved requests per phase
    lost: int  # well-behaved requests that never got an answer (both phases)
    flood_sent: int
    flood_answered: int  # the flooder's requests that got a completion
    flood_refused: int  # ... that got 429
    flood_seconds: float = 0.0  # from the flooding process's start to its stop (an upper bound on how long it sent)

    @property
    def ratio(self) -> float:
        return self.flooded_median / self.unloaded_median


async def well_behaved(url: str, keys: list[str], clients_per_key: int, requests_per_client: int, max_tokens: int,
                       pause: float, model: str) -> tuple[list[float], int]:
    """Every client sends its requests one after another (``pause`` between them); latencies and failures."""
    import openai

    latencies: list[float] = []
    failures = 0

    async def client_loop(key: str, index: int) -> None:
        nonlocal failures
        async with openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=5, timeout=120) as client:
            for i in range(requests_per_client):
                started = time.monotonic()
                try:
                    await client.completions.create(model=model, prompt=PROMPTS[(index + i) % len(PROMPTS)],
                                                    max_tokens=max_tokens, temperature=0)
                    latencies.append(time.monotonic() - started)
                except openai.OpenAIError:
                    failures += 1
                await asyncio.sleep(pause)

    await asyncio.gather(*(client_loop(key, k * clients_per_key + c) for k, key in enumerate(keys)
                           for c in range(clients_per_key)))
    return latencies, failures


def flood(url: str, key: str, in_flight: int, max_tokens: int, model: str, stop, counts) -> None:
    """The flooder (its own process): ``in_flight`` loops that resend at once, whatever the answer."""
    import httpx

    async def main() -> None:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120,
                                     limits=httpx.Limits(max_connections=in_flight)) as client:
            async def loop() -> None:
                while not stop.is_set():
                    reply = await client.post("/completions", json={"model": model, "prompt": PROMPTS[0],
                                                                    "max_tokens": max_tokens, "temperature": 0})
                    with counts.get_lock():
                        counts[0] += 1
                        counts[1 if reply.status_code == 200 else 2] += reply.status_code in (200, 429)

            await asyncio.gather(*(loop() for _ in range(in_flight)))

    asyncio.run(main())


def fair_share(url: str, keys: list[str], clients_per_key: int = 8, requests_per_client: int = 5, max_tokens: int = 8,
               pause: float = 1.0, flood_in_flight: int = 128, model: str = MODEL) -> FairShare:
    """Measure as the module docstring says; the last key floods, the others behave."""
    polite, flooder = keys[:-1], keys[-1]
    run = lambda: asyncio.run(well_behaved(url, polite, clients_per_key, requests_per_client, max_tokens,  # noqa: E731
                                           pause, model))
    alone, lost_alone = run()
    context = multiprocessing.get_context("spawn")
    stop, counts = context.Event(), context.Array("l", 3)
    process = context.Process(target=flood, args=(url, flooder, flood_in_flight, max_tokens, model, stop, counts),
                              daemon=True)
    started = time.monotonic()
    process.start()
    try:
        time.sleep(1.0)  # the flood is under way before the measured requests start
        flooded, lost_flooded = run()
    finally:
        stop.set()
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    return FairShare(statistics.median(alone), statistics.median(flooded), len(polite) * clients_per_key * requests_per_client,
                     lost_alone + lost_flooded, counts[0], counts[1], counts[2], time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    from vlcourse.serve.access import read_key_file

    parser = argparse.ArgumentParser(prog="python -m vlcourse.serve.loadtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the endpoint, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--keys", required=True, help="key file (KEY [name] per line); the last key floods")
    parser.add_argument("--clients-per-key", type=int, default=8)
    parser.add_argument("--model", default=MODEL)
    args = parser.parse_args(argv)
    result = fair_share(args.url, list(read_key_file(args.keys)), args.clients_per_key, model=args.model)
    print({**asdict(result), "ratio": round(result.ratio, 2)})
    return 0 if result.lost == 0 and result.ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
