"""SimCLR-style augmentations for tiny grey digit images, applied to a whole batch at once.

SimCLR (Chen et al. 2020, "A Simple Framework for Contrastive Learning of Visual
Representations", Section 3 and Figure 5) learns by asking two random "views" of the same image to
embed close together. Which views you make decides what the encoder learns to ignore. The paper's
ablation found one pairing far more important than the rest: **random cropping plus colour
distortion**. Cropping alone lets the network cheat through the colour histogram (both crops of
an image share it), so colour distortion is what forces it to look at shapes.

Our images are 8×8 and grey, so we adapt each ingredient:

* **Geometry (crop + affine), one resampling.** A random resized crop (zoom into a random
  rectangle covering ``crop_scale`` of the area, aspect ratio in ``crop_ratio``) composed with a
  small random affine map (rotation up to ``max_rotation_deg``, zoom in ``affine_scale``, shift up
  to ``max_translate_px`` pixels). Both are affine, so we multiply their matrices and resample the
  image once with ``affine_grid`` / ``grid_sample``: at 8×8 every extra bilinear pass would blur
  away a visible part of the digit. Areas outside the image are filled with 0, which is exactly
  the background of these digits. Ranges are mild because the whole digit is only ~6 pixels tall:
  a crop of half the area can already cut a "7" into a "1".
* **Intensity jitter instead of colour distortion.** There is no colour to distort, but there is
  stroke intensity: random brightness (multiply) and contrast (stretch around the image's mean)
  stand in for it, applied with probability ``jitter_prob`` (SimCLR used 0.8 for colour jitter).
  They stop the encoder from matching views by total ink.
* **Additive Gaussian noise** (``noise_std``, with probability ``noise_prob``): a light stand-in
  for SimCLR's Gaussian blur, which would wipe out an 8×8 image.
* **Random erasing / cutout** (``erase_prob``, a rectangle of ``erase_scale`` of the area set to
  background): the views must agree even when part of a stroke is missing.
* **No horizontal flip**, although SimCLR uses one for natural photos. Digits are not
  mirror-symmetric: a flipped "2" looks like a "5", a flipped "7" or "3" is not a digit at all. A
  flip would teach the encoder that mirror images are the same thing, exactly the information a
  digit classifier needs.

Every random number is drawn on the CPU from the ``torch.Generator`` you pass (one call per
parameter, a whole batch at a time), so a seeded generator gives the same views on every run and on
every device; the images themselves are processed on their own device.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass
class AugmentConfig:
    """Strength of each augmentation (see the module docstring for why each is there).

    Set a probability or range to its neutral value to switch an augmentation off
    (e.g. ``erase_prob=0``, ``max_rotation_deg=0``, ``crop_scale=(1.0, 1.0)``).

    Attributes:
        crop_scale: (min, max) fraction of the image area a random crop keeps.
        crop_ratio: (min, max) aspect ratio (width / height) of the crop.
        max_rotation_deg: rotations are uniform in ±this many degrees.
        affine_scale: (min, max) zoom factor of the affine map (>1 enlarges the digit).
        max_translate_px: shifts are uniform in ±this many pixels, in x and y independently.
        jitter_prob: probability of brightness/contrast jitter for each image.
        brightness: brightness factor is uniform in [1 - brightness, 1 + brightness].
        contrast: contrast factor is uniform in [1 - contrast, 1 + contrast].
        noise_prob: probability of additive Gaussian noise for each image.
        noise_std: standard deviation of that noise (images live in [0, 1]).
        erase_prob: probability of erasing one rectangle of each image.
        erase_scale: (min, max) fraction of the image area that rectangle covers.
    """

    crop_scale: tuple[float, float] = (0.6, 1.0)
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    max_rotation_deg: float = 15.0
    affine_scale: tuple[float, float] = (0.9, 1.1)
    max_translate_px: float = 1.0
    jitter_prob: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    noise_prob: float = 0.5
    noise_std: float = 0.1
    erase_prob: float = 0.5
    erase_scale: tuple[float, float] = (0.05, 0.2)

    def __post_init__(self):
        # Lists come back from JSON manifests; store tuples so configs compare equal.
        for name in ("crop_scale", "crop_ratio", "affine_scale", "erase_scale"):
            setattr(self, name, tuple(float(v) for v in getattr(self, name)))
        _check_range("crop_scale", self.crop_scale, low=0.0, high=1.0, hint="fractions of the area in (0, 1]")
        _check_range("crop_ratio", self.crop_ratio, low=0.0, high=math.inf, hint="e.g. (3/4, 4/3)")
        _check_range("affine_scale", self.affine_scale, low=0.0, high=math.inf, hint="zoom factors, e.g. (0.9, 1.1)")
        _check_range("erase_scale", self.erase_scale, low=0.0, high=1.0, hint="fractions of the area in (0, 1]")
        if not 0 <= self.max_rotation_deg <= 180:
            raise ValueError(f"max_rotation_deg must lie in [0, 180], got {self.max_rotation_deg}")
        if self.max_translate_px < 0:
            raise ValueError(f"max_translate_px must be >= 0 (0 disables shifts), got {self.max_translate_px}")
        for name in ("jitter_prob", "noise_prob", "erase_prob"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} is a probability and must lie in [0, 1], got {value}")
        for name in ("brightness", "contrast"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ValueError(f"{name} must lie in [0, 1) so that the factor 1 ± {name} stays positive, got {value}")
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0 (0 disables noise), got {self.noise_std}")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def _check_range(name: str, pair: tuple[float, float], *, low: float, high: float, hint: str) -> None:
    if len(pair) != 2:
        raise ValueError(f"{name} must be a (min, max) pair ({hint}), got {pair}")
    lo, hi = pair
    if not (low < lo <= hi <= high):
        raise ValueError(f"{name} must satisfy {low} < min <= max <= {high} ({hint}), got {pair}")


# --------------------------------------------------------------------------------------------------
# Random numbers: drawn on the CPU from the caller's generator, then moved to the images' device.


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None) -> Tensor:
    """(n,) samples uniform in [low, high), float32 on the CPU."""
    return low + (high - low) * torch.rand(n, generator=generator)


def _coin(n: int, prob: float, generator: torch.Generator | None) -> Tensor:
    """(n,) booleans, each True with probability ``prob``."""
    return torch.rand(n, generator=generator) < prob


# --------------------------------------------------------------------------------------------------
# Geometry. affine_grid maps *output* coordinates to *input* coordinates, both normalised to
# [-1, 1]; each matrix below is such an output -> input map, in homogeneous form (B, 3, 3).


def random_crop_matrices(batch: int, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """Random resized crops as output -> input maps, shape (B, 3, 3).

    A crop of width ``w`` and height ``h`` (fractions of the side) centred at ``(cx, cy)`` sends
    the output square [-1, 1]² onto that rectangle: ``x_in = w * x_out + cx``. The centre is drawn
    so that the rectangle stays inside the image.
    """
    area = _uniform(batch, *cfg.crop_scale, generator)
    log_ratio = _uniform(batch, math.log(cfg.crop_ratio[0]), math.log(cfg.crop_ratio[1]), generator)
    ratio = torch.exp(log_ratio)
    width = torch.sqrt(area * ratio).clamp(max=1.0)
    height = torch.sqrt(area / ratio).clamp(max=1.0)
    centre_x = (1 - width) * _uniform(batch, -1.0, 1.0, generator)
    centre_y = (1 - height) * _uniform(batch, -1.0, 1.0, generator)
    matrices = torch.zeros(batch, 3, 3)
    matrices[:, 0, 0] = width
    matrices[:, 1, 1] = height
    matrices[:, 0, 2] = centre_x
    matrices[:, 1, 2] = centre_y
    matrices[:, 2, 2] = 1.0
    return matrices


def random_affine_matrices(
    batch: int, cfg: AugmentConfig, image_size: int, generator: torch.Generator | None = None
) -> Tensor:
    """Random rotation + zoom + shift as output -> input maps, shape (B, 3, 3).

    To rotate the content by ``a`` and enlarge it by ``s`` we must *sample* from the inverse map:
    ``p_in = R(-a) p_out / s - t``.
    """
    angle = torch.deg2rad(_uniform(batch, -cfg.max_rotation_deg, cfg.max_rotation_deg, generator))
    zoom = _uniform(batch, *cfg.affine_scale, generator)
    shift_px = _uniform(2 * batch, -cfg.max_translate_px, cfg.max_translate_px, generator)
    shift = (2.0 / image_size) * shift_px.view(batch, 2)  # (2B,) -> (B, 2), pixels -> [-1, 1] units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    matrices = torch.zeros(batch, 3, 3)
    matrices[:, 0, 0] = cos
    matrices[:, 0, 1] = sin
    matrices[:, 1, 0] = -sin
    matrices[:, 1, 1] = cos
    matrices[:, :2, 2] = -shift
    matrices[:, 2, 2] = 1.0
    return matrices


def warp(x: Tensor, matrices: Tensor) -> Tensor:
    """Resample a batch through output -> input maps (bilinear, zeros outside).

    Args:
        x: images, shape (B, C, H, W).
        matrices: shape (B, 3, 3) (or (B, 2, 3)), normalised coordinates as for ``affine_grid``.

    Returns:
        warped images, shape (B, C, H, W).
    """
    theta = matrices[:, :2, :].to(device=x.device, dtype=x.dtype)  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_geometry(x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """Random resized crop followed by a random affine map, in one resampling. (B, C, H, W) -> same."""
    batch, _, _, width = x.shape
    crop = random_crop_matrices(batch, cfg, generator)
    affine = random_affine_matrices(batch, cfg, width, generator)
    # Output -> (affine) -> cropped-image coordinates -> (crop) -> original image coordinates.
    return warp(x, crop @ affine)


# --------------------------------------------------------------------------------------------------
# Intensity.


def random_intensity_jitter(x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """Brightness (scale all pixels) then contrast (stretch around the image's mean), per image.

    Images that lose the ``jitter_prob`` coin flip keep factors of exactly 1. (B, C, H, W) -> same.
    """
    batch = x.shape[0]
    apply = _coin(batch, cfg.jitter_prob, generator)
    brightness = _uniform(batch, 1 - cfg.brightness, 1 + cfg.brightness, generator)
    contrast = _uniform(batch, 1 - cfg.contrast, 1 + cfg.contrast, generator)
    brightness = torch.where(apply, brightness, torch.ones_like(brightness))
    contrast = torch.where(apply, contrast, torch.ones_like(contrast))
    brightness = brightness.to(x).view(batch, 1, 1, 1)  # (B,) -> (B, 1, 1, 1)
    contrast = contrast.to(x).view(batch, 1, 1, 1)  # (B,) -> (B, 1, 1, 1)
    x = x * brightness
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (x - mean) * contrast + mean


def random_noise(x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """Add N(0, noise_std²) noise to each image that wins the ``noise_prob`` coin flip."""
    batch = x.shape[0]
    apply = _coin(batch, cfg.noise_prob, generator).to(x).view(batch, 1, 1, 1)  # (B,) -> (B, 1, 1, 1)
    noise = torch.randn(x.shape, generator=generator).to(x)
    return x + cfg.noise_std * apply * noise


def random_erasing(x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """Set one random rectangle of each selected image to 0 (the background). (B, C, H, W) -> same.

    The rectangle covers ``erase_scale`` of the area (rounded to whole pixels, at least one) with
    a random aspect ratio in ``crop_ratio``, at a uniformly random position inside the image.
    """
    batch, _, height, width = x.shape
    apply = _coin(batch, cfg.erase_prob, generator)
    area = _uniform(batch, *cfg.erase_scale, generator) * height * width
    ratio = torch.exp(_uniform(batch, math.log(cfg.crop_ratio[0]), math.log(cfg.crop_ratio[1]), generator))
    box_h = torch.sqrt(area / ratio).round().clamp(1, height)
    box_w = torch.sqrt(area * ratio).round().clamp(1, width)
    top = torch.floor(torch.rand(batch, generator=generator) * (height - box_h + 1))
    left = torch.floor(torch.rand(batch, generator=generator) * (width - box_w + 1))
    rows = torch.arange(height).view(1, height)  # (1, H)
    cols = torch.arange(width).view(1, width)  # (1, W)
    in_rows = (rows >= top.view(batch, 1)) & (rows < (top + box_h).view(batch, 1))  # (B, H)
    in_cols = (cols >= left.view(batch, 1)) & (cols < (left + box_w).view(batch, 1))  # (B, W)
    erase = in_rows.view(batch, 1, height, 1) & in_cols.view(batch, 1, 1, width)  # (B, 1, H, W)
    erase = erase & apply.view(batch, 1, 1, 1)  # (B, 1, H, W)
    return x.masked_fill(erase.to(x.device), 0.0)


# --------------------------------------------------------------------------------------------------
# The whole pipeline.


def augment(x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """One random view of every image in a batch.

    Order: geometry (crop + affine), intensity jitter, noise, erasing, then clamp to [0, 1].

    Args:
        x: images, shape (B, C, H, W), values in [0, 1].
        cfg: augmentation strengths.
        generator: a seeded ``torch.Generator`` (on the CPU) for reproducible views; ``None`` uses
            torch's global random state.

    Returns:
        augmented images, shape (B, C, H, W), values in [0, 1], on the device of ``x``.
    """
    if x.ndim != 4:
        raise ValueError(f"augment expects a batch of shape (B, C, H, W), got shape {tuple(x.shape)}")
    x = random_geometry(x, cfg, generator)
    x = random_intensity_jitter(x, cfg, generator)
    x = random_noise(x, cfg, generator)
    x = random_erasing(x, cfg, generator)
    return x.clamp(0.0, 1.0)


def two_views(
    x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Two independent random views of each image: the positive pairs of SimCLR.

    Args:
        x: images, shape (B, C, H, W) in [0, 1].
        cfg: augmentation strengths.
        generator: seeded ``torch.Generator`` for reproducibility (``None``: global random state).

    Returns:
        ``(x1, x2)``, each of shape (B, C, H, W); ``x1[i]`` and ``x2[i]`` come from ``x[i]``.
    """
    return augment(x, cfg, generator), augment(x, cfg, generator)
