"""Training SimCLR on the digits, and the package's reference checkpoints.

:func:`train_simclr` runs the shared loop of vlcourse.training (warm-up + cosine schedule, progress
bar, periodic evaluation) with an injectable pair loss: notebooks pass the student's NT-Xent, the
collapse experiment passes the alignment-only loss. :func:`train_reference` trains a preset and
writes ``vlcourse/weights/simclr_digits_<preset>.safetensors`` with its manifest entry.

The reference losses live in vlcourse.simclr.losses, which assignment 01 withholds while grading,
so this module looks them up only when it needs a default.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from vlcourse.distributed import gather, with_device
from vlcourse.checkpoints import CheckpointEntry, load_checkpoint, read_manifest, save_checkpoint
from vlcourse.data.augment import two_views
from vlcourse.data.digits import load_digits_split
from vlcourse.simclr import losses
from vlcourse.simclr.evaluation import HEADLINE_METRIC, evaluate_encoder, extract_features, knn_accuracy
from vlcourse.simclr.model import PRESETS, Encoder, SimCLRConfig, SimCLRModel, save_encoder
from vlcourse.training import History, TrainConfig, train

__all__ = [
    "view_pair_batches", "train_simclr", "reference_name", "train_reference", "load_reference",
    "reference_metrics", "export_reference_encoder",
]

PairLoss = Callable[[Tensor, Tensor], Tensor]


def view_pair_batches(
    images: Tensor, cfg: SimCLRConfig, generator: torch.Generator
) -> Iterator[tuple[Tensor, Tensor]]:
    """Endless ``(x1, x2)`` batches: ``batch_size`` distinct random images, two views each, on ``cfg.device``."""
    batch_size = min(cfg.batch_size, len(images))
    while True:
        chosen = torch.randperm(len(images), generator=generator)[:batch_size]
        x1, x2 = two_views(images[chosen], cfg.augment, generator)
        yield x1.to(cfg.device), x2.to(cfg.device)


def train_simclr(
    cfg: SimCLRConfig,
    loss_fn: PairLoss,
    *,
    spread_fn: Callable[[Tensor], Tensor] | None = None,
    progress: bool = True,
) -> tuple[SimCLRModel, History]:
    """Train a :class:`SimCLRModel` on the 1,347 training digits (labels unused).

    Every ``cfg.eval_every`` steps (and after the last) the history records ``knn_acc`` (cosine
    kNN on the encoder's features, all training labels, scored on the test split) and, when
    ``spread_fn`` is given, ``embedding_std`` (``spread_fn`` of the test projections: the collapse
    metric).

    Both functions are passed in, never looked up: a notebook trains with the student's own loss
    and metric, so nothing here reaches reference code that grading withholds.

    Args:
        cfg: the run (notebooks shrink ``cfg.steps`` with vlcourse.budget).
        loss_fn: ``loss_fn(z1, z2)`` -> scalar, e.g. ``partial(nt_xent_loss, temperature=cfg.temperature)``
            (the collapse experiment passes an alignment-only loss).
        spread_fn: the collapse metric (e.g. ``embedding_std``); ``None``: not measured.
        progress: show a progress bar.

    Returns:
        ``(model, history)``; the model is in eval mode on ``cfg.device``.
    """
    torch.manual_seed(cfg.seed)
    model = SimCLRModel(cfg).to(cfg.device)
    generator = torch.Generator().manual_seed(cfg.seed)
    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")

    def model_loss(model: SimCLRModel, views: tuple[Tensor, Tensor]) -> Tensor:
        _, z1 = model(views[0])
        _, z2 = model(views[1])
        return loss_fn(gather(z1), gather(z2))  # under torchrun: every rank's projections, the global batch

    def evaluate() -> dict:
        train_feats = extract_features(model.encoder, train_images)
        test_feats = extract_features(model.encoder, test_images)
        metrics = {"knn_acc": knn_accuracy(train_feats, train_labels, test_feats, test_labels, k=cfg.knn_k)}
        if spread_fn is not None:
            metrics["embedding_std"] = float(spread_fn(extract_features(model, test_images)))
        return metrics

    train_cfg = TrainConfig(
        steps=cfg.steps,
        lr=cfg.lr,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        eval_every=cfg.eval_every,
        progress=progress,
    )
    history = train(
        model, view_pair_batches(train_images, cfg, generator), model_loss, train_cfg,
        evaluate=evaluate if cfg.eval_every else None, desc="simclr",
    )
    model.eval()
    return model, history


def reference_name(preset: str) -> str:
    """Checkpoint name of a preset in the manifest: ``simclr_digits_<preset>``."""
    return f"simclr_digits_{preset}"


def train_reference(preset: str = "tiny", *, folder: Path | None = None, progress: bool = True) -> CheckpointEntry:
    """Train a preset and save the whole :class:`SimCLRModel` as a checkpoint with a manifest entry.

    Writes ``simclr_digits_<preset>.safetensors`` into ``folder`` (default: vlcourse/weights) with
    the config, the command, the metrics of :func:`evaluate_encoder`, the same metrics of a
    random (untrained, same seed) encoder as ``random_encoder_*``, and the training time (wall
    clock and CPU seconds of this process).
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    cfg = with_device(PRESETS[preset])
    start, start_cpu = time.perf_counter(), time.process_time()
    model, history = train_simclr(cfg, partial(losses.nt_xent_loss, temperature=cfg.temperature),
                                  spread_fn=losses.embedding_std, progress=progress)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    metrics = evaluate_encoder(model.encoder, knn_k=cfg.knn_k)
    torch.manual_seed(cfg.seed)
    random_metrics = evaluate_encoder(Encoder(cfg.channels, cfg.feature_dim), knn_k=cfg.knn_k)
    metrics.update({f"random_encoder_{k}": v for k, v in random_metrics.items()})
    metrics.update(
        {
            "headline": HEADLINE_METRIC,
            "final_loss": float(np.mean(history.loss[-20:])),
            "train_seconds": round(seconds, 1),
            "train_cpu_seconds": round(cpu_seconds, 1),
            "torch_threads": torch.get_num_threads(),
        }
    )
    return save_checkpoint(
        reference_name(preset),
        model.cpu().state_dict(),
        preset=preset,
        config=cfg.to_dict(),
        command=f"vlcourse train simclr --preset {preset}",
        metrics=metrics,
        folder=folder,
    )


def load_reference(preset: str = "tiny", folder: Path | None = None) -> SimCLRModel:
    """The reference :class:`SimCLRModel` of a preset (sha256-checked), on the CPU, in eval mode."""
    state, entry = load_checkpoint(reference_name(preset), folder)
    model = SimCLRModel(SimCLRConfig.from_dict(entry.config))
    model.load_state_dict(state)
    return model.eval()


def reference_metrics(preset: str = "tiny", folder: Path | None = None) -> dict:
    """The metrics the manifest records for a preset's checkpoint (its own and the random encoder's)."""
    entries = read_manifest(folder)
    name = reference_name(preset)
    if name not in entries:
        raise KeyError(f"no checkpoint {name!r} in the manifest; train it with `vlcourse train simclr --preset {preset}`")
    return dict(entries[name].metrics)


def export_reference_encoder(path: str | Path, preset: str = "tiny") -> Path:
    """Save the reference checkpoint's encoder with :func:`save_encoder`: what a correct submission hands in."""
    return save_encoder(load_reference(preset).encoder, path)


def export_untrained_encoder(path: str | Path, preset: str = "tiny", seed: int = 0) -> Path:
    """Save a freshly initialised encoder of the reference's shape: a hand-in that never trained
    (the file mutant of ``vlcourse verify --mutants``, which must lose points)."""
    _, entry = load_checkpoint(reference_name(preset))
    torch.manual_seed(seed)
    return save_encoder(SimCLRModel(SimCLRConfig.from_dict(entry.config)).encoder, path)


def main(argv: list[str] | None = None) -> None:
    from vlcourse.checkpoints import reference_training_main

    reference_training_main("Train a reference SimCLR encoder on the digits.", PRESETS, train_reference, argv)
