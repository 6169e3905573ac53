"""Training the MAE: data, presets, the loop, evaluation and the reference checkpoints.

The graded pieces (``patchify``, ``mae_loss``, the encoder, ``unshuffle``) are arguments here,
resolved to the reference ones only when none is given, so the notebook trains and evaluates with
the student's own code and nothing here reaches a withheld file while assignment 03 is graded.

Train the shipped checkpoint with ``python -m vlcourse.mae --preset tiny`` (or ``vlcourse train mae``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from vlcourse.checkpoints import CheckpointEntry, load_checkpoint, read_manifest, save_checkpoint, reference_training_main
from vlcourse.data.shapes import ShapesConfig, generate_shapes
from vlcourse.mae.config import MAEConfig
from vlcourse.mae.model import MAE
from vlcourse.distributed import with_device
from vlcourse.training import History, TrainConfig, train

__all__ = [
    "DATASETS", "MAE_SHAPES", "MAEPreset", "PRESETS", "TrainedMAE", "load_images", "probe_data", "reference_patchify",
    "reference_loss", "masking_noise", "make_optimizer", "train_mae", "reconstruction_loss",
    "mean_image_loss", "extract_features", "probe_accuracy", "random_encoder_probe", "mask_ratio_sweep", "train_preset", "checkpoint_name", "save_mae",
    "load_mae", "save_reference", "train_reference", "load_reference", "reference_metrics",
    "export_reference_mae", "main",
]

DATASETS = ("shapes", "cifar10")
# The shapes of assignment 03: the course's generated 32x32 images with bigger objects and at most two
# per image, so that a 4x4 patch shows a piece of an object more often than the default scenes do.
MAE_SHAPES = ShapesConfig(image_size=32, min_objects=1, max_objects=2, small_radius=0.12, large_radius=0.2)
PatchifyFn = Callable[[torch.Tensor, int], torch.Tensor]
LossFn = Callable[..., torch.Tensor]


# ----------------------------------------------------------------------------------------------- data


def load_images(dataset: str, split: str, num: int | None = None, shapes: ShapesConfig | None = None) -> torch.Tensor:
    """Float images in [0, 1], shape (N, 3, 32, 32).

    Args:
        dataset: ``"shapes"`` (generated, offline; ``split`` is "train", "val" or "heldout") or
            ``"cifar10"`` (downloaded once with a checksum; ``split`` "train" or "test").
        split: which split.
        num: how many (shapes: generated; CIFAR-10: the first ``num``); None: shapes' ``num_samples``,
            all of CIFAR-10.
        shapes: the Shapes config (default :data:`MAE_SHAPES`).
    """
    if dataset == "shapes":
        cfg = shapes or MAE_SHAPES
        if num is not None:
            cfg = dataclasses.replace(cfg, num_samples=num)
        return generate_shapes(cfg, split).images.float() / 255.0  # (N, 3, 32, 32)
    if dataset == "cifar10":
        from vlcourse.data.cifar import load_cifar10

        images, _ = load_cifar10(split)
        return images[:num].float() / 255.0  # (N, 3, 32, 32)
    raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


def probe_data(dataset: str, num_train: int, num_test: int, shapes: ShapesConfig | None = None, seed: int = 100
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Labelled images for a linear probe: ``(train_images, train_labels, test_images, test_labels)``.

    Shapes: images of a single object (so "the shape" is well defined), labelled with its shape
    (5 classes), from their own seed (never seen in pre-training). CIFAR-10: its 10 classes, the first
    ``num_train`` training and ``num_test`` test images.
    """
    if dataset == "shapes":
        base = shapes or MAE_SHAPES
        cfg = dataclasses.replace(base, min_objects=1, max_objects=1, seed=seed, num_samples=num_train)
        train_data = generate_shapes(cfg, "train")
        test_data = generate_shapes(dataclasses.replace(cfg, num_samples=num_test), "val")
        return (train_data.images.float() / 255.0, train_data.labels["shape"],
                test_data.images.float() / 255.0, test_data.labels["shape"])
    if dataset == "cifar10":
        from vlcourse.data.cifar import load_cifar10

        train_images, train_labels = load_cifar10("train")
        test_images, test_labels = load_cifar10("test")
        return (train_images[:num_train].float() / 255.0, train_labels[:num_train],
                test_images[:num_test].float() / 255.0, test_labels[:num_test])
    raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


# ------------------------------------------------------------------------------------------ presets


@dataclass
class MAEPreset:
    """A named recipe: model, schedule, data and where to run.

    Attributes:
        model: the MAE's size and mask ratio.
        train: steps, learning-rate schedule, weight decay, clipping, evaluation interval.
        batch_size: images per step.
        dataset: ``"shapes"`` or ``"cifar10"``.
        shapes: the Shapes config (``dataset == "shapes"``).
        num_train: training images (shapes: generated once; CIFAR-10: the first ``num_train``).
        num_val: held-out images the reconstruction loss is measured on.
        probe_train, probe_test: labelled images of the linear probe.
        beta2: AdamW's second-moment decay (the authors' 0.95).
        device, seed, threads, description: where and how to run.
    """

    model: MAEConfig
    train: TrainConfig
    batch_size: int
    dataset: str = "shapes"
    shapes: ShapesConfig = field(default_factory=lambda: MAE_SHAPES)
    num_train: int = 10_000
    num_val: int = 500
    probe_train: int = 1000
    probe_test: int = 500
    beta2: float = 0.95
    device: str = "cpu"
    seed: int = 0
    threads: int | None = None
    description: str = ""

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")


PRESETS: dict[str, MAEPreset] = {
    # Trains on 2 CPU cores in a minute or two and ships with the package; the notebook's part 7 is
    # the same run. Batches of 64 got out of the early "predict the mean image" plateau in the fewest
    # CPU seconds (32: too many steps; 128: too few).
    "tiny": MAEPreset(
        model=MAEConfig(),
        train=TrainConfig(steps=1000, lr=5e-3, min_lr=5e-4, warmup_steps=20, weight_decay=0.05,
                          grad_clip=None, eval_every=100, progress=True),
        batch_size=64,
        description="encoder 2 blocks x 64, decoder 1 block x 64, 75 % masking, 1000 steps of 64 shapes "
                    "images: a minute or two on 2 CPU cores",
    ),
    # A ViT-Tiny-sized MAE on the shapes (patch 4: 64 patches) for an instructor's GPU, sized for the GPU day
    # (vlcourse.gpu_day: all gpu presets in 6 minutes on one H100; offline, so the generated shapes, not CIFAR-10).
    "gpu": MAEPreset(
        model=MAEConfig(embed_dim=192, depth=12, num_heads=3, decoder_embed_dim=128, decoder_depth=4,
                        decoder_num_heads=4, mask_ratio=0.75, norm_pix_loss=False),
        train=TrainConfig(steps=3000, lr=1.5e-3, min_lr=1e-5, warmup_steps=200, weight_decay=0.05,
                          grad_clip=None, eval_every=1000, progress=True),
        batch_size=256,
        dataset="shapes",
        num_train=20_000,
        num_val=1000,
        probe_train=5000,
        probe_test=1000,
        device="cuda",
        description="ViT-Tiny-sized encoder (12 x 192), decoder 4 x 128, 3000 steps of 256 shapes images: "
                    "about a minute on one GPU",
    ),
}


# --------------------------------------------------------------------------- the graded pieces, lazily


def reference_patchify() -> PatchifyFn:
    """The reference :func:`~vlcourse.mae.patches.patchify`, imported on first use."""
    try:
        from vlcourse.mae.patches import patchify
    except ImportError as err:
        raise RuntimeError("the reference patchify is unavailable (withheld while grading): "
                           "pass your own, e.g. patchify_fn=patchify") from err
    return patchify


def reference_loss() -> LossFn:
    """The reference :func:`~vlcourse.mae.loss.mae_loss`, imported on first use."""
    try:
        from vlcourse.mae.loss import mae_loss
    except ImportError as err:
        raise RuntimeError("the reference mae_loss is unavailable (withheld while grading): "
                           "pass your own, e.g. loss_fn=mae_loss") from err
    return mae_loss


# --------------------------------------------------------------------------------------- training


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, beta2: float = 0.95) -> torch.optim.AdamW:
    """AdamW (the authors' betas (0.9, 0.95)) decaying weight matrices only, not biases, LayerNorm
    gains, the class token or the mask token (as the authors' ``param_groups_weight_decay``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() == 2], "weight_decay": weight_decay},  # Linear weights
        {"params": [p for p in params if p.dim() != 2], "weight_decay": 0.0},  # biases, gains, (1, 1, D) tokens
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, beta2), foreach=True)  # foreach: fewer small ops per step


def masking_noise(n: int, num_patches: int, seed: int) -> torch.Tensor:
    """Fixed masking noise (n, L) for evaluations: the same masks for the same ``seed``."""
    return torch.rand(n, num_patches, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def reconstruction_loss(
    model: MAE, images: torch.Tensor, mask_ratio: float | None = None, *, loss_fn: LossFn | None = None,
    patchify_fn: PatchifyFn | None = None, seed: int = 0, batch_size: int = 250,
) -> float:
    """The MAE loss on ``images`` (eval mode, fixed masks from ``seed``), averaged over all removed patches.

    Args:
        model: the MAE (its ``config.norm_pix_loss`` picks the target).
        images: (N, C, H, W).
        mask_ratio: default ``model.config.mask_ratio``.
        loss_fn: ``mae_loss`` (default the reference one).
        patchify_fn: ``patchify`` (default the reference one).
        seed: of the masking noise (:func:`masking_noise`).
        batch_size: images per forward pass.
    """
    loss_fn = loss_fn or reference_loss()
    patchify_fn = patchify_fn or reference_patchify()
    cfg = model.config
    ratio = cfg.mask_ratio if mask_ratio is None else mask_ratio
    device = next(model.parameters()).device
    noise = masking_noise(len(images), cfg.num_patches, seed)
    was_training = model.training
    model.eval()
    total, removed = 0.0, 0.0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device)
        pred, mask = model(x, ratio, noise[start:start + batch_size].to(device))
        count = float(mask.sum())
        total += float(loss_fn(pred, patchify_fn(x, cfg.patch_size), mask, cfg.norm_pix_loss)) * count
        removed += count
    model.train(was_training)
    return total / removed


@torch.no_grad()
def mean_image_loss(
    train_images: torch.Tensor, images: torch.Tensor, config: MAEConfig, *, loss_fn: LossFn | None = None,
    patchify_fn: PatchifyFn | None = None,
) -> float:
    """The loss of a model that knows no image: it predicts every patch as the mean training image's
    (the baseline a trained MAE must beat; with ``norm_pix_loss``, the normalised patches' mean, 0).

    Such a prediction ignores the visible patches, and the removed patches are a uniformly random
    subset, so its loss over the removed patches is, in expectation over the masks, its loss over
    all patches: that is what is returned (no masks needed).
    """
    loss_fn = loss_fn or reference_loss()
    patchify_fn = patchify_fn or reference_patchify()
    target = patchify_fn(images, config.patch_size)  # (N, L, P)
    if config.norm_pix_loss:
        guess = torch.zeros_like(target)  # normalised patches have mean 0
    else:
        guess = patchify_fn(train_images.mean(dim=0, keepdim=True), config.patch_size).expand_as(target)  # (N, L, P)
    every_patch = torch.ones(target.shape[:2], dtype=target.dtype)  # (N, L)
    return float(loss_fn(guess, target, every_patch, config.norm_pix_loss))


def train_mae(
    model: MAE, images: torch.Tensor, cfg: TrainConfig, batch_size: int, *, val_images: torch.Tensor | None = None,
    loss_fn: LossFn | None = None, patchify_fn: PatchifyFn | None = None, beta2: float = 0.95, seed: int = 0,
    device: str | torch.device | None = None, desc: str = "mae",
) -> History:
    """Train ``model`` on random batches of ``images`` with :func:`vlcourse.training.train`.

    Each step draws ``batch_size`` images and fresh random masks (both from a generator seeded with
    ``seed``, so a run is reproducible), and minimises ``loss_fn(pred, patchify_fn(x, p), mask,
    norm_pix)`` at the model's ``config.mask_ratio``. Warm-up + cosine learning rate, AdamW
    (:func:`make_optimizer`). Every ``cfg.eval_every`` steps the history records ``val_loss`` (the
    loss on ``val_images`` with fixed masks, when given), ``seconds`` and ``cpu_seconds``.

    Args:
        model: the MAE, already on ``device``.
        images: (N, C, H, W) training images in [0, 1].
        cfg: steps, schedule, weight decay, clipping, evaluation interval.
        batch_size: images per step.
        val_images: held-out images for the evaluations.
        loss_fn: ``mae_loss`` (default the reference one); the notebook passes the student's.
        patchify_fn: ``patchify`` for the targets (default the reference one).
        beta2: AdamW's beta2.
        seed: of the batches and masks.
        device: where batches go (default: the model's device).
        desc: progress bar label.

    Returns:
        The :class:`~vlcourse.training.History`.
    """
    loss_fn = loss_fn or reference_loss()
    patchify_fn = patchify_fn or reference_patchify()
    config = model.config
    device = device or next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    mask_gen = torch.Generator(device=device).manual_seed(seed + 1)

    patches = (config.image_size // config.patch_size) ** 2

    def batches():  # the masking noise is drawn with the batch, so torchrun's ranks share one global batch's masks
        while True:
            x = images[torch.randint(len(images), (batch_size,), generator=gen)].to(device)  # (B, C, H, W)
            yield x, torch.rand(batch_size, patches, generator=mask_gen, device=device)  # (B, L)

    def step_loss(m: MAE, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, noise = batch
        pred, mask = m(x, noise=noise)  # (B, L, P), (B, L)
        return loss_fn(pred, patchify_fn(x, config.patch_size), mask, config.norm_pix_loss)

    start, cpu_start = time.perf_counter(), time.process_time()

    def evaluate() -> dict:
        metrics = {"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start}
        if val_images is not None:
            metrics["val_loss"] = reconstruction_loss(model, val_images, loss_fn=loss_fn, patchify_fn=patchify_fn)
            if cfg.progress:
                tqdm.write(f"{desc}: val loss {metrics['val_loss']:.4f} after {metrics['seconds']:.0f} s")
        return metrics

    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay, beta2)
    return train(model, batches(), step_loss, cfg, evaluate=evaluate, optimizer=optimizer, desc=desc)


# ------------------------------------------------------------------------------------ linear probe


@torch.no_grad()
def extract_features(encoder: nn.Module, images: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """Frozen encoder features: the mean of the encoder's outputs over all patches (no masking).

    The MAE paper probes the class token; for models trained as briefly as ours, the average of the
    patch tokens is the stronger (and the usual alternative) summary. The encoder runs in eval mode
    with ``mask_ratio=0`` (every patch visible; the order random_masking puts them in does not change
    a mean).

    Args:
        encoder: an MAE encoder, ``encoder(imgs, 0.0, generator=...) -> (latent, mask, ids_restore)``.
        images: (N, C, H, W).
        batch_size: images per forward pass.

    Returns:
        float32 (N, embed_dim) on the CPU; the encoder's train/eval mode is restored.
    """
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    gen = torch.Generator(device=device).manual_seed(0)
    chunks = []
    for start in range(0, len(images), batch_size):
        latent, _, _ = encoder(images[start:start + batch_size].to(device), 0.0, generator=gen)  # (B, 1 + L, D)
        chunks.append(latent[:, 1:].mean(dim=1).float().cpu())  # (B, D)
    encoder.train(was_training)
    return torch.cat(chunks)  # (N, D)


def probe_accuracy(encoder: nn.Module, data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]) -> float:
    """Test accuracy of a logistic-regression probe on :func:`extract_features` (SimCLR's linear
    evaluation protocol, :func:`vlcourse.simclr.evaluation.linear_probe_accuracy`).

    Args:
        encoder: the frozen encoder.
        data: ``(train_images, train_labels, test_images, test_labels)``, e.g. from :func:`probe_data`.
    """
    from vlcourse.simclr.evaluation import linear_probe_accuracy

    train_images, train_labels, test_images, test_labels = data
    return linear_probe_accuracy(extract_features(encoder, train_images), train_labels,
                                 extract_features(encoder, test_images), test_labels)


def random_encoder_probe(config: MAEConfig, probe, seeds=(0,), encoder_cls: type[nn.Module] | None = None) -> list[float]:
    """:func:`probe_accuracy` of untrained encoders (one per seed of ``torch.manual_seed``): the baseline."""
    from vlcourse.mae.model import reference_encoder

    encoder_cls = encoder_cls or reference_encoder()
    scores = []
    for seed in seeds:
        torch.manual_seed(seed)
        scores.append(probe_accuracy(encoder_cls(config), probe))
    return scores


def mask_ratio_sweep(
    ratios, config: MAEConfig, train_cfg: TrainConfig, batch_size: int, train_images: torch.Tensor,
    val_images: torch.Tensor, probe, *, seeds=(0,), encoder_cls: type[nn.Module] | None = None,
    unshuffle_fn: Callable | None = None, loss_fn: LossFn | None = None, patchify_fn: PatchifyFn | None = None,
    log: Callable[[str], None] | None = print,
) -> list[dict]:
    """Train one MAE per mask ratio and seed (same model, schedule and data) and measure each.

    Returns one row per run: ``mask_ratio``, ``seed``, ``val_loss`` (held-out loss at the ratio it was
    trained with), ``val_loss_75`` (at 75 %, a common yardstick), ``probe_acc`` (:func:`probe_accuracy`
    of its encoder on ``probe``) and ``seconds`` (training wall time).
    """
    rows = []
    for ratio in ratios:
        for seed in seeds:
            torch.manual_seed(seed)
            model = MAE(dataclasses.replace(config, mask_ratio=ratio), encoder_cls, unshuffle_fn)
            start = time.perf_counter()
            train_mae(model, train_images, dataclasses.replace(train_cfg, progress=False, eval_every=0), batch_size,
                      loss_fn=loss_fn, patchify_fn=patchify_fn, seed=seed)
            seconds = time.perf_counter() - start
            pieces = {"loss_fn": loss_fn, "patchify_fn": patchify_fn}
            row = {"mask_ratio": ratio, "seed": seed,
                   "val_loss": reconstruction_loss(model, val_images, ratio, **pieces),
                   "val_loss_75": reconstruction_loss(model, val_images, 0.75, **pieces),
                   "probe_acc": probe_accuracy(model.encoder, probe), "seconds": seconds}
            rows.append(row)
            if log:
                log(f"mask ratio {ratio:.0%}, seed {seed}: held-out loss {row['val_loss']:.4f} "
                    f"(at 75 %: {row['val_loss_75']:.4f}), probe accuracy {row['probe_acc']:.3f}, {seconds:.0f} s")
    return rows


# ------------------------------------------------------------------------------------ presets, runs


@dataclass
class TrainedMAE:
    """What :func:`train_preset` returns."""

    model: MAE
    history: History
    seconds: float
    preset: MAEPreset = field(repr=False)
    val_images: torch.Tensor = field(repr=False)
    train_images: torch.Tensor = field(repr=False)


def train_preset(preset: str | MAEPreset, *, encoder_cls: type[nn.Module] | None = None,
                 unshuffle_fn: Callable | None = None, loss_fn: LossFn | None = None,
                 patchify_fn: PatchifyFn | None = None) -> TrainedMAE:
    """Build and train the MAE of a preset (a name in :data:`PRESETS` or an :class:`MAEPreset`).

    The graded pieces default to the reference ones. Adjust a preset with ``dataclasses.replace``,
    e.g. a few CPU steps of the GPU recipe on the shapes::

        p = PRESETS["gpu"]
        p = dataclasses.replace(p, device="cpu", dataset="shapes", batch_size=4,
                                train=dataclasses.replace(p.train, steps=3, warmup_steps=1))
    """
    preset = with_device(PRESETS[preset] if isinstance(preset, str) else preset)
    if preset.device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"this preset runs on {preset.device!r} but no CUDA device is available; use the 'tiny' "
                           "preset, or dataclasses.replace(preset, device='cpu') (slow)")
    if preset.threads is not None:
        torch.set_num_threads(preset.threads)
    train_split, val_split = ("train", "val") if preset.dataset == "shapes" else ("train", "test")
    train_images = load_images(preset.dataset, train_split, preset.num_train, preset.shapes)
    val_images = load_images(preset.dataset, val_split, preset.num_val, preset.shapes)
    torch.manual_seed(preset.seed)
    model = MAE(preset.model, encoder_cls, unshuffle_fn).to(preset.device)
    start = time.perf_counter()
    history = train_mae(model, train_images, preset.train, preset.batch_size, val_images=val_images,
                        loss_fn=loss_fn, patchify_fn=patchify_fn, beta2=preset.beta2, seed=preset.seed,
                        device=preset.device, desc=f"mae {preset.dataset}")
    return TrainedMAE(model, history, time.perf_counter() - start, preset, val_images, train_images)


def checkpoint_name(preset: str) -> str:
    dataset = PRESETS[preset].dataset if preset in PRESETS else "shapes"
    return f"mae_{dataset}_{preset}"


def save_mae(model: MAE, path: str | Path) -> Path:
    """Write the model's weights and config (safetensors metadata) to ``path``; see :func:`load_mae`."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"config": json.dumps(model.config.to_dict())})
    return path


def load_mae(path: str | Path, encoder_cls: type[nn.Module] | None = None, unshuffle_fn: Callable | None = None,
             device: str = "cpu") -> MAE:
    """The MAE saved by :func:`save_mae` (eval mode), built with the given encoder class and unshuffle."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if "config" not in metadata:
        raise ValueError(f"{path} has no MAE config in its metadata; save it with vlcourse.mae.save_mae")
    model = MAE(MAEConfig(**json.loads(metadata["config"])), encoder_cls, unshuffle_fn)
    model.load_state_dict(load_file(str(path)))
    return model.to(device).eval()


def save_reference(result: TrainedMAE, preset_name: str, folder=None, command: str | None = None) -> CheckpointEntry:
    """Write ``mae_<dataset>_<preset>.safetensors`` and its manifest entry, with the reference's metrics:
    held-out reconstruction loss (``val_loss``), the mean-image baseline, and linear-probe accuracy of
    the encoder and of a random encoder of the same architecture."""
    model = result.model.eval()
    preset = result.preset
    device = next(model.parameters()).device
    probe = probe_data(preset.dataset, preset.probe_train, preset.probe_test, preset.shapes)
    torch.manual_seed(preset.seed + 1)
    random_encoder = type(model.encoder)(model.config).to(device)
    metrics = {
        "val_loss": round(reconstruction_loss(model, result.val_images), 5),
        "mean_image_loss": round(mean_image_loss(result.train_images, result.val_images, model.config), 5),
        "probe_acc": round(probe_accuracy(model.encoder, probe), 4),
        "random_encoder_probe_acc": round(probe_accuracy(random_encoder, probe), 4),
        "steps": preset.train.steps,
        "train_seconds": round(result.seconds, 1),
        "train_cpu_seconds": round(result.history.last_eval().get("cpu_seconds", float("nan")), 1),
        "torch_threads": torch.get_num_threads(),
        "params": model.num_params(),
    }
    config = {
        "model": model.config.to_dict(),
        "train": asdict(preset.train),
        "batch_size": preset.batch_size,
        "dataset": preset.dataset,
        "shapes": asdict(preset.shapes),
        "num_train": preset.num_train,
        "num_val": preset.num_val,
        "probe": {"train": preset.probe_train, "test": preset.probe_test, "label": "shape" if preset.dataset == "shapes" else "class"},
        "beta2": preset.beta2,
        "seed": preset.seed,
        "device": preset.device,
    }
    config = json.loads(json.dumps(config))  # as the manifest will give it back (tuples become lists)
    return save_checkpoint(checkpoint_name(preset_name), model.state_dict(), preset=preset_name, config=config,
                           command=command or f"python -m vlcourse.mae --preset {preset_name}", metrics=metrics,
                           folder=folder)


def train_reference(preset: str = "tiny", folder=None) -> CheckpointEntry:
    """Train a preset with the reference pieces and save it as the reference checkpoint."""
    return save_reference(train_preset(preset), preset, folder=folder)


def load_reference(preset: str = "tiny", folder=None, encoder_cls: type[nn.Module] | None = None,
                   unshuffle_fn: Callable | None = None) -> tuple[MAE, CheckpointEntry]:
    """The reference MAE of a preset (eval mode, CPU) and its manifest entry.

    ``encoder_cls`` / ``unshuffle_fn``: build the model with these instead of the reference ones (an
    encoder must subclass :class:`~vlcourse.mae.model.MAEEncoderBase`, so the weights load into it).
    """
    state, entry = load_checkpoint(checkpoint_name(preset), folder)
    model = MAE(MAEConfig(**entry.config["model"]), encoder_cls, unshuffle_fn)
    model.load_state_dict(state)
    return model.eval(), entry


def reference_metrics(preset: str = "tiny", folder=None) -> dict:
    """The manifest metrics of a reference checkpoint (without loading its weights)."""
    return dict(read_manifest(folder)[checkpoint_name(preset)].metrics)


def export_reference_mae(path: str | Path, preset: str = "tiny") -> Path:
    """Save the reference checkpoint with :func:`save_mae`: what a correct submission of 03 hands in."""
    model, _ = load_reference(preset)
    return save_mae(model, path)


def export_untrained_mae(path: str | Path, preset: str = "tiny", seed: int = 0) -> Path:
    """Save a freshly initialised MAE of the reference's shape: a hand-in that never trained (file mutant)."""
    _, entry = load_checkpoint(checkpoint_name(preset))
    torch.manual_seed(seed)
    return save_mae(MAE(MAEConfig(**entry.config["model"])), path)


def main(argv: list[str] | None = None) -> None:
    reference_training_main("Train a reference MAE (tiny: shapes on a CPU; gpu: a ViT-Tiny on shapes on a GPU).", PRESETS, train_reference, argv)
