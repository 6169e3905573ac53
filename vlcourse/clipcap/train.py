"""Training ClipCap on shapes: the caption GPT, the mapping networks, evaluation, reference checkpoints.

The graded pieces (the mappers, :class:`ClipCap`, :func:`generate_caption`) are arguments here,
resolved to the reference ones only when none is given, so the notebook trains and evaluates with
the student's own code and nothing here reaches a withheld file while assignment 04 is graded.

Train the shipped checkpoints with ``python -m vlcourse.clipcap --preset tiny`` (or ``vlcourse train
clipcap``); it needs the CLIP checkpoint ``clip_shapes_tiny`` (``vlcourse train clip``).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from vlcourse.checkpoints import CheckpointEntry, holding, load_checkpoint, save_checkpoint, reference_training_main
from vlcourse.clip.model import encode_images, encode_texts
from vlcourse.clip.train import CLIP_SHAPES
from vlcourse.clip.train import checkpoint_name as clip_checkpoint_name
from vlcourse.clip.train import load_reference as load_clip
from vlcourse.clipcap.config import MapperConfig
from vlcourse.clipcap.lm import GPTCaptionLM
from vlcourse.clipcap.metrics import attribute_accuracy, caption_scores
from vlcourse.clipcap.text import CaptionTokenizer
from vlcourse.data.shapes import ShapesConfig, generate_shapes
from vlcourse.gpt import GPT, GPTConfig
from vlcourse.distributed import dry_run_size, with_device
from vlcourse.training import TrainConfig, train

__all__ = [
    "CAPTION_LENGTH", "MAPPER_KINDS", "CaptionData", "ClipCapPreset", "PRESETS", "caption_data", "caption_gpt_config", "caption_stream", "scene_stream", "stream_windows", "train_caption_gpt",
    "reference_mapper", "reference_clipcap", "reference_generate", "train_mapper", "clipcap_step",
    "evaluate_captions", "score_captions", "nearest_caption_baseline", "random_caption_baseline", "checkpoint_name",
    "train_reference", "train_reference_mappers", "load_caption_gpt", "load_mapper", "load_reference", "main",
]

MAPPER_KINDS = ("mlp", "transformer")
CAPTION_LENGTH = 20  # tokens of a caption with its end token (two-object canonical captions need at most 16)


# ----------------------------------------------------------------------------------------------- data


@dataclass
class CaptionData:
    """One split, ready for ClipCap: CLIP features, canonical captions as tokens, labels."""

    features: torch.Tensor  # (N, clip_dim) CLIP image embeddings (unnormalised)
    captions: list[str]  # canonical captions
    tokens: torch.Tensor  # (N, CAPTION_LENGTH) words, <eos>, padding
    mask: torch.Tensor  # (N, CAPTION_LENGTH) 1 on words and <eos>
    labels: dict[str, torch.Tensor]
    vocab: dict[str, list[str]]
    images: torch.Tensor  # (N, 3, 32, 32) float in [0, 1]


def caption_data(clip_model: nn.Module, split: str, num: int, shapes: ShapesConfig | None = None,
                 tokenizer: CaptionTokenizer | None = None) -> CaptionData:
    """A shapes split with its CLIP features and tokenised canonical captions."""
    cfg = dataclasses.replace(shapes or CLIP_SHAPES, num_samples=num)
    data = generate_shapes(cfg, split)
    images = data.images.float() / 255.0
    tokens, mask = (tokenizer or CaptionTokenizer()).batch(data.canonical_captions, CAPTION_LENGTH)
    return CaptionData(encode_images(clip_model, images), list(data.canonical_captions), tokens, mask,
                       data.labels, data.vocab, images)


# ------------------------------------------------------------------------------------------ presets


@dataclass
class ClipCapPreset:
    """A named recipe for the caption GPT and both mappers.

    Attributes:
        gpt: the caption GPT's size (its vocab_size is set from the caption tokenizer).
        gpt_train, gpt_batch_size: its language-model training on canonical captions.
        mapper: both mappers' size (clip_dim and lm_dim are set from the CLIP and the GPT).
        mapper_train, mapper_batch_size: the mappers' training (the GPT frozen).
        num_train: training images; clip: the CLIP checkpoint's preset; device, seed, description.
    """

    gpt: GPTConfig
    gpt_train: TrainConfig
    gpt_batch_size: int
    mapper: MapperConfig
    mapper_train: TrainConfig
    mapper_batch_size: int
    num_train: int = 10_000
    clip: str = "tiny"
    shapes: ShapesConfig = field(default_factory=lambda: CLIP_SHAPES)
    device: str = "cpu"
    seed: int = 0
    description: str = ""


PRESETS: dict[str, ClipCapPreset] = {
    "tiny": ClipCapPreset(
        gpt=GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=4, n_embd=64),
        gpt_train=TrainConfig(steps=400, lr=3e-3, min_lr=3e-4, warmup_steps=30, weight_decay=0.1, progress=True),
        gpt_batch_size=64,
        mapper=MapperConfig(prefix_length=4, clip_length=4, num_layers=2, num_heads=4),
        mapper_train=TrainConfig(steps=1000, lr=3e-3, min_lr=3e-4, warmup_steps=20, weight_decay=0.0, progress=True),
        mapper_batch_size=64,
        num_train=5000,
        description="caption GPT 2 x 64 (word tokens), mappers to a 4-token prefix, 400 + 1000 + 1000 steps: 1 to 3 minutes on 2 CPU cores",
    ),
    "gpu": ClipCapPreset(
        gpt=GPTConfig(vocab_size=64, block_size=32, n_layer=6, n_head=8, n_embd=256),
        gpt_train=TrainConfig(steps=2000, lr=1e-3, min_lr=1e-5, warmup_steps=200, weight_decay=0.1, progress=True),
        gpt_batch_size=256,
        mapper=MapperConfig(prefix_length=10, clip_length=10, num_layers=4, num_heads=8),
        mapper_train=TrainConfig(steps=1500, lr=1e-3, min_lr=1e-5, warmup_steps=100, progress=True),
        mapper_batch_size=256,
        num_train=20_000,
        clip="gpu",
        device="cuda",
        description="caption GPT 6 x 256, mappers to a 10-token prefix, on the gpu CLIP",
    ),
}


# --------------------------------------------------------------------------- the graded pieces, lazily


def reference_mapper(kind: str) -> type[nn.Module]:
    """The reference :class:`MLPMapper` or :class:`TransformerMapper`, imported on first use."""
    if kind not in MAPPER_KINDS:
        raise ValueError(f"kind must be one of {MAPPER_KINDS}, got {kind!r}")
    try:
        from vlcourse.clipcap import mapping
        return getattr(mapping, {"mlp": "MLPMapper", "transformer": "TransformerMapper"}[kind])
    except (ImportError, AttributeError) as err:
        raise RuntimeError("the reference mappers are unavailable (withheld while grading): pass your own class, "
                           "e.g. mapper_cls=MLPMapper") from err


def reference_clipcap() -> type[nn.Module]:
    """The reference :class:`ClipCap`, imported on first use."""
    try:
        from vlcourse.clipcap.captioner import ClipCap
    except ImportError as err:
        raise RuntimeError("the reference ClipCap is unavailable (withheld while grading): pass your own, "
                           "e.g. clipcap_cls=ClipCap") from err
    return ClipCap


def reference_generate() -> Callable:
    """The reference :func:`generate_caption`, imported on first use."""
    try:
        from vlcourse.clipcap.decoding import generate_caption
    except ImportError as err:
        raise RuntimeError("the reference generate_caption is unavailable (withheld while grading): pass your own, "
                           "e.g. generate_fn=generate_caption") from err
    return generate_caption


# --------------------------------------------------------------------------------------- training


def caption_gpt_config(preset: ClipCapPreset, tokenizer: CaptionTokenizer) -> GPTConfig:
    return dataclasses.replace(preset.gpt, vocab_size=tokenizer.vocab_size)


def caption_stream(tokenizer: CaptionTokenizer, captions: list[str]) -> torch.Tensor:
    """All captions as one token stream, each followed by its end token: ``w w w <eos> w w <eos> ...`` (1-D int64).

    The caption GPT learns from random windows of this stream (as GPT-2 learns from windows of web
    text), so it sees captions start at every position. ClipCap then puts a caption after a prefix of
    P vectors; a GPT that had only seen captions start at position 1 would meet its words at positions
    it never saw them at, and no prefix could make up for it.
    """
    ids = []
    for caption in captions:
        ids += tokenizer.encode(caption) + [tokenizer.eos_id]
    return torch.tensor(ids, dtype=torch.long)


def scene_stream(tokenizer: CaptionTokenizer, shapes: ShapesConfig, num: int, split: str = "train") -> torch.Tensor:
    """The caption GPT's training text: every scene of a shapes split described twice in a row, a
    paraphrase then the canonical caption, as one :func:`caption_stream`.

    Why twice: in a stream of independent captions nothing before the last end token helps to predict
    the next caption, so the GPT learns to ignore what came before, and a frozen language model that
    ignores its context cannot be steered by a prefix (measured with 1000 mapper steps: the main
    object's colour right in 31 to 34 % of the captions, chance 21 %; size at chance). When the text
    before a caption describes the same scene, the GPT learns to read it; that is the ability ClipCap
    borrows from GPT-2, which learnt it from web text, and the prefix takes the place of the earlier
    description (the same mappers then name colour in 77 % and size in 83 % of the captions).
    """
    data = generate_shapes(dataclasses.replace(shapes, num_samples=num), split)
    return caption_stream(tokenizer, [c for pair in zip(data.captions, data.canonical_captions) for c in pair])


def stream_windows(stream: torch.Tensor, idx: torch.Tensor, length: int) -> torch.Tensor:
    """Windows ``stream[i : i + length]`` for each start ``i`` in ``idx``: (len(idx), length)."""
    return stream[idx.view(-1, 1) + torch.arange(length).view(1, -1)]  # (B, length)


def train_caption_gpt(gpt: GPT, stream: torch.Tensor, cfg: TrainConfig, batch_size: int, seed: int = 0) -> list[float]:
    """Train the course's GPT as a language model of captions on random windows of a :func:`caption_stream`
    (with :func:`vlcourse.training.train`, so also under torchrun).

    Returns:
        The training loss per step.
    """
    optimizer = torch.optim.AdamW(gpt.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    generator = torch.Generator().manual_seed(seed)
    T = gpt.config.block_size

    def windows():
        while True:
            yield stream_windows(stream, torch.randint(len(stream) - T - 1, (batch_size,), generator=generator), T + 1)

    next_token_loss = lambda m, batch: m(batch[:, :-1], batch[:, 1:])[1]  # noqa: E731  (B, T) inputs, next tokens as targets
    return train(gpt, windows(), next_token_loss, cfg, optimizer=optimizer, desc="caption gpt").loss


def clipcap_step(model: nn.Module, clip_embed: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor, lr: float = 1e-2) -> float:
    """One AdamW step on the parameters of ``model`` that require gradients; returns the loss.

    (What a ClipCap training step does: with a frozen language model only the mapper changes.)
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    model.train()
    _, loss = model(clip_embed, tokens, mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def train_mapper(model: nn.Module, data: CaptionData, cfg: TrainConfig, batch_size: int, seed: int = 0, desc: str = "mapper") -> list[float]:
    """Train a ClipCap model (its trainable parameters: the mapper) on ``data``; the loss per step.

    Under torchrun each rank's loss is the mean over its own share's caption tokens, so the step is
    the global batch's exactly when every share has as many tokens (see :mod:`vlcourse.distributed`).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(seed)

    device = next(model.parameters()).device  # the data stays on the CPU; each batch goes to the model

    def batches():
        while True:
            idx = torch.randint(len(data.tokens), (batch_size,), generator=generator)  # (B,)
            yield data.features[idx].to(device), data.tokens[idx].to(device), data.mask[idx].to(device)

    losses = train(model, batches(), lambda m, batch: m(*batch)[1], cfg, optimizer=optimizer, desc=desc).loss
    model.eval()
    return losses


def evaluate_captions(model: nn.Module, data: CaptionData, tokenizer: CaptionTokenizer | None = None,
                      generate_fn: Callable | None = None, beam_size: int = 1, num: int | None = None) -> dict:
    """Captions of ``data``'s images (``generate_fn``, default the reference) and their scores:
    BLEU-4 and CIDEr against the canonical caption, attribute accuracy of the main object."""
    tokenizer = tokenizer or CaptionTokenizer()
    generate_fn = generate_fn or reference_generate()
    n = len(data.captions) if num is None else min(num, len(data.captions))
    model.eval()
    with torch.no_grad():
        ids = generate_fn(model, data.features[:n], tokenizer.eos_id, max_length=CAPTION_LENGTH, beam_size=beam_size)
    captions = [tokenizer.decode(t) for t in ids]
    return score_captions(captions, data, n)


def score_captions(captions: list[str], data: CaptionData, n: int | None = None) -> dict:
    """``{"captions", "bleu4", "cider", "shape", "color", "size"}`` of captions for the first n images."""
    n = len(captions) if n is None else n
    labels = {k: v[:n] for k, v in data.labels.items()}
    scores = caption_scores(captions, [[c] for c in data.captions[:n]])
    return {"captions": captions, **scores, **attribute_accuracy(captions, labels, data.vocab)}


def nearest_caption_baseline(clip_model: nn.Module, clip_tokenizer, data: CaptionData, train_captions: list[str]) -> dict:
    """Retrieval instead of generation: each image gets the training caption CLIP finds most similar."""
    pool = list(dict.fromkeys(train_captions))  # distinct captions
    text = F.normalize(encode_texts(clip_model, clip_tokenizer, pool), dim=-1)  # (M, D)
    best = (F.normalize(data.features, dim=-1) @ text.T).argmax(dim=-1)  # (N,)
    return score_captions([pool[i] for i in best.tolist()], data)


def random_caption_baseline(data: CaptionData, train_captions: list[str], seed: int = 0) -> dict:
    """Chance: each image gets a random training caption."""
    rng = random.Random(seed)
    return score_captions([rng.choice(train_captions) for _ in data.captions], data)


# ------------------------------------------------------------------------------- reference checkpoints


def checkpoint_name(what: str, preset: str) -> str:
    """``caption_gpt_shapes_<preset>`` (what = "gpt") or ``clipcap_<mlp|transformer>_shapes_<preset>``."""
    return f"caption_gpt_shapes_{preset}" if what == "gpt" else f"clipcap_{what}_shapes_{preset}"


def load_caption_gpt(preset: str = "tiny", folder=None) -> tuple[GPTCaptionLM, CaptionTokenizer, CheckpointEntry]:
    """The reference caption GPT (frozen, eval mode) as a :class:`GPTCaptionLM`, its tokenizer and entry."""
    state, entry = load_checkpoint(checkpoint_name("gpt", preset), folder)
    gpt = GPT(GPTConfig(**entry.config["model"]))
    gpt.load_state_dict(state)
    return GPTCaptionLM(gpt).eval().requires_grad_(False), CaptionTokenizer(entry.config["words"]), entry


def load_mapper(kind: str, preset: str = "tiny", folder=None, mapper_cls: type[nn.Module] | None = None):
    """A reference mapper (``mapper_cls``: load the weights into this class instead): ``(mapper, entry)``."""
    state, entry = load_checkpoint(checkpoint_name(kind, preset), folder)
    mapper = (mapper_cls or reference_mapper(kind))(MapperConfig(**entry.config["mapper"]))
    mapper.load_state_dict(state)
    return mapper.eval(), entry


def load_reference(kind: str = "transformer", preset: str = "tiny", folder=None):
    """The reference ClipCap of a mapper kind: ``(model, caption tokenizer)`` (the ClipCap class: reference)."""
    lm, tokenizer, _ = load_caption_gpt(preset, folder)
    mapper, _ = load_mapper(kind, preset, folder)
    return reference_clipcap()(mapper, lm).eval(), tokenizer


def train_reference(preset: str = "tiny", folder=None, mappers_only: bool = False) -> CheckpointEntry:
    """Train the caption GPT and both mappers of a preset and save the three checkpoints.

    ``mappers_only``: keep the saved caption GPT of the preset and train (and save) only the mappers,
    e.g. after the CLIP checkpoint changed (the GPT never sees CLIP).
    """
    p = with_device(PRESETS[preset])
    if p.device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("this preset needs a GPU; use the 'tiny' preset on a CPU")
    clip_model, clip_tokenizer, _ = load_clip(p.clip, holding(clip_checkpoint_name(p.clip), folder))
    tokenizer = CaptionTokenizer()
    train = caption_data(clip_model, "train", p.num_train, p.shapes, tokenizer)
    val = caption_data(clip_model, "val", dry_run_size(300), p.shapes, tokenizer)
    if mappers_only:
        lm, _, _ = load_caption_gpt(preset, folder)
        return train_reference_mappers(preset, lm, train, val, folder, f"python -m vlcourse.clipcap --preset {preset} --mappers-only")
    command = f"python -m vlcourse.clipcap --preset {preset}"

    torch.manual_seed(p.seed)
    gpt = GPT(caption_gpt_config(p, tokenizer))
    start = time.perf_counter()
    losses = train_caption_gpt(gpt, scene_stream(tokenizer, p.shapes, p.num_train), p.gpt_train, p.gpt_batch_size, p.seed)
    gpt.eval()
    with torch.no_grad():
        val_stream = scene_stream(tokenizer, p.shapes, len(val.captions), "val")
        T = gpt.config.block_size
        windows = stream_windows(val_stream, torch.arange(0, len(val_stream) - T - 1, T), T + 1)
        val_loss = gpt(windows[:, :-1], windows[:, 1:])[1].item()
    state = {k: v for k, v in gpt.state_dict().items() if k != "lm_head.weight"}  # tied to wte
    save_checkpoint(checkpoint_name("gpt", preset), state, preset=preset, folder=folder, command=command,
                    config={"model": asdict(gpt.config), "train": asdict(p.gpt_train), "batch_size": p.gpt_batch_size,
                            "words": tokenizer.itos[3:], "num_train": p.num_train, "seed": p.seed,
                            "text": "scene_stream: each training scene's paraphrase, then its canonical caption"},
                    metrics={"train_loss": round(sum(losses[-20:]) / 20, 4), "val_loss": round(val_loss, 4),
                             "train_seconds": round(time.perf_counter() - start, 1)})
    return train_reference_mappers(preset, GPTCaptionLM(gpt), train, val, folder)


def train_reference_mappers(preset: str, lm: GPTCaptionLM, train: CaptionData, val: CaptionData, folder=None,
                            command: str | None = None) -> CheckpointEntry:
    """Train and save both reference mappers of a preset around a (frozen) caption GPT."""
    p = with_device(PRESETS[preset])
    tokenizer = CaptionTokenizer()
    command = command or f"python -m vlcourse.clipcap --preset {preset}"
    mapper_cfg = dataclasses.replace(p.mapper, clip_dim=train.features.shape[1], lm_dim=lm.embed_dim)
    entry = None
    for kind in MAPPER_KINDS:
        torch.manual_seed(p.seed)
        model = reference_clipcap()(reference_mapper(kind)(mapper_cfg), lm)
        start = time.perf_counter()
        losses = train_mapper(model, train, p.mapper_train, p.mapper_batch_size, p.seed, desc=kind)
        seconds = time.perf_counter() - start
        scores = evaluate_captions(model, val, tokenizer)
        metrics = {k: round(v, 4) for k, v in scores.items() if k != "captions"}
        entry = save_checkpoint(
            checkpoint_name(kind, preset), model.mapper.state_dict(), preset=preset, folder=folder, command=command,
            config={"kind": kind, "mapper": mapper_cfg.to_dict(), "train": asdict(p.mapper_train),
                    "batch_size": p.mapper_batch_size, "clip": f"clip_shapes_{p.clip}", "seed": p.seed},
            metrics={**metrics, "train_loss": round(sum(losses[-20:]) / 20, 4), "train_seconds": round(seconds, 1),
                     "params": sum(q.numel() for q in model.mapper.parameters())})
    return entry


def main(argv: list[str] | None = None) -> None:
    """``--preset``, ``--threads`` (see checkpoints.reference_training_main) and ``--mappers-only``."""
    import argparse
    import functools

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--mappers-only", action="store_true")
    known, rest = extra.parse_known_args(argv)
    reference_training_main("Train the reference caption GPT and ClipCap mappers on shapes "
                            "(--mappers-only: keep the saved caption GPT, train the two mappers).", PRESETS,
                            functools.partial(train_reference, mappers_only=known.mappers_only), rest)
