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
from vlcourse.transformer import Block, BlockConfig, SelfAttention

LN_EPS = 1e-6  # the authors' ViT LayerNorms (partial(nn.LayerNorm, eps=1e-6))

__all__ = [
    "LN_EPS", "sincos_pos_embed_1d", "sincos_pos_embed_2d", "MAEEncoderBase", "MAEDecoder", "MAE",
    "reference_encoder", "reference_unshuffle", "init_mae_weights",
]


def sincos_pos_embed_1d(dim: int, positions: torch.Tensor) -> torch.Tensor:
    """Sine-cosine embedding of scalar positions (Vaswani et al. 2017, Sec. 3.5), as the MAE code has it.

    Args:
        dim: an even embedding width D.
        positions: (M,) positions.

    Returns:
        (M, D) float64: ``[sin(pos * w_0), ..., sin(pos * w_{D/2-1}), cos(pos * w_0), ...]`` with
        frequencies ``w_i = 10000 ** (-i / (D / 2))``.
    """
    if dim % 2:
        raise ValueError(f"a sine-cosine embedding needs an even width, got {dim}")
    omega = torch.arange(dim // 2, dtype=torch.float64) / (dim / 2)  # (D/2,)
    omega = 1.0 / 10000**omega  # (D/2,) from 1 down to ~1/10000
    angles = positions.to(torch.float64).reshape(-1, 1) * omega.reshape(1, -1)  # (M, D/2)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)  # (M, D)


def sincos_pos_embed_2d(dim: int, grid_size: int, cls_token: bool = False) -> torch.Tensor:
    """Fixed 2-D sine-cosine position embeddings of a ``grid_size`` × ``grid_size`` grid of patches.

    Exactly the MAE authors' ``get_2d_sincos_pos_embed``: the first half of the width embeds a
    patch's **column**, the second half its **row** (each with :func:`sincos_pos_embed_1d`); rows
    follow the patch order of :func:`~vlcourse.mae.patches.patchify` (row-major). Nothing is learnt:
    the model knows where each patch sits without spending parameters on it.

    Args:
        dim: embedding width, a multiple of 4.
        grid_size: patches per side.
        cls_token: prepend a row of zeros for the class token.

    Returns:
        (grid_size ** 2, dim), or (1 + grid_size ** 2, dim) with ``cls_token``; float32.
    """
    if dim % 4:
        raise ValueError(f"2-D sine-cosine embeddings need a width divisible by 4, got {dim}")
    coords = torch.arange(grid_size, dtype=torch.float64)  # (g,)
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")  # (g, g) each: rows[i, j] = i, cols[i, j] = j
    emb = torch.cat([
        sincos_pos_embed_1d(dim // 2, cols.reshape(-1)),  # (L, D/2): the patch's column
        sincos_pos_embed_1d(dim // 2, rows.reshape(-1)),  # (L, D/2): the patch's row
    ], dim=1)  # (L, D), token l = i * g + j
    if cls_token:
        emb = torch.cat([torch.zeros(1, dim, dtype=emb.dtype), emb], dim=0)  # (1 + L, D)
    return emb.float()


def init_mae_weights(module: nn.Module) -> None:
    """The authors' initialisation: Xavier-uniform Linear weights (the patch embedding included), zero
    biases, LayerNorm gains 1 and biases 0 (apply with ``module.apply``)."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        if module.weight is not None:
            nn.init.ones_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def vit_blocks(width: int, heads: int, depth: int) -> nn.ModuleList:
    """``depth`` pre-norm ViT blocks (shared :class:`~vlcourse.transformer.Block` with unmasked attention)."""
    config = BlockConfig(n_embd=width, n_head=heads)
    return nn.ModuleList(Block(config, SelfAttention, eps=LN_EPS) for _ in range(depth))


class MAEEncoderBase(nn.Module):
    """The MAE encoder's parameters; a subclass writes ``forward`` (assignment 03's ``MAEEncoder``).

    Attributes:
        config: the :class:`MAEConfig`.
        patch_size: p.
        patch_embed: ``nn.Linear(p * p * C, embed_dim)``, applied to each flattened patch (the same as
            the ViT's convolution with kernel and stride p, on patches in ``patchify``'s order).
        cls_token: (1, 1, embed_dim) learnt class token.
        pos_embed: (1, 1 + L, embed_dim) fixed buffer (not in the state_dict): row 0 (zeros) for the
            class token, row 1 + l for patch l.
        blocks: ``depth`` Transformer blocks (B, T, embed_dim) -> (B, T, embed_dim).
        norm: the final LayerNorm.

    ``forward(imgs, mask_ratio, noise=None, generator=None)`` must return ``(latent, mask,
    ids_restore)``: latent (B, 1 + K, embed_dim) for the class token and the K visible patches,
    and the mask and ids_restore of :func:`~vlcourse.mae.masking.random_masking`.
    """

    def __init__(self, config: MAEConfig):
        super().__init__()
        self.config = config
        self.patch_size = config.patch_size
        self.patch_embed = nn.Linear(config.patch_dim, config.embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.embed_dim))
        pos = sincos_pos_embed_2d(config.embed_dim, config.grid_size, cls_token=True).unsqueeze(0)  # (1, 1 + L, D)
        self.register_buffer("pos_embed", pos, persistent=False)
        self.blocks = vit_blocks(config.embed_dim, config.num_heads, config.depth)
        self.norm = nn.LayerNorm(config.embed_dim, eps=LN_EPS)
        self.apply(init_mae_weights)
        nn.init.normal_(self.cls_token, std=0.02)

    def forward(self, imgs: torch.Tensor, mask_ratio: float, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None):
        raise NotImplementedError("MAEEncoderBase holds the parameters; subclass it and write forward (MAEEncoder)")


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
