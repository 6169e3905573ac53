"""The masked autoencoder around its graded pieces: position embeddings, the encoder's parameters,
the decoder and the whole model.

MAE (He et al. 2022, "Masked Autoencoders Are Scalable Vision Learners"): an *asymmetric*
encoder-decoder. The encoder, a ViT (Dosovitskiy et al. 2021), embeds every patch, adds fixed 2-D
sine-cosine position embeddings, drops a random 75 % of the patches and runs its Transformer blocks
on the remaining quarter only (plus a class token), which is what makes pre-training cheap. A
lightweight decoder embeds the encoder's output to its own narrower width, puts a shared, learnt
mask token at every removed position (:func:`~vlcourse.mae.masking.unshuffle`), adds its own
position embeddings and predicts every patch's pixels; the loss scores the removed ones.

The graded pieces are constructor arguments, resolved lazily to the reference ones (as the GPT's
attention class is): while assignment 03 is graded ``encoder.py``, ``masking.py``, ``patches.py``
and ``loss.py`` are empty files, and the notebook builds ``MAE(config, encoder_cls=MAEEncoder,
unshuffle_fn=unshuffle)`` from the student's own code. The encoder's parameters live here, in
:class:`MAEEncoderBase`; the encoder's ``forward`` is the student's.

Parameter names (``encoder.blocks.0.attn.c_attn.weight``, ``decoder.mask_token``, ...) are kept
stable: the grader loads reference weights into students' modules by name.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from vlcourse.mae.config import MAEConfig
from vlcourse.mae.layers import (  # noqa: F401  (re-exported: vlcourse.mae.model has always had them)
    LN_EPS,
    MAEEncoderBase,
    init_mae_weights,
    sincos_pos_embed_1d,
    sincos_pos_embed_2d,
    vit_blocks,
)

__all__ = [
    "LN_EPS", "sincos_pos_embed_1d", "sincos_pos_embed_2d", "MAEEncoderBase", "MAEDecoder", "MAE",
    "reference_encoder", "reference_unshuffle", "init_mae_weights",
]


class MAEDecoder(nn.Module):
    """The lightweight MAE decoder: encoder output and mask tokens in, pixels of every patch out.

    ``forward(latent, ids_restore)``: embed the encoder's output to ``decoder_embed_dim``
    (``embed``), put it back in patch order with a mask token at every removed patch
    (``unshuffle_fn(x, mask_token, ids_restore)``), add the decoder's own fixed position embeddings,
    run the blocks, normalise, and predict each patch's ``p * p * C`` values (``pred``); the class
    token's prediction is dropped.

    Args:
        config: the :class:`MAEConfig`.
        unshuffle_fn: ``(x (B, 1 + K, Dd), mask_token (1, 1, Dd), ids_restore (B, L)) -> (B, 1 + L, Dd)``;
            default the reference :func:`~vlcourse.mae.masking.unshuffle` (resolved now).
    """

    def __init__(self, config: MAEConfig, unshuffle_fn: Callable | None = None):
        super().__init__()
        width = config.decoder_embed_dim
        self.unshuffle_fn = unshuffle_fn or reference_unshuffle()
        self.embed = nn.Linear(config.embed_dim, width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, width))
        pos = sincos_pos_embed_2d(width, config.grid_size, cls_token=True).unsqueeze(0)  # (1, 1 + L, Dd)
        self.register_buffer("pos_embed", pos, persistent=False)
        self.blocks = vit_blocks(width, config.decoder_num_heads, config.decoder_depth)
        self.norm = nn.LayerNorm(width, eps=LN_EPS)
        self.pred = nn.Linear(width, config.patch_dim)
        self.apply(init_mae_weights)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, latent: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
        """latent (B, 1 + K, embed_dim), ids_restore (B, L) -> predictions (B, L, p * p * C)."""
        x = self.embed(latent)  # (B, 1 + K, Dd)
        x = self.unshuffle_fn(x, self.mask_token, ids_restore)  # (B, 1 + L, Dd), patch order
        x = x + self.pos_embed  # (B, 1 + L, Dd)
        for block in self.blocks:
            x = block(x)
        x = self.pred(self.norm(x))  # (B, 1 + L, p*p*C)
        return x[:, 1:]  # (B, L, p*p*C): no prediction for the class token


def reference_encoder() -> type[nn.Module]:
    """The reference :class:`~vlcourse.mae.encoder.MAEEncoder`, imported on first use."""
    try:
        from vlcourse.mae.encoder import MAEEncoder
    except ImportError as err:
        raise RuntimeError(
            "the reference MAEEncoder is unavailable (withheld while grading): "
            "pass your own class, e.g. MAE(config, encoder_cls=MAEEncoder, unshuffle_fn=unshuffle)"
        ) from err
    return MAEEncoder


def reference_unshuffle() -> Callable:
    """The reference :func:`~vlcourse.mae.masking.unshuffle`, imported on first use."""
    try:
        from vlcourse.mae.masking import unshuffle
    except ImportError as err:
        raise RuntimeError(
            "the reference unshuffle is unavailable (withheld while grading): "
            "pass your own function, e.g. MAE(config, encoder_cls=MAEEncoder, unshuffle_fn=unshuffle)"
        ) from err
    return unshuffle


class MAE(nn.Module):
    """Masked autoencoder: ``forward(imgs)`` returns the predicted pixels of every patch and the mask.

    Args:
        config: the :class:`MAEConfig`.
        encoder_cls: the encoder, a subclass of :class:`MAEEncoderBase` (default: the reference
            :class:`~vlcourse.mae.encoder.MAEEncoder`); assignment 03 passes the student's.
        unshuffle_fn: the decoder's unshuffle (default: the reference
            :func:`~vlcourse.mae.masking.unshuffle`); assignment 03 passes the student's.
    """

    def __init__(self, config: MAEConfig, encoder_cls: type[nn.Module] | None = None,
                 unshuffle_fn: Callable | None = None):
        super().__init__()
        self.config = config
        self.encoder = (encoder_cls or reference_encoder())(config)
        self.decoder = MAEDecoder(config, unshuffle_fn)

    def forward(self, imgs: torch.Tensor, mask_ratio: float | None = None, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Mask, encode the visible patches, decode every patch.

        Args:
            imgs: (B, C, H, W) images.
            mask_ratio: fraction of patches removed (default ``config.mask_ratio``).
            noise: (B, L) masking noise (see :func:`~vlcourse.mae.masking.random_masking`).
            generator: random generator of the noise when ``noise`` is None.

        Returns:
            ``(pred, mask)``: pred (B, L, p * p * C) the predicted patches (``patchify``'s order;
            normalised pixels if the model was trained with ``norm_pix_loss``), mask (B, L) with
            1 = removed.
        """
        ratio = self.config.mask_ratio if mask_ratio is None else mask_ratio
        latent, mask, ids_restore = self.encoder(imgs, ratio, noise, generator)  # (B, 1 + K, D), (B, L), (B, L)
        return self.decoder(latent, ids_restore), mask

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
