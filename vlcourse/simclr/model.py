"""The SimCLR configuration, its presets, the networks and their weight files.

Parameter names (``encoder.blocks.0.conv.weight``, ..., ``head.out.bias``) are part of the API:
checkpoints and the grader load state dicts by these names.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor, nn

from vlcourse.data.augment import AugmentConfig
from vlcourse.data.digits import DIGITS_IMAGE_SIZE

__all__ = [
    "SimCLRConfig", "PRESETS", "ConvBlock", "Encoder", "ProjectionHead", "SimCLRModel",
    "save_encoder", "load_encoder",
]


@dataclass
class SimCLRConfig:
    """Everything that defines a SimCLR run on digits (the defaults are the ``tiny`` preset).

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
        device: ``"cpu"``, ``"cuda"`` (the ``gpu`` preset) or ``"mps"``.
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
    # A 2-core laptop CPU in about a minute; the committed checkpoint vlcourse/weights/simclr_digits_tiny.
    "tiny": SimCLRConfig(),
    # An instructor's GPU (one of the GPU day's presets, vlcourse.gpu_day: a share of its 6 minutes on one H100):
    # wider, bigger batches (most of the 1,347 training images per step), longer.
    "gpu": SimCLRConfig(
        channels=(64, 128, 128),
        feature_dim=128,
        proj_hidden_dim=256,
        proj_dim=64,
        batch_size=1024,
        steps=3000,
        lr=2e-3,
        warmup_steps=200,
        eval_every=1000,
        device="cuda",
    ),
}


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

    def __init__(
        self, channels: tuple[int, ...] = (32, 64), feature_dim: int = 64, image_size: int = DIGITS_IMAGE_SIZE
    ):
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
    collapsing and hide the collapse of the alignment-only loss.
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


ENCODER_CONFIG_KEY = "vlcourse.encoder_config"


def save_encoder(encoder: Encoder, path: str | Path) -> Path:
    """Write an encoder's weights (and its constructor arguments, as metadata) to a safetensors file.

    The assignment notebook saves the student's trained encoder with this; the grader reads it
    back with :func:`load_encoder`. No pickle is involved either way.
    """
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {name: t.detach().cpu().contiguous() for name, t in encoder.state_dict().items()}
    save_file(tensors, str(path), metadata={ENCODER_CONFIG_KEY: json.dumps(encoder.config())})
    return path


def load_encoder(path: str | Path, device: str = "cpu") -> Encoder:
    """Rebuild an :class:`Encoder` written by :func:`save_encoder`, in eval mode on ``device``."""
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
