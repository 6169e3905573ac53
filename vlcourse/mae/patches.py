"""Images to sequences of patches and back (students write these in assignment 03; withheld while grading).

A ViT (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words") reads an image as a sequence of
non-overlapping square patches, the way a language model reads a sequence of tokens. The order is
the MAE authors' (He et al. 2022, ``models_mae.py``):

* patches in **row-major order** over the grid of patches: patch ``l = i * (W // p) + j`` is the
  one in patch-row ``i`` and patch-column ``j``;
* inside a patch, values in **(row, column, channel)** order: entry ``(u * p + v) * C + c`` is
  pixel ``(i * p + u, j * p + v)`` of channel ``c``.

So ``patchify(imgs, p)[n, l, (u * p + v) * C + c] == imgs[n, c, i * p + u, j * p + v]``.
"""

from __future__ import annotations

import math

import torch

__all__ = ["patchify", "unpatchify"]


def patchify(imgs: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut square images into their patches, flattened (order: see the module docstring).

    Args:
        imgs: (B, C, H, W) with H == W divisible by ``patch_size``.
        patch_size: p, the side of a patch in pixels.

    Returns:
        (B, L, p * p * C) with L = (H // p) * (W // p); a new tensor (``imgs`` is not modified).
    """
    B, C, H, W = imgs.shape
    p = patch_size
    if H != W or H % p:
        raise ValueError(f"patchify wants square images whose side is a multiple of patch_size={p}, got {H}x{W}")
    h, w = H // p, W // p
    x = imgs.reshape(B, C, h, p, w, p)  # (B, C, h, p, w, p): pixel (i*p + u, j*p + v) at [:, :, i, u, j, v]
    x = x.permute(0, 2, 4, 3, 5, 1)  # (B, h, w, p, p, C): patch (i, j), then row u, column v, channel c
    return x.reshape(B, h * w, p * p * C)  # (B, L, p*p*C)


def unpatchify(patches: torch.Tensor, patch_size: int) -> torch.Tensor:
    """The inverse of :func:`patchify`: ``unpatchify(patchify(imgs, p), p)`` equals ``imgs``.

    Args:
        patches: (B, L, p * p * C), L a perfect square (the image is square).
        patch_size: p.

    Returns:
        (B, C, H, W) with H = W = sqrt(L) * p and C = D // (p * p).
    """
    B, L, D = patches.shape
    p = patch_size
    h = math.isqrt(L)
    if h * h != L or D % (p * p):
        raise ValueError(f"unpatchify wants (B, L, p*p*C) with L a square number and p={p}, got {tuple(patches.shape)}")
    C = D // (p * p)
    x = patches.reshape(B, h, h, p, p, C)  # (B, h, w, p, p, C)
    x = x.permute(0, 5, 1, 3, 2, 4)  # (B, C, h, p, w, p)
    return x.reshape(B, C, h * p, h * p)  # (B, C, H, W)
