"""scikit-learn's handwritten digits as torch tensors: 1,797 real 8×8 grey images, no download.

The images come from the UCI "Optical Recognition of Handwritten Digits" set (43 writers, 32×32
bitmaps counted down to 8×8 blocks of 0–16 ink). scikit-learn ships them inside the package, so
every exercise that uses them works offline on any laptop.

The course uses one fixed, stratified split: 1,347 training images and 450 test images (the same
class balance in both), chosen deterministically from ``seed``. Self-supervised training uses the
training images only (without their labels); evaluation probes fit on training features and score
on the test images.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

DIGITS_NUM_CLASSES = 10
DIGITS_IMAGE_SIZE = 8
DIGITS_MAX_INK = 16.0  # pixel values in load_digits are integers in [0, 16]
DIGITS_TEST_SIZE = 450  # of 1,797 images: leaves 1,347 for training
SPLITS = ("train", "test")


@lru_cache(maxsize=1)
def _all_digits() -> tuple[np.ndarray, np.ndarray]:
    """Every digit image as float32 in [0, 1], shape (1797, 8, 8), and its int64 label (1797,)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / DIGITS_MAX_INK).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@lru_cache(maxsize=8)
def _split_indices(seed: int) -> dict[str, np.ndarray]:
    """Indices of the stratified train/test split for ``seed``."""
    from sklearn.model_selection import train_test_split

    _, labels = _all_digits()
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=DIGITS_TEST_SIZE, stratify=labels, random_state=seed
    )
    return {"train": np.sort(train_idx), "test": np.sort(test_idx)}


def load_digits_split(split: str, seed: int = 0) -> tuple[Tensor, Tensor]:
    """One side of the fixed stratified split of scikit-learn's digits.

    Args:
        split: ``"train"`` (1,347 images) or ``"test"`` (450 images).
        seed: chooses the split; the course always uses the default 0.

    Returns:
        images: float32, shape (N, 1, 8, 8), values in [0, 1] (0 = background, 1 = full ink).
        labels: int64, shape (N,), the digit 0–9.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    images, labels = _all_digits()
    idx = _split_indices(seed)[split]
    x = torch.from_numpy(images[idx].copy()).unsqueeze(1)  # (N, 8, 8) -> (N, 1, 8, 8)
    y = torch.from_numpy(labels[idx].copy())
    return x, y


class DigitsDataset(Dataset):
    """A torch ``Dataset`` over one split: item ``i`` is ``(image (1, 8, 8), label)``.

    ``transform``, if given, is applied to each single image (a tensor of shape (1, 8, 8)). For
    SimCLR training prefer the batched augmentations of :mod:`vlcourse.data.augment`, which
    transform a whole batch at once.
    """

    def __init__(self, split: str = "train", seed: int = 0, transform=None):
        self.images, self.labels = load_digits_split(split, seed)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
