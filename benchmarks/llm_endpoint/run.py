"""Throughput and overhead of the local OpenAI-compatible endpoint (``vlcourse serve``).

Measures, with the real ``openai`` client over loopback TCP to a ``vlcourse serve`` subprocess:

1. requests/s and generated tokens/s with 1, 8 and 64 concurrent clients (asyncio clients);
2. the HTTP overhead at one client: seconds per request through HTTP against the same requests
   decoded greedily in the benchmark's own process with the same key-value cache as the server's
   engine (:func:`~vlcourse.gpt.kv_cache.generate_cached`; target: under 20 %), and, for reference,
   against the cache-less :func:`~vlcourse.gpt.generate`;
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
from collections.abc import Callable
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


def http_decoder(client: openai.OpenAI, max_tokens: int) -> Callable[[str], str]:
    """One synchronous client, one request at a time: prompt -> completion text."""
    def one(prompt: str) -> str:
        return client.completions.create(model=MODEL, prompt=prompt, max_tokens=max_tokens, temperature=0).choices[0].text

    return one


def in_process_decoder(max_tokens: int, threads: int, cached: bool = True) -> Callable[[str], str]:
    """The same requests answered by calling the model in this process: no HTTP, no JSON, no engine
    thread. ``cached``: greedy :func:`~vlcourse.gpt.kv_cache.generate_cached` (the server's
    computation); else greedy :func:`vlcourse.gpt.generate` (the whole context every token)."""
    import torch

    from vlcourse.gpt import generate
    from vlcourse.gpt.kv_cache import generate_cached
    from vlcourse.serve.models import load_served_model

    torch.set_num_threads(threads)
    served = load_served_model(MODEL)
    tok = served.tokenizer

    def one(prompt: str) -> str:
        ids = torch.tensor([tok.encode(prompt)])  # (1, T0)
        out = generate_cached(served.model, ids, max_tokens) if cached else generate(served.model, ids, max_tokens, greedy=True)
        return tok.decode(out[0, ids.size(1):])

    return one


def interleaved(decoders: dict[str, Callable[[str], str]], texts: list[str], rounds: int) -> dict:
    """Seconds per request of each decoder, measured in alternating rounds over the same prompts.

    On a shared machine the load changes from second to second; alternating the peers every few
    requests exposes them to the same load, and the per-round ratios show how much it moved.
    """
    for one in decoders.values():
        one(texts[0])  # warm up (first calls allocate, the HTTP client connects)
    seconds = {name: [] for name in decoders}
    answers = {name: [] for name in decoders}
    for r in range(rounds):
        for name, one in decoders.items():
            start = time.perf_counter()
            out = [one(p) for p in texts]
            seconds[name].append((time.perf_counter() - start) / len(texts))
            if r == 0:
                answers[name] = out
    return {"seconds_per_request": {n: round(sum(v) / rounds, 5) for n, v in seconds.items()},
            "per_round": {n: [round(x, 5) for x in v] for n, v in seconds.items()}, "answers": answers}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=128, help="requests per concurrency level")
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--load", type=int, default=3000, help="requests in the load run (0: skip)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the server")
    parser.add_argument("--max-batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds of the concurrency levels "
                        "(--requests each)")
    parser.add_argument("--overhead-rounds", type=int, default=24, help="alternating rounds of 8 requests for the "
                        "HTTP overhead (short rounds: a burst of load from elsewhere hits few of them)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args(argv)
    texts = prompts(args.requests)
    results: dict = {"model": MODEL, "max_tokens": args.max_tokens, "requests": args.requests, "threads": args.threads}

    proc, url = start_server(args.threads, args.max_batch)
    try:
        with openai.OpenAI(base_url=url, api_key="local", max_retries=0) as client:
            peers = {"http": http_decoder(client, args.max_tokens),
                     "in_process": in_process_decoder(args.max_tokens, args.threads),
                     "in_process_no_cache": in_process_decoder(args.max_tokens, args.threads, cached=False)}
            timed = interleaved(peers, texts[:8], args.overhead_rounds)
        per = timed["seconds_per_request"]
        results["seconds_per_request"] = per
        results["seconds_per_request_per_round"] = timed["per_round"]
        results["http_overhead"] = round(per["http"] / per["in_process"] - 1, 3)
        results["http_overhead_per_round"] = [round(h / i - 1, 3) for h, i in
                                              zip(timed["per_round"]["http"], timed["per_round"]["in_process"])]
        ordered = sorted(results["http_overhead_per_round"])
        results["http_overhead_median_round"] = ordered[len(ordered) // 2]
        results["cache_speedup_in_process"] = round(per["in_process_no_cache"] / per["in_process"], 2)
        results["in_process_equals_http"] = timed["answers"]["in_process"] == timed["answers"]["http"]
        results["cache_equals_no_cache"] = timed["answers"]["in_process"] == timed["answers"]["in_process_no_cache"]
        print({k: results[k] for k in ("seconds_per_request", "http_overhead", "http_overhead_median_round",
                                       "http_overhead_per_round")}, flush=True)
        reference = {}
        spent = {c: [] for c in (1, 8, 64)}
        tokens = dict.fromkeys(spent, 0)
        same = dict.fromkeys(spent, True)
        for _ in range(args.rounds):  # alternate the levels, for the same reason as the overhead rounds
            for concurrency in spent:
                seconds, out, n = asyncio.run(run_clients(url, texts, concurrency, args.max_tokens))
                spent[concurrency].append(seconds)
                tokens[concurrency] += n
                if not reference:
                    reference = dict(zip(texts, out))
                same[concurrency] &= out == [reference[p] for p in texts]
        for concurrency, times in spent.items():
            total = sum(times)
            results[f"clients_{concurrency}"] = {"seconds": round(total, 3), "requests_per_second": round(len(texts) * len(times) / total, 2),
                                                  "tokens_per_second": round(tokens[concurrency] / total, 1),
                                                  "same_text_as_one_client": same[concurrency]}
            print(concurrency, results[f"clients_{concurrency}"], flush=True)
        one = results["clients_1"]["requests_per_second"]
        results["speedup_8"] = round(results["clients_8"]["requests_per_second"] / one, 2)
        results["speedup_64"] = round(results["clients_64"]["requests_per_second"] / one, 2)
        results["speedup_per_round"] = {c: [round(t1 / t, 2) for t1, t in zip(spent[1], spent[c])] for c in (8, 64)}
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
