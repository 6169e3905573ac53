"""The MAE reconstruction loss (students write it in assignment 03; withheld while grading)."""

from __future__ import annotations

import torch

__all__ = ["mae_loss"]

NORM_PIX_EPS = 1e-6  # added to each patch's variance before the square root, as in the authors' code


def mae_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, norm_pix: bool = False) -> torch.Tensor:
    """Mean squared error per patch, averaged over the removed patches only (He et al. 2022, Sec. 3).

    The visible patches are not scored: predicting what the encoder already sees is trivial and,
    the paper finds, makes the representation worse. With ``norm_pix`` the target of each patch is
    that patch's pixels normalised by their own mean and standard deviation,
    ``(t - mean) / sqrt(var + 1e-6)``, with the *unbiased* variance over the patch's values (as
    ``torch.var`` computes it by default, and as the authors' ``models_mae.py`` does).

    Args:
        pred: (B, L, P) the decoder's prediction for every patch.
        target: (B, L, P) the true patches (``patchify(imgs, p)``); not modified.
        mask: (B, L) 1 where a patch was removed, 0 where it was visible (from ``random_masking``).
        norm_pix: normalise each target patch as above.

    Returns:
        Scalar: ``sum_l mask * mean_P (pred - target)**2 / sum_l mask`` over the batch.
    """
    if norm_pix:
        mean = target.mean(dim=-1, keepdim=True)  # (B, L, 1)
        var = target.var(dim=-1, keepdim=True)  # (B, L, 1), unbiased
        target = (target - mean) / (var + NORM_PIX_EPS) ** 0.5  # (B, L, P)
    per_patch = ((pred - target) ** 2).mean(dim=-1)  # (B, L): mean over the patch's values
    return (per_patch * mask).sum() / mask.sum()  # mean over the removed patches
