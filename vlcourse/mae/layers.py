"""The MAE's building blocks below the whole model: fixed 2-D sine-cosine position embeddings, the
weight initialisation, the ViT blocks and the encoder's parameters (:class:`MAEEncoderBase`).

They live apart from :mod:`vlcourse.mae.model` so that the student's encoder
(:mod:`vlcourse.mae.encoder`, a subclass of :class:`MAEEncoderBase`) and the model that builds it by
default import in one direction only.
"""

from __future__ import annotations

import torch
from torch import nn

from vlcourse.mae.config import MAEConfig
from vlcourse.transformer import Block, BlockConfig, SelfAttention

LN_EPS = 1e-6  # the authors' ViT LayerNorms (partial(nn.LayerNorm, eps=1e-6))



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
