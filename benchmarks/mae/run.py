"""Forward + backward time of vlcourse's MAE against the MAE authors' model code, same config and shapes.

The peer is ``MaskedAutoencoderViT`` from facebookresearch/mae (``models_mae.py``), run from a checkout
kept **outside** this project (``--mae DIR``; the script refuses a folder inside it: the authors' code
is never part of vlcourse). Their code was written for timm 0.3.2 and numpy < 1.24; two shims make
it import with today's versions, without touching their files: timm's ``Block`` no longer takes
``qk_scale`` (it is dropped: they pass None), and ``np.float`` is gone (it is set to ``float`` while
their position embeddings are computed).

Both models get the same config, the same weights (theirs mapped to ours, see :func:`their_weights_in_ours`)
and the same images and masking noise; the script first checks that both compute the same loss, then
times, interleaved, one training step's forward and backward pass (``loss.backward()``; no optimiser)
for each, and the encoder alone at 75 % masking against 0 %. Reported: medians and minima over the
repetitions, and ours / theirs (below 1: we are faster).

Usage::

    git clone https://github.com/facebookresearch/mae /tmp/mae-authors
    python benchmarks/mae/run.py --mae /tmp/mae-authors --threads 2
    python benchmarks/mae/run.py --mae /tmp/mae-authors --config gpu --batch-size 32 --repeats 10
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]


def import_authors_model(folder: Path):
    """``models_mae`` from the authors' checkout, importable with today's timm and numpy."""
    folder = folder.resolve()
    if folder.is_relative_to(ROOT):
        raise SystemExit(f"--mae {folder} lies inside this project; keep the authors' checkout elsewhere (e.g. /tmp)")
    if not (folder / "models_mae.py").is_file():
        raise SystemExit(f"{folder} has no models_mae.py; clone https://github.com/facebookresearch/mae there")
    import timm.models.vision_transformer as vit

    original = vit.Block

    class Block(original):  # timm >= 0.9 dropped qk_scale, which their code passes (always None)
        def __init__(self, *args, qk_scale=None, **kwargs):
            if qk_scale is not None:
                raise ValueError("qk_scale is not supported by this timm; the MAE configs never set it")
            super().__init__(*args, **kwargs)

    vit.Block = Block
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("models_mae")
    finally:
        sys.path.remove(str(folder))
        vit.Block = original  # their module keeps the shim it imported


@contextlib.contextmanager
def numpy_float():
    """``np.float`` (removed in numpy 1.24), which their position-embedding code uses, for a moment."""
    had = hasattr(np, "float")
    np.float = float
    try:
        yield
    finally:
        if not had:
            del np.float


def build_theirs(models_mae, cfg):
    with numpy_float():
        return models_mae.MaskedAutoencoderViT(
            img_size=cfg.image_size, patch_size=cfg.patch_size, in_chans=cfg.in_chans, embed_dim=cfg.embed_dim,
            depth=cfg.depth, num_heads=cfg.num_heads, decoder_embed_dim=cfg.decoder_embed_dim,
            decoder_depth=cfg.decoder_depth, decoder_num_heads=cfg.decoder_num_heads, mlp_ratio=4.0,
            norm_layer=partial(nn.LayerNorm, eps=1e-6), norm_pix_loss=cfg.norm_pix_loss,
        )


BLOCK_NAMES = {"norm1": "ln_1", "attn.qkv": "attn.c_attn", "attn.proj": "attn.c_proj", "norm2": "ln_2",
               "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj"}
TOP_NAMES = {"cls_token": "encoder.cls_token", "norm": "encoder.norm", "decoder_embed": "decoder.embed",
             "mask_token": "decoder.mask_token", "decoder_norm": "decoder.norm", "decoder_pred": "decoder.pred"}


def their_weights_in_ours(state: dict) -> dict:
    """The authors' state_dict renamed to ours; their patch convolution becomes our Linear on patches.

    Their conv weight (D, C, p, p) is flattened in (row, column, channel) order, the order of our
    ``patchify``. Fixed position embeddings are not weights in ours (rebuilt from the config).
    """
    ours = {}
    for name, value in state.items():
        if name.endswith("pos_embed"):
            continue
        if name == "patch_embed.proj.weight":
            ours["encoder.patch_embed.weight"] = value.permute(0, 2, 3, 1).reshape(value.shape[0], -1)  # (D, p*p*C)
            continue
        if name == "patch_embed.proj.bias":
            ours["encoder.patch_embed.bias"] = value
            continue
        head, _, rest = name.partition(".")
        if head in ("blocks", "decoder_blocks"):
            index, _, leaf = rest.partition(".")
            module, _, kind = leaf.rpartition(".")
            prefix = "encoder" if head == "blocks" else "decoder"
            ours[f"{prefix}.blocks.{index}.{BLOCK_NAMES[module]}.{kind}"] = value
        elif name in TOP_NAMES:
            ours[TOP_NAMES[name]] = value
        else:
            ours[TOP_NAMES[head] + "." + rest] = value
    return ours


def same_noise(seed: int, n: int, length: int) -> torch.Tensor:
    """The noise the authors' random_masking draws right after ``torch.manual_seed(seed)``."""
    return torch.rand(n, length, generator=torch.Generator().manual_seed(seed))


def check_equivalence(ours, theirs, imgs, cfg) -> float:
    """Both models' losses on the same images and masks; returns the absolute difference."""
    from vlcourse.mae import mae_loss, patchify

    torch.manual_seed(123)
    their_loss, their_pred, their_mask = theirs(imgs, mask_ratio=cfg.mask_ratio)
    pred, mask = ours(imgs, cfg.mask_ratio, same_noise(123, len(imgs), cfg.num_patches))
    our_loss = mae_loss(pred, patchify(imgs, cfg.patch_size), mask, cfg.norm_pix_loss)
    assert torch.equal(mask, their_mask), "the masks differ"
    torch.testing.assert_close(pred, their_pred, rtol=1e-4, atol=1e-5)
    return abs(float(our_loss) - float(their_loss))


def time_call(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mae", type=Path, required=True, help="a checkout of facebookresearch/mae outside this project")
    parser.add_argument("--config", choices=["tiny", "gpu"], default="tiny", help="an MAE preset's model config")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per model (interleaved)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from vlcourse.mae import MAE, PRESETS, mae_loss, patchify

    cfg = PRESETS[args.config].model
    models_mae = import_authors_model(args.mae)
    torch.manual_seed(0)
    theirs = build_theirs(models_mae, cfg).to(args.device)
    ours = MAE(cfg).to(args.device)
    ours.load_state_dict(their_weights_in_ours(theirs.state_dict()))  # strict: every weight, nothing else
    imgs = torch.rand(args.batch_size, cfg.in_chans, cfg.image_size, cfg.image_size, device=args.device)
    difference = check_equivalence(ours, theirs, imgs, cfg)
    print(f"config {args.config}: {ours.num_params():,} parameters each; same weights and masks give the same loss "
          f"(difference {difference:.1e}); batch {args.batch_size}, {torch.get_num_threads()} threads, {args.device}")

    def our_step():
        pred, mask = ours(imgs, cfg.mask_ratio, generator=torch.Generator(args.device).manual_seed(1))
        mae_loss(pred, patchify(imgs, cfg.patch_size), mask, cfg.norm_pix_loss).backward()

    def their_step():
        loss, _, _ = theirs(imgs, mask_ratio=cfg.mask_ratio)
        loss.backward()

    def encoder(model_call):
        def run():
            model_call().sum().backward()
        return run

    gen = lambda: torch.Generator(args.device).manual_seed(2)  # noqa: E731
    runs = {
        "ours: forward + backward": our_step,
        "theirs: forward + backward": their_step,
        "ours: encoder at 75 %": encoder(lambda: ours.encoder(imgs, 0.75, generator=gen())[0]),
        "ours: encoder at 0 %": encoder(lambda: ours.encoder(imgs, 0.0, generator=gen())[0]),
        "theirs: encoder at 75 %": encoder(lambda: theirs.forward_encoder(imgs, 0.75)[0]),
        "theirs: encoder at 0 %": encoder(lambda: theirs.forward_encoder(imgs, 0.0)[0]),
    }
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    times = {name: [] for name in runs}
    for repeat in range(args.repeats + 2):  # the first two are warm-up
        for name, fn in runs.items():
            ours.zero_grad(set_to_none=True)
            theirs.zero_grad(set_to_none=True)
            sync()
            seconds = time_call(lambda: (fn(), sync()))
            if repeat >= 2:
                times[name].append(seconds)
    summary = {name: {"median_ms": 1000 * statistics.median(t), "min_ms": 1000 * min(t)} for name, t in times.items()}
    for name, s in summary.items():
        print(f"{name:>28}: median {s['median_ms']:8.2f} ms   min {s['min_ms']:8.2f} ms")
    ratio = summary["ours: forward + backward"]["median_ms"] / summary["theirs: forward + backward"]["median_ms"]
    ours_speedup = summary["ours: encoder at 0 %"]["median_ms"] / summary["ours: encoder at 75 %"]["median_ms"]
    their_speedup = summary["theirs: encoder at 0 %"]["median_ms"] / summary["theirs: encoder at 75 %"]["median_ms"]
    print(f"ours / theirs, forward + backward (median): {ratio:.2f}")
    print(f"encoder speed-up at 75 % masking (0 % time / 75 % time): ours {ours_speedup:.2f}x, theirs {their_speedup:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"config": dataclasses.asdict(cfg), "batch_size": args.batch_size,
                                         "threads": torch.get_num_threads(), "device": args.device,
                                         "loss_difference": difference, "times": summary, "ratio": ratio,
                                         "encoder_speedup": {"ours": ours_speedup, "theirs": their_speedup}}, indent=1))


if __name__ == "__main__":
    main()
