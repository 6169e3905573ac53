"""SimCLR on handwritten digits: the reference implementation behind assignment 01.

SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for Contrastive Learning of
Visual Representations", https://arxiv.org/abs/2002.05709) learns an image encoder without labels:
two random augmentations ("views") of each image go through an encoder ``f`` and a small projection
head ``g``; the NT-Xent loss pulls the two projections of the same image together and pushes them
away from the projections of every other image in the batch. After training the head is thrown
away and the encoder's features ``h = f(x)`` are used downstream (here: kNN and linear probes).

Contents, top to bottom:

* :class:`SimCLRConfig` and :data:`PRESETS` (``tiny``: a 2-core CPU in about a minute; ``gpu``).
* Losses: :func:`pairwise_cosine_similarity`, :func:`nt_xent_loss`, :func:`alignment_only_loss`
  (the objective that collapses) and the collapse metric :func:`embedding_std`.
* Model: :class:`Encoder` (B, 1, 8, 8) -> (B, feature_dim), :class:`ProjectionHead`,
  :class:`SimCLRModel` whose ``forward`` returns ``(h, z)``.
* Training: :func:`train_step` (one step, the graded cell's answer) and :func:`train_simclr`.
* Evaluation: :func:`extract_features`, :func:`knn_accuracy`, :func:`linear_probe_accuracy`,
  :func:`evaluate_encoder`.
* Weights: :func:`save_encoder` / :func:`load_encoder` (safetensors, for student encoders),
  :func:`train_reference` / :func:`load_reference` (the package's checkpoints and manifest).

**The headline metric** is ``probe_acc_5pc``: a linear probe trained on the frozen features of only
5 labelled images per class (50 labels), averaged over 5 random draws of those labels, scored on
the 450 test images. Digits are easy: with *all* 1,347 labels a linear probe (or a kNN) on raw
pixels or on a random, untrained encoder already scores 90–98 %, which hides what pre-training
adds. With a handful of labels the gap between a random encoder and a SimCLR encoder is large,
which is the point of self-supervised pre-training.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vlcourse.checkpoints import CheckpointEntry, load_checkpoint, save_checkpoint
from vlcourse.data.augment import AugmentConfig, two_views
from vlcourse.data.digits import DIGITS_IMAGE_SIZE, DIGITS_NUM_CLASSES, load_digits_split
from vlcourse.training import History, TrainConfig, train

HEADLINE_METRIC = "probe_acc_5pc"
COSINE_EPS = 1e-8


@dataclass
class SimCLRConfig:
    """Everything that defines a SimCLR run on digits.

    Attributes:
        channels: output channels of the encoder's conv blocks; the first block keeps 8×8, every
            later block halves the resolution (stride 2).
        feature_dim: size of the encoder's features ``h`` (what downstream tasks use).
        proj_hidden_dim: hidden width of the projection head.
        proj_dim: size of the projections ``z`` (what the loss sees).
        temperature: NT-Xent temperature τ (the paper's best for large batches is 0.1–0.5).
        batch_size: images per step (each gives 2 views, so the loss sees 2 × batch_size).
        steps: optimiser steps.
        lr: peak learning rate (AdamW; warm-up then cosine decay, see vlcourse.training).
        weight_decay: AdamW's decoupled weight decay.
        warmup_steps: linear warm-up steps.
        eval_every: evaluate kNN accuracy and embedding spread every this many steps (0: never).
        knn_k: neighbours of the kNN evaluation.
        seed: seeds the weights, the batches and the augmentations.
        device: ``"cpu"`` or ``"cuda"`` (the ``gpu`` preset).
        augment: augmentation strengths (see vlcourse.data.augment).
    """

    channels: tuple[int, ...] = (32, 64)
    feature_dim: int = 64
    proj_hidden_dim: int = 64
    proj_dim: int = 32
    temperature: float = 0.5
    batch_size: int = 256
    steps: int = 500
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    eval_every: int = 100
    knn_k: int = 10
    seed: int = 0
    device: str = "cpu"
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        if isinstance(self.augment, dict):  # configs read back from a manifest
            self.augment = AugmentConfig(**self.augment)
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must be a non-empty tuple of positive widths, e.g. (32, 64); got {self.channels}")
        if DIGITS_IMAGE_SIZE % 2 ** (len(self.channels) - 1):
            raise ValueError(
                f"{len(self.channels)} conv blocks halve 8×8 images {len(self.channels) - 1} times; "
                "use at most 4 blocks"
            )
        for name in ("feature_dim", "proj_hidden_dim", "proj_dim", "batch_size", "steps", "knn_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2: NT-Xent needs other images as negatives")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 (try 0.1–0.5), got {self.temperature}")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"need lr > 0 and weight_decay >= 0, got lr={self.lr}, weight_decay={self.weight_decay}")
        if not 0 <= self.warmup_steps <= self.steps:
            raise ValueError(f"warmup_steps must lie in [0, steps={self.steps}], got {self.warmup_steps}")
        if self.eval_every < 0:
            raise ValueError("eval_every must be >= 0 (0 disables evaluation during training)")
        if self.device.split(":")[0] not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'mps', got {self.device!r}")

    def to_dict(self) -> dict:
        """Plain JSON-able data (tuples become lists), for manifests."""
        raw = asdict(self)
        raw["channels"] = list(self.channels)
        raw["augment"] = self.augment.to_dict()
        return raw

    @classmethod
    def from_dict(cls, raw: dict) -> SimCLRConfig:
        return cls(**raw)


PRESETS: dict[str, SimCLRConfig] = {
    # About a minute on 2 CPU cores; the committed checkpoint vlcourse/weights/simclr_digits_tiny.
    "tiny": SimCLRConfig(),
    # An instructor's GPU: wider, bigger batches (most of the 1,347 training images per step), longer.
    "gpu": SimCLRConfig(
        channels=(64, 128, 128),
        feature_dim=128,
        proj_hidden_dim=256,
        proj_dim=64,
        batch_size=1024,
        steps=5000,
        lr=2e-3,
        warmup_steps=200,
        eval_every=500,
        device="cuda",
    ),
}


# --------------------------------------------------------------------------------------------------
# Losses


def _l2_normalize(x: Tensor, eps: float = COSINE_EPS) -> Tensor:
    """Rows divided by their L2 norm; rows shorter than ``eps`` are divided by ``eps`` (stay ~0)."""
    return x / x.norm(dim=-1, keepdim=True).clamp_min(eps)


def _check_pair_batch(z1: Tensor, z2: Tensor, name: str) -> None:
    if z1.ndim != 2 or z2.ndim != 2:
        raise ValueError(
            f"{name} expects z1 and z2 of shape (N, D); got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )
    if z1.shape != z2.shape:
        raise ValueError(
            f"{name}: z1 and z2 must have the same shape (row i of each is one positive pair); "
            f"got {tuple(z1.shape)} and {tuple(z2.shape)}"
        )


def pairwise_cosine_similarity(a: Tensor, b: Tensor, eps: float = COSINE_EPS) -> Tensor:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    ``sim[i, j] = <a_i, b_j> / (max(|a_i|, eps) * max(|b_j|, eps))``: a zero vector has
    similarity 0 with everything instead of producing NaN.

    Args:
        a: shape (N, D).
        b: shape (M, D).

    Returns:
        similarities, shape (N, M), values in [-1, 1].
    """
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected a: (N, D) and b: (M, D) with the same D; got {tuple(a.shape)} and {tuple(b.shape)}")
    return _l2_normalize(a, eps) @ _l2_normalize(b, eps).T


def nt_xent_loss(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al. 2020, eq. 1).

    The N pairs give 2N views. Each view is an anchor: its positive is the other view of the same
    image, its negatives are the remaining 2N - 2 views. With cosine similarities ``s`` and
    temperature τ, the anchor's loss is a softmax cross-entropy over the 2N - 1 other views::

        l(i, j) = -log( exp(s_ij / τ) / Σ_{k ≠ i} exp(s_ik / τ) )

    Self-similarities (always 1) are removed by setting those logits to -inf before the softmax.
    The result is the mean over all 2N anchors, as in the paper's definition and in lightly's
    ``NTXentLoss``. (The official TensorFlow code in google-research/simclr sums the two
    directions' means, so it reports twice this value.)

    Args:
        z1: projections of the first views, shape (N, D), N >= 2.
        z2: projections of the second views, shape (N, D); row i pairs with row i of ``z1``.
        temperature: τ > 0.

    Returns:
        scalar loss. For features unrelated to the pairing it is about ln(2N - 1).
    """
    _check_pair_batch(z1, z2, "nt_xent_loss")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    n = z1.shape[0]
    if n < 2:
        raise ValueError("nt_xent_loss needs at least 2 pairs: the other images are the negatives")
    z = torch.cat([z1, z2], dim=0)  # (2N, D)
    logits = pairwise_cosine_similarity(z, z) / temperature  # (2N, 2N)
    self_pairs = torch.eye(2 * n, dtype=torch.bool, device=z.device)  # (2N, 2N)
    logits = logits.masked_fill(self_pairs, float("-inf"))
    positive = (torch.arange(2 * n, device=z.device) + n) % (2 * n)  # (2N,): i <-> i + N
    return F.cross_entropy(logits, positive)


def alignment_only_loss(z1: Tensor, z2: Tensor) -> Tensor:
    """Minus the mean cosine similarity of the positive pairs: "only increase the diagonal".

    The naive objective without negatives. Mapping every image to the same vector makes it
    -1, its minimum, so training with it collapses (watch :func:`embedding_std` go to 0).

    Args:
        z1, z2: shape (N, D), row i of each is one positive pair.

    Returns:
        scalar in [-1, 1].
    """
    _check_pair_batch(z1, z2, "alignment_only_loss")
    cosine = (_l2_normalize(z1) * _l2_normalize(z2)).sum(dim=1)  # (N,)
    return -cosine.mean()


def embedding_std(z: Tensor) -> Tensor:
    """Collapse metric: mean over dimensions of the std (over the batch) of L2-normalised rows.

    Normalisation puts every row on the unit sphere, so the metric ignores scale. If all rows are
    the same vector (collapse) it is 0. If rows are spread evenly over the sphere in D dimensions
    each coordinate has variance 1/D, so the metric is about 1/sqrt(D). Values well below
    1/sqrt(D) mean the embeddings occupy only a few directions (dimensional collapse). Used in
    SimSiam (Chen & He 2021, Figure 2) to show collapse.

    Args:
        z: shape (N, D), N >= 2.

    Returns:
        scalar tensor.
    """
    if z.ndim != 2 or z.shape[0] < 2:
        raise ValueError(f"embedding_std expects shape (N, D) with N >= 2, got {tuple(z.shape)}")
    return _l2_normalize(z).std(dim=0).mean()


# --------------------------------------------------------------------------------------------------
# Model. Parameter names (encoder.blocks.0.conv.weight, ..., head.out.bias) are part of the API:
# checkpoints and the grader load state dicts by these names.


class ConvBlock(nn.Module):
    """3×3 convolution, batch norm, ReLU. (B, C_in, H, W) -> (B, C_out, H / stride, W / stride)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.norm(self.conv(x)))


class Encoder(nn.Module):
    """Small CNN for 8×8 grey digits: (B, 1, 8, 8) -> features (B, feature_dim).

    Conv blocks (the first at stride 1, the others at stride 2), then the feature map is flattened
    and mapped linearly to the features. Flattening (instead of global average pooling) keeps
    *where* strokes are, which matters for an image only 8 pixels wide.
    """

    def __init__(self, channels: tuple[int, ...] = (32, 64), feature_dim: int = 64, image_size: int = DIGITS_IMAGE_SIZE):
        super().__init__()
        self.channels = tuple(channels)
        self.feature_dim = feature_dim
        self.image_size = image_size
        widths = (1, *self.channels)
        self.blocks = nn.Sequential(
            *(ConvBlock(widths[i], widths[i + 1], stride=1 if i == 0 else 2) for i in range(len(self.channels)))
        )
        side = image_size // 2 ** (len(self.channels) - 1)
        self.fc = nn.Linear(self.channels[-1] * side * side, feature_dim)

    def config(self) -> dict:
        """The constructor arguments (saved beside the weights by :func:`save_encoder`)."""
        return {"channels": list(self.channels), "feature_dim": self.feature_dim, "image_size": self.image_size}

    def forward(self, x: Tensor) -> Tensor:
        maps = self.blocks(x)  # (B, C_last, side, side)
        return self.fc(maps.flatten(start_dim=1))  # (B, C_last * side * side) -> (B, feature_dim)


class ProjectionHead(nn.Module):
    """SimCLR's projection head g: Linear, batch norm, ReLU, Linear. (B, in_dim) -> (B, out_dim).

    The paper (Section 4.2) found that computing the loss on g(h) rather than on h gives better
    features h: g can discard what the loss wants gone (e.g. augmentation details) without h
    losing it. There is no batch norm after the last layer: it would stop every dimension from
    collapsing and hide the collapse of :func:`alignment_only_loss`.
    """

    def __init__(self, in_dim: int = 64, hidden_dim: int = 64, out_dim: int = 32):
        super().__init__()
        self.hidden = nn.Linear(in_dim, hidden_dim, bias=False)
        self.norm = nn.BatchNorm1d(hidden_dim)
        self.out = nn.Linear(hidden_dim, out_dim)

    def forward(self, h: Tensor) -> Tensor:
        return self.out(F.relu(self.norm(self.hidden(h))))


class SimCLRModel(nn.Module):
    """Encoder f plus projection head g; ``forward(x)`` returns ``(h, z) = (f(x), g(f(x)))``.

    Shapes: x (B, 1, 8, 8) -> h (B, feature_dim), z (B, proj_dim).
    """

    def __init__(self, cfg: SimCLRConfig | None = None):
        super().__init__()
        cfg = cfg or SimCLRConfig()
        self.encoder = Encoder(cfg.channels, cfg.feature_dim)
        self.head = ProjectionHead(cfg.feature_dim, cfg.proj_hidden_dim, cfg.proj_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.encoder(x)
        return h, self.head(h)


# --------------------------------------------------------------------------------------------------
# Training

PairLoss = Callable[[Tensor, Tensor], Tensor]


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, x1: Tensor, x2: Tensor, loss_fn: PairLoss
) -> float:
    """One optimisation step on a batch of view pairs; returns the loss as a float.

    Args:
        model: returns ``(h, z)`` for a batch of images.
        optimizer: over ``model``'s parameters.
        x1, x2: the two views, each (B, 1, 8, 8).
        loss_fn: ``loss_fn(z1, z2)`` -> scalar, e.g. ``partial(nt_xent_loss, temperature=0.5)``.
    """
    optimizer.zero_grad()
    _, z1 = model(x1)
    _, z2 = model(x2)
    loss = loss_fn(z1, z2)
    loss.backward()
    optimizer.step()
    return loss.item()


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
    loss_fn: PairLoss | None = None,
    *,
    progress: bool = True,
) -> tuple[SimCLRModel, History]:
    """Train a :class:`SimCLRModel` on the training digits (labels unused) with vlcourse.training.train.

    Every ``cfg.eval_every`` steps the history records ``knn_acc`` (cosine kNN on encoder features,
    all training labels, test split) and ``embedding_std`` of the test projections (collapse metric).

    Args:
        cfg: the run; ``cfg.steps`` etc. (notebooks shrink them with vlcourse.budget).
        loss_fn: ``loss_fn(z1, z2)`` -> scalar. ``None`` means ``nt_xent_loss`` at
            ``cfg.temperature``. Notebooks pass the student's loss (bind the temperature with
            ``functools.partial``); the collapse experiment passes :func:`alignment_only_loss`.
        progress: show a progress bar.

    Returns:
        ``(model, history)``; the model is in eval mode on ``cfg.device``.
    """
    pair_loss = loss_fn if loss_fn is not None else partial(nt_xent_loss, temperature=cfg.temperature)
    torch.manual_seed(cfg.seed)
    model = SimCLRModel(cfg).to(cfg.device)
    generator = torch.Generator().manual_seed(cfg.seed)
    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")

    def model_loss(model: SimCLRModel, views: tuple[Tensor, Tensor]) -> Tensor:
        _, z1 = model(views[0])
        _, z2 = model(views[1])
        return pair_loss(z1, z2)

    def evaluate() -> dict:
        train_feats = extract_features(model.encoder, train_images)
        test_feats = extract_features(model.encoder, test_images)
        test_proj = extract_features(model, test_images)
        return {
            "knn_acc": knn_accuracy(train_feats, train_labels, test_feats, test_labels, k=cfg.knn_k),
            "embedding_std": embedding_std(test_proj).item(),
        }

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


# --------------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def extract_features(encoder: nn.Module, images: Tensor, batch_size: int = 512) -> Tensor:
    """Frozen features of ``images`` in eval mode (batch norm uses its running statistics).

    Args:
        encoder: maps (B, 1, 8, 8) to (B, F); a :class:`SimCLRModel` gives its projections z.
        images: shape (N, 1, 8, 8).
        batch_size: images per forward pass.

    Returns:
        float32 features on the CPU, shape (N, F). The module's train/eval mode is restored.
    """
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    chunks = []
    for start in range(0, len(images), batch_size):
        out = encoder(images[start : start + batch_size].to(device))
        if isinstance(out, tuple):  # SimCLRModel returns (h, z): keep z
            out = out[1]
        chunks.append(out.float().cpu())
    encoder.train(was_training)
    return torch.cat(chunks)  # (N, F)


def few_label_indices(labels: Tensor, labels_per_class: int, seed: int = 0) -> Tensor:
    """Indices of ``labels_per_class`` random examples of each class (sorted), drawn with ``seed``.

    Args:
        labels: shape (N,), int64.

    Returns:
        shape (C * labels_per_class,), int64.
    """
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in torch.unique(labels):
        members = torch.nonzero(labels == cls).flatten()  # (n_cls,)
        if len(members) < labels_per_class:
            raise ValueError(f"class {int(cls)} has only {len(members)} examples, fewer than {labels_per_class}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:labels_per_class]])
    return torch.cat(chosen).sort().values


def knn_accuracy(
    train_feats: Tensor, train_labels: Tensor, test_feats: Tensor, test_labels: Tensor, k: int = 10
) -> float:
    """Accuracy of a cosine-similarity k-nearest-neighbour majority vote.

    Each test feature takes the most common label among its ``k`` most similar training features
    (ties go to the smallest label). Needs no training, so it is the cheap progress metric.

    Args:
        train_feats: (N, F); train_labels: (N,) int64.
        test_feats: (M, F); test_labels: (M,) int64.
        k: neighbours (capped at N).

    Returns:
        fraction of test labels predicted correctly, in [0, 1].
    """
    k = min(k, len(train_labels))
    sims = pairwise_cosine_similarity(test_feats.float(), train_feats.float())  # (M, N)
    neighbours = sims.topk(k, dim=1).indices  # (M, k)
    neighbour_labels = train_labels[neighbours]  # (M, k)
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    votes = F.one_hot(neighbour_labels, num_classes).sum(dim=1)  # (M, k, C) -> (M, C)
    predicted = votes.argmax(dim=1)  # (M,)
    return (predicted == test_labels).float().mean().item()


def linear_probe_accuracy(
    train_feats: Tensor,
    train_labels: Tensor,
    test_feats: Tensor,
    test_labels: Tensor,
    labels_per_class: int | None = None,
    seed: int = 0,
) -> float:
    """Test accuracy of a logistic-regression probe on frozen, standardised features.

    The standard linear evaluation protocol (SimCLR Section 4), with scikit-learn's
    ``LogisticRegression`` (L2, C=1). Features are standardised with the mean and std of the
    labelled training features.

    Args:
        train_feats: (N, F); train_labels: (N,) int64.
        test_feats: (M, F); test_labels: (M,) int64.
        labels_per_class: if given, the probe sees only this many labelled examples per class
            (chosen by :func:`few_label_indices` with ``seed``): the semi-supervised regime.
        seed: which labelled examples are drawn.

    Returns:
        accuracy on the test features, in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if labels_per_class is not None:
        keep = few_label_indices(train_labels, labels_per_class, seed)
        train_feats, train_labels = train_feats[keep], train_labels[keep]
    x_train = train_feats.double().numpy()
    x_test = test_feats.double().numpy()
    scaler = StandardScaler().fit(x_train)
    probe = LogisticRegression(max_iter=2000).fit(scaler.transform(x_train), train_labels.numpy())
    return float(probe.score(scaler.transform(x_test), test_labels.numpy()))


def few_label_probe_accuracy(
    train_feats: Tensor,
    train_labels: Tensor,
    test_feats: Tensor,
    test_labels: Tensor,
    labels_per_class: int = 5,
    draws: int = 5,
) -> float:
    """:func:`linear_probe_accuracy` with few labels, averaged over ``draws`` label draws (seeds 0..draws-1)."""
    scores = [
        linear_probe_accuracy(train_feats, train_labels, test_feats, test_labels, labels_per_class, seed)
        for seed in range(draws)
    ]
    return float(np.mean(scores))


def evaluate_encoder(encoder: nn.Module, knn_k: int = 10) -> dict[str, float]:
    """All evaluation metrics of an encoder on the course's digits split.

    Returns:
        ``knn_acc`` (all 1,347 labels), ``probe_acc`` (all labels), ``knn_acc_5pc`` and
        ``probe_acc_5pc`` (5 labels per class, mean of 5 draws; ``probe_acc_5pc`` is the
        headline), ``probe_acc_1pc`` (1 label per class, mean of 5 draws).
    """
    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")
    train_feats = extract_features(encoder, train_images)
    test_feats = extract_features(encoder, test_images)
    feats = (train_feats, train_labels, test_feats, test_labels)
    few_knn = [
        knn_accuracy(train_feats[idx], train_labels[idx], test_feats, test_labels, k=knn_k)
        for idx in (few_label_indices(train_labels, 5, seed) for seed in range(5))
    ]
    return {
        "knn_acc": knn_accuracy(*feats, k=knn_k),
        "probe_acc": linear_probe_accuracy(*feats),
        "knn_acc_5pc": float(np.mean(few_knn)),
        "probe_acc_5pc": few_label_probe_accuracy(*feats, labels_per_class=5),
        "probe_acc_1pc": few_label_probe_accuracy(*feats, labels_per_class=1),
    }


# --------------------------------------------------------------------------------------------------
# Weights

ENCODER_CONFIG_KEY = "vlcourse.encoder_config"


def save_encoder(encoder: Encoder, path: str | Path) -> Path:
    """Write an encoder's weights (and its constructor arguments, as metadata) to a safetensors file."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {name: t.detach().cpu().contiguous() for name, t in encoder.state_dict().items()}
    save_file(tensors, str(path), metadata={ENCODER_CONFIG_KEY: json.dumps(encoder.config())})
    return path


def load_encoder(path: str | Path, device: str = "cpu") -> Encoder:
    """Rebuild an :class:`Encoder` written by :func:`save_encoder` (no pickle: safetensors only), in eval mode."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if ENCODER_CONFIG_KEY not in metadata:
        raise ValueError(f"{path} has no {ENCODER_CONFIG_KEY!r} metadata; write it with vlcourse.simclr.save_encoder")
    encoder = Encoder(**json.loads(metadata[ENCODER_CONFIG_KEY]))
    encoder.load_state_dict(load_file(str(path)))
    return encoder.to(device).eval()


def reference_name(preset: str) -> str:
    return f"simclr_digits_{preset}"


def train_reference(preset: str = "tiny", *, folder: Path | None = None, progress: bool = True) -> CheckpointEntry:
    """Train a preset and save the whole :class:`SimCLRModel` as a checkpoint with a manifest entry.

    Writes ``simclr_digits_<preset>.safetensors`` into ``folder`` (default: vlcourse/weights) with
    the config, the command, the metrics of :func:`evaluate_encoder`, a random-encoder baseline
    and the training time.
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    cfg = PRESETS[preset]
    start = time.perf_counter()
    model, history = train_simclr(cfg, progress=progress)
    seconds = time.perf_counter() - start
    metrics = evaluate_encoder(model.encoder, knn_k=cfg.knn_k)
    torch.manual_seed(cfg.seed)
    random_metrics = evaluate_encoder(Encoder(cfg.channels, cfg.feature_dim), knn_k=cfg.knn_k)
    metrics.update({f"random_encoder_{k}": v for k, v in random_metrics.items()})
    metrics.update(
        {
            "headline": HEADLINE_METRIC,
            "final_loss": float(np.mean(history.loss[-20:])),
            "train_seconds": round(seconds, 1),
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
