"""CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"): the optional
real dataset of assignment 03 and the ``gpu`` MAE preset.

60,000 colour images of 32×32 pixels in 10 classes (50,000 for training, 10,000 for testing). We use
the authors' *binary* archive (``cifar-10-binary.tar.gz``, 170 MB): plain bytes, so reading it needs
no pickle. :func:`load_cifar10` downloads it once into the vlcourse cache with a sha256 check
(:func:`vlcourse.data.download.fetch`) and reads the split straight from the archive, without
extracting it.

Format of each ``.bin`` member: 10,000 records of 3,073 bytes, a label byte (0-9) followed by the
1,024 red, 1,024 green and 1,024 blue values of the image, each channel row by row.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import numpy as np
import torch

from vlcourse.data.download import fetch

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_FILE = "cifar10/cifar-10-binary.tar.gz"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_MEMBERS = {
    "train": tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("cifar-10-batches-bin/test_batch.bin",),
}
IMAGE_BYTES = 3 * 32 * 32
RECORD_BYTES = 1 + IMAGE_BYTES


def decode_records(raw: bytes) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 binary records to ``(images, labels)``: uint8 (N, 3, 32, 32) and int64 (N,)."""
    if len(raw) % RECORD_BYTES:
        raise ValueError(f"a CIFAR-10 batch holds records of {RECORD_BYTES} bytes; got {len(raw)} bytes")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, RECORD_BYTES)  # (N, 3073)
    labels = torch.from_numpy(records[:, 0].astype(np.int64))  # (N,)
    images = torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy())  # (N, 3, 32, 32): channel, row, column
    if labels.numel() and int(labels.max()) >= len(CIFAR10_CLASSES):
        raise ValueError(f"CIFAR-10 labels lie in 0..9, found {int(labels.max())}")
    return images, labels


def read_cifar10_archive(path: str | os.PathLike, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Read one split from a (verified) ``cifar-10-binary.tar.gz`` without extracting it.

    Returns:
        ``(images, labels)``: uint8 (N, 3, 32, 32) and int64 (N,), in the archive's order.
    """
    if split not in CIFAR10_MEMBERS:
        raise ValueError(f"split must be one of {tuple(CIFAR10_MEMBERS)}, got {split!r}")
    images, labels = [], []
    with tarfile.open(Path(path), "r:gz") as archive:
        for name in CIFAR10_MEMBERS[split]:
            member = archive.extractfile(name)
            if member is None:
                raise ValueError(f"{path} has no file {name}: not a CIFAR-10 binary archive")
            batch_images, batch_labels = decode_records(member.read())
            images.append(batch_images)
            labels.append(batch_labels)
    return torch.cat(images), torch.cat(labels)


def load_cifar10(
    split: str = "train", *, allow_download: bool = True, url: str | None = None, sha256: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 ``split`` ("train" or "test") from the cache, downloading the archive once if allowed.

    Args:
        split: "train" (50,000 images) or "test" (10,000).
        allow_download: if False only the cache is used (raises ``DownloadError`` on a miss).
        url, sha256: where the archive comes from and its checksum (default: :data:`CIFAR10_URL` and
            :data:`CIFAR10_SHA256`, read when called).

    Returns:
        ``(images, labels)``: uint8 (N, 3, 32, 32) and int64 (N,); class names in :data:`CIFAR10_CLASSES`.

    Raises:
        vlcourse.data.download.DownloadError: offline and not cached (the message says where to put it).
        vlcourse.data.download.ChecksumError: the download is damaged.
    """
    path = fetch(url or CIFAR10_URL, sha256 or CIFAR10_SHA256, CIFAR10_FILE, allow_download=allow_download)
    return read_cifar10_archive(path, split)
