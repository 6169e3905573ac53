"""Throughput and overhead of the local OpenAI-compatible endpoint (``vlcourse serve``).

Measures, with the real ``openai`` client over loopback TCP to a ``vlcourse serve`` subprocess:

1. requests/s and generated tokens/s with 1, 8 and 64 concurrent clients (asyncio clients);
2. the HTTP overhead at one client: seconds per request through HTTP against the same requests
   decoded in-process by an :class:`~vlcourse.serve.engine.Engine` (target: under 20 %);
3. throughput with concurrent clients against one client at a time (target: at least 3x, from
   the engine's continuous batching);
4. a load run of a few thousand requests at temperature 0: none lost, every text equal to the
   sequential answer for its prompt.

Usage (not part of the test suite; a few minutes on 2 CPU cores)::

    python benchmarks/llm_endpoint/run.py                      # writes benchmarks/llm_endpoint/results.json
    python benchmarks/llm_endpoint/run.py --load 3000 --requests 128
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import openai

MODEL = "gpt-shakespeare-tiny"
NAMES = ["ROMEO", "JULIET", "KING HENRY", "QUEEN", "HAMLET", "MENENIUS", "BRUTUS", "LEAR", "GLOUCESTER",
         "First Citizen", "Second Citizen", "CORIOLANUS", "DUKE", "PROSPERO", "MIRANDA", "ARIEL"]


def prompts(n: int) -> list[str]:
    """``n`` distinct prompts (a name and the start of a line)."""
    starts = ["", "I ", "O ", "What ", "My lord", "Nay, ", "Come, ", "Good "]
    out = [f"{name}:\n{start}" for start in starts for name in NAMES]
    return [out[i % len(out)] + ("" if i < len(out) else "a" * (i // len(out))) for i in range(n)]


def start_server(threads: int, max_batch: int) -> tuple[subprocess.Popen, str]:
    """``vlcourse serve --port 0`` in a subprocess; returns it and its base URL."""
    proc = subprocess.Popen([sys.executable, "-m", "vlcourse.serve", "--model", MODEL, "--port", "0",
                             "--threads", str(threads), "--max-batch", str(max_batch)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    from vlcourse.serve.run import READY_LINE

    for line in proc.stdout:
        if line.startswith(READY_LINE):
            return proc, line[len(READY_LINE):].split()[0]
    raise RuntimeError("the server did not start")


async def run_clients(url: str, texts: list[str], concurrency: int, max_tokens: int) -> tuple[float, list[str], int]:
    """Send every prompt with ``concurrency`` requests in flight; (seconds, texts, generated tokens)."""
    gate = asyncio.Semaphore(concurrency)
    async with openai.AsyncOpenAI(base_url=url, api_key="local", max_retries=0, timeout=600) as client:
        async def one(prompt: str):
            async with gate:
                return await client.completions.create(model=MODEL, prompt=prompt, max_tokens=max_tokens, temperature=0)

        await one(texts[0])  # warm the connection pool
        start = time.perf_counter()
        replies = await asyncio.gather(*(one(p) for p in texts))
        seconds = time.perf_counter() - start
    return seconds, [r.choices[0].text for r in replies], sum(r.usage.completion_tokens for r in replies)


def sequential_http(url: str, texts: list[str], max_tokens: int) -> tuple[float, list[str]]:
    """One synchronous client, one request at a time."""
    with openai.OpenAI(base_url=url, api_key="local", max_retries=0) as client:
        client.completions.create(model=MODEL, prompt=texts[0], max_tokens=max_tokens, temperature=0)
        start = time.perf_counter()
        out = [client.completions.create(model=MODEL, prompt=p, max_tokens=max_tokens, temperature=0).choices[0].text
               for p in texts]
    return time.perf_counter() - start, out


def sequential_in_process(texts: list[str], max_tokens: int, threads: int) -> tuple[float, list[str]]:
    """The same requests answered by calling the model in this process, one at a time (greedy
    :func:`vlcourse.gpt.generate`: no HTTP, no JSON, no engine thread)."""
    import torch

    from vlcourse.gpt import generate
    from vlcourse.serve.models import load_served_model

    torch.set_num_threads(threads)
    served = load_served_model(MODEL)
    tok = served.tokenizer

    def one(prompt: str) -> str:
        ids = torch.tensor([tok.encode(prompt)])  # (1, T0)
        return tok.decode(generate(served.model, ids, max_tokens, greedy=True)[0, ids.size(1):])

    one(texts[0])
    start = time.perf_counter()
    out = [one(p) for p in texts]
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=128, help="requests per concurrency level")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--load", type=int, default=3000, help="requests in the load run (0: skip)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the server")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args(argv)
    texts = prompts(args.requests)
    results: dict = {"model": MODEL, "max_tokens": args.max_tokens, "requests": args.requests, "threads": args.threads}

    seconds, inproc = sequential_in_process(texts[:32], args.max_tokens, args.threads)
    results["in_process_seconds_per_request"] = seconds / 32
    proc, url = start_server(args.threads, args.max_batch)
    try:
        seconds, http = sequential_http(url, texts[:32], args.max_tokens)
        results["http_seconds_per_request"] = seconds / 32
        results["http_overhead"] = results["http_seconds_per_request"] / results["in_process_seconds_per_request"] - 1
        results["in_process_equals_http"] = inproc == http
        reference = {}
        for concurrency in (1, 8, 64):
            seconds, out, tokens = asyncio.run(run_clients(url, texts, concurrency, args.max_tokens))
            results[f"clients_{concurrency}"] = {"seconds": round(seconds, 3), "requests_per_second": round(len(texts) / seconds, 2),
                                                  "tokens_per_second": round(tokens / seconds, 1)}
            if concurrency == 1:
                reference = dict(zip(texts, out))
            results[f"clients_{concurrency}"]["same_text_as_one_client"] = out == [reference[p] for p in texts]
            print(concurrency, results[f"clients_{concurrency}"], flush=True)
        one = results["clients_1"]["requests_per_second"]
        results["speedup_8"] = round(results["clients_8"]["requests_per_second"] / one, 2)
        results["speedup_64"] = round(results["clients_64"]["requests_per_second"] / one, 2)
        if args.load:
            load = [texts[i % len(texts)] for i in range(args.load)]
            seconds, out, tokens = asyncio.run(run_clients(url, load, 64, args.max_tokens))
            results["load"] = {"requests": args.load, "answered": len(out), "seconds": round(seconds, 1),
                               "requests_per_second": round(args.load / seconds, 1),
                               "mismatches_vs_sequential": sum(o != reference[p] for o, p in zip(out, load))}
            print("load", results["load"], flush=True)
    finally:
        proc.terminate()
        proc.wait()
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
