"""Pictures of what an MAE sees and paints: original, masked, reconstruction, reconstruction + visible.

As in the MAE paper's Figures 2-4 and the authors' ``demo/mae_visualize.ipynb``. ``patchify`` and
``unpatchify`` are arguments (the notebook passes the student's), resolved to the reference ones
only when not given.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from vlcourse.mae.model import MAE
from vlcourse.mae.train import masking_noise, reference_patchify

MASKED_GREY = 0.5  # what a removed patch is drawn as (the shapes' background is black)


def reference_unpatchify() -> Callable:
    """The reference :func:`~vlcourse.mae.patches.unpatchify`, imported on first use."""
    try:
        from vlcourse.mae.patches import unpatchify
    except ImportError as err:
        raise RuntimeError("the reference unpatchify is unavailable (withheld while grading): "
                           "pass your own, e.g. unpatchify_fn=unpatchify") from err
    return unpatchify


@torch.no_grad()
def reconstructions(
    model: MAE, images: torch.Tensor, mask_ratio: float | None = None, *, seed: int = 0,
    patchify_fn: Callable | None = None, unpatchify_fn: Callable | None = None,
) -> dict[str, torch.Tensor]:
    """The four rows of :func:`reconstruction_figure` as images (N, C, H, W) clipped to [0, 1].

    ``"original"``; ``"masked"`` (removed patches grey); ``"reconstruction"`` (the decoder's output
    for every patch); ``"pasted"`` (the reconstruction with the visible patches replaced by the true
    ones: what the model adds). A model trained with ``norm_pix_loss`` predicts normalised patches;
    they are mapped back with each true patch's own mean and standard deviation (as MAE
    visualisations do), which borrows those two numbers from the hidden patch.
    """
    patchify_fn = patchify_fn or reference_patchify()
    unpatchify_fn = unpatchify_fn or reference_unpatchify()
    cfg = model.config
    ratio = cfg.mask_ratio if mask_ratio is None else mask_ratio
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    x = images.to(device)
    pred, mask = model(x, ratio, masking_noise(len(images), cfg.num_patches, seed).to(device))  # (N, L, P), (N, L)
    model.train(was_training)
    target = patchify_fn(x, cfg.patch_size)  # (N, L, P)
    if cfg.norm_pix_loss:
        mean = target.mean(dim=-1, keepdim=True)  # (N, L, 1)
        std = (target.var(dim=-1, keepdim=True) + 1e-6) ** 0.5  # (N, L, 1)
        pred = pred * std + mean
    removed = mask.unsqueeze(-1)  # (N, L, 1): 1 = removed
    rows = {
        "original": x,
        "masked": unpatchify_fn(target * (1 - removed) + MASKED_GREY * removed, cfg.patch_size),
        "reconstruction": unpatchify_fn(pred, cfg.patch_size),
        "pasted": unpatchify_fn(target * (1 - removed) + pred * removed, cfg.patch_size),
    }
    return {name: image.clamp(0, 1).cpu() for name, image in rows.items()}


def reconstruction_figure(
    model: MAE, images: torch.Tensor, mask_ratio: float | None = None, *, seed: int = 0,
    patchify_fn: Callable | None = None, unpatchify_fn: Callable | None = None, title: str | None = None,
):
    """A grid: one column per image, rows original / masked / reconstruction / reconstruction + visible.

    Returns a matplotlib ``Figure`` (object API, no pyplot state: works under Agg and in notebooks,
    where it displays itself).
    """
    from matplotlib.figure import Figure

    rows = reconstructions(model, images, mask_ratio, seed=seed, patchify_fn=patchify_fn, unpatchify_fn=unpatchify_fn)
    labels = {"original": "original", "masked": "masked (input)", "reconstruction": "reconstruction",
              "pasted": "reconstruction\n+ visible patches"}
    n = len(images)
    fig = Figure(figsize=(1.3 * n + 1.2, 5.6), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (name, batch) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(batch[c].permute(1, 2, 0).numpy(), interpolation="nearest")  # (C, H, W) -> (H, W, C)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(labels[name], fontsize=8)
    ratio = model.config.mask_ratio if mask_ratio is None else mask_ratio
    fig.suptitle(title or f"held-out images, {ratio:.0%} of the patches removed", fontsize=10)
    return fig
