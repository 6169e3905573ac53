"""clip_loss against open_clip's ClipLoss: equal values and gradients, and the time of forward + backward.

Both sides get the same unnormalised float32 features and log-scale; open_clip's loss is called the
way open_clip's model uses it (features L2-normalised, scale exponentiated), so both time the same
work. The two are interleaved, repeat by repeat, so that a busy machine slows both alike.

    python benchmarks/clip/run.py --threads 2 --repeats 10
    python benchmarks/clip/run.py --device cuda --repeats 50
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss

from vlcourse.clip import clip_loss


def open_clip_loss(img, txt, logit_scale, loss=ClipLoss()):
    return loss(F.normalize(img, dim=-1), F.normalize(txt, dim=-1), logit_scale.exp())


def inputs(batch, width, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.randn(batch, width, generator=g).to(device).requires_grad_()
    txt = torch.randn(batch, width, generator=g).to(device).requires_grad_()
    scale = torch.tensor(math.log(1 / 0.07), device=device, requires_grad=True)
    return img, txt, scale


def step(fn, args, device):
    for a in args:
        a.grad = None
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn(*args).backward()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, width {args.width}")
    print(f"{'batch':>6s} {'|loss diff|':>12s} {'max|grad diff|':>15s} {'ours ms':>9s} {'open_clip ms':>13s} {'ratio':>6s}")
    for batch in args.batches:
        # equality in float64
        a = [t.detach().double().requires_grad_() for t in inputs(batch, args.width, "cpu", 1)]
        b = [t.detach().double().requires_grad_() for t in inputs(batch, args.width, "cpu", 1)]
        va, vb = clip_loss(*a), open_clip_loss(*b)
        va.backward()
        vb.backward()
        value_diff = abs(va.item() - vb.item())
        grad_diff = max((x.grad - y.grad).abs().max().item() for x, y in zip(a, b))
        # timing in float32
        ours, theirs = inputs(batch, args.width, args.device), inputs(batch, args.width, args.device)
        for _ in range(2):  # warm-up
            step(clip_loss, ours, args.device)
            step(open_clip_loss, theirs, args.device)
        t_ours, t_theirs = [], []
        for _ in range(args.repeats):
            t_ours.append(step(clip_loss, ours, args.device))
            t_theirs.append(step(open_clip_loss, theirs, args.device))
        mo, mt = statistics.median(t_ours) * 1e3, statistics.median(t_theirs) * 1e3
        print(f"{batch:6d} {value_diff:12.1e} {grad_diff:15.1e} {mo:9.2f} {mt:13.2f} {mo / mt:6.2f}")


if __name__ == "__main__":
    main()
