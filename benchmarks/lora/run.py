"""LoRA speed: our injected GPT against peft's on the same model and shapes, and merged inference against the base.

Both adapt the same GPT (``vlcourse.gpt``) on the attention projections (``attn.c_attn``, ``attn.c_proj``)
with the same rank, alpha and adapter weights; the script first checks that both give the same logits,
then times, interleaved (so that a busy machine slows both alike), one training step's forward and
backward pass (``loss.backward()``; no optimiser) for each. Then inference (``torch.no_grad``, eval mode):
the base model, our model unmerged, ours merged with :func:`vlcourse.lora.merge_and_unload`, peft's
unmerged and peft's ``merge_and_unload()``. Reported: medians and minima over the repetitions, and
ratios (ours / peft below 1: we are faster; merged / base near 1: merging costs nothing).

Usage::

    python benchmarks/lora/run.py --threads 2                       # the tiny GPT (2 x 128, block 64)
    python benchmarks/lora/run.py --threads 2 --config gpu --batch-size 8 --repeats 10
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch

CONFIGS = {
    "tiny": {"block_size": 64, "n_layer": 2, "n_head": 4, "n_embd": 128, "vocab_size": 65},
    "gpu": {"block_size": 256, "n_layer": 6, "n_head": 6, "n_embd": 384, "vocab_size": 65},
}


def build(config: dict, r: int, alpha: float, seed: int = 0):
    """The base GPT, ours injected and peft's, with the same (non-zero) adapter weights."""
    import peft

    from vlcourse.gpt import GPT, GPTConfig
    from vlcourse.lora import GPT_ATTENTION, adapter_state_dict, inject_lora

    torch.manual_seed(seed)
    base = GPT(GPTConfig(**config)).eval()
    ours = inject_lora(copy.deepcopy(base), GPT_ATTENTION, r, alpha)
    with torch.no_grad():
        for name, param in ours.named_parameters():
            if name.endswith("lora_B.weight"):
                param.normal_(std=0.02)
    theirs = peft.get_peft_model(copy.deepcopy(base), peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0,
                                                                       target_modules=list(GPT_ATTENTION)))
    with torch.no_grad():
        params = dict(theirs.named_parameters())
        for key, value in adapter_state_dict(ours).items():
            params["base_model.model." + key.replace(".weight", ".default.weight")].copy_(value)
    return base, ours, theirs


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def interleaved(fns: dict, repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Each function ``repeats`` times, taking turns, after ``warmup`` untimed calls each."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name] += timed(fn, 1)
    return times


def summary(times: dict[str, list[float]]) -> dict[str, dict]:
    return {name: {"median_ms": 1000 * statistics.median(t), "min_ms": 1000 * min(t)} for name, t in times.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from vlcourse.lora import merge_and_unload

    config = CONFIGS[args.config]
    base, ours, theirs = (m.to(args.device) for m in build(config, args.rank, args.alpha))
    gen = torch.Generator().manual_seed(1)
    x = torch.randint(config["vocab_size"], (args.batch_size, config["block_size"]), generator=gen).to(args.device)
    y = torch.randint(config["vocab_size"], (args.batch_size, config["block_size"]), generator=gen).to(args.device)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)

    with torch.no_grad():
        difference = (ours(x)[0] - theirs(x)[0]).abs().max().item()
    assert difference < 1e-4, f"ours and peft's disagree by {difference}"

    def step(model):
        def run():
            model.train()
            loss = model(x, y)[1]
            loss.backward()
            model.zero_grad(set_to_none=True)
            sync()
        return run

    def infer(model):
        model.eval()

        def run():
            with torch.no_grad():
                model(x)
            sync()
        return run

    train = summary(interleaved({"ours": step(ours), "peft": step(theirs)}, args.repeats))
    merged_ours, merged_theirs = merge_and_unload(ours).eval(), copy.deepcopy(theirs).merge_and_unload().eval()
    with torch.no_grad():
        merge_error = (merged_ours(x)[0] - ours.eval()(x)[0]).abs().max().item()
    inference = summary(interleaved({
        "base": infer(base), "ours unmerged": infer(ours), "ours merged": infer(merged_ours),
        "peft unmerged": infer(theirs), "peft merged": infer(merged_theirs),
    }, args.repeats))
    result = {
        "config": args.config, "model": config, "batch_size": args.batch_size, "rank": args.rank, "alpha": args.alpha,
        "threads": torch.get_num_threads(), "device": args.device, "repeats": args.repeats,
        "torch": torch.__version__, "peft": __import__("peft").__version__,
        "logit_difference_ours_vs_peft": difference, "merge_error": merge_error,
        "train_step": train, "inference": inference,
        "ratios": {
            "train ours/peft (median)": train["ours"]["median_ms"] / train["peft"]["median_ms"],
            "inference ours merged/base (median)": inference["ours merged"]["median_ms"] / inference["base"]["median_ms"],
            "inference ours unmerged/peft unmerged (median)": inference["ours unmerged"]["median_ms"] / inference["peft unmerged"]["median_ms"],
        },
    }
    print(f"{args.config} GPT, batch {args.batch_size} x {config['block_size']}, r={args.rank}, "
          f"{result['threads']} threads on {args.device}; ours vs peft logits differ by {difference:.1e}")
    for title, table in (("forward + backward", train), ("inference (no_grad)", inference)):
        print(f"  {title}:")
        for name, t in table.items():
            print(f"    {name:>14}: median {t['median_ms']:8.2f} ms   min {t['min_ms']:8.2f} ms")
    for name, value in result["ratios"].items():
        print(f"  {name}: {value:.3f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)
    return result


if __name__ == "__main__":
    main()
