"""The MAE encoder's forward pass on the visible patches (students write it in assignment 03; withheld
while grading).

He et al. 2022, Sec. 3 "MAE encoder": "our encoder is a ViT but applied only on visible, unmasked
patches ... masked patches are removed; no mask tokens are used". Position embeddings are added to
every patch *before* masking, so each kept patch carries its own position into the encoder.
"""

from __future__ import annotations

import torch

from vlcourse.mae.masking import random_masking
from vlcourse.mae.layers import MAEEncoderBase
from vlcourse.mae.patches import patchify

__all__ = ["MAEEncoder"]


class MAEEncoder(MAEEncoderBase):
    """ViT encoder that sees only the visible patches (parameters: :class:`~vlcourse.mae.model.MAEEncoderBase`)."""

    def forward(self, imgs: torch.Tensor, mask_ratio: float, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Embed the patches, add positions, mask, prepend the class token, run the blocks.

        Args:
            imgs: (B, C, H, W).
            mask_ratio: fraction of patches removed, in [0, 1).
            noise, generator: passed on to :func:`~vlcourse.mae.masking.random_masking`.

        Returns:
            ``(latent, mask, ids_restore)``: latent (B, 1 + K, embed_dim), the final LayerNorm's output
            for the class token and the K = int(L * (1 - mask_ratio)) visible patches; mask (B, L)
            (1 = removed) and ids_restore (B, L) from ``random_masking``.
        """
        x = self.patch_embed(patchify(imgs, self.patch_size))  # (B, L, D)
        x = x + self.pos_embed[:, 1:]  # (B, L, D): positions before masking
        x, mask, ids_restore = random_masking(x, mask_ratio, noise, generator)  # (B, K, D)
        cls = self.cls_token + self.pos_embed[:, :1]  # (1, 1, D)
        x = torch.cat([cls.expand(x.size(0), -1, -1), x], dim=1)  # (B, 1 + K, D)
        for block in self.blocks:
            x = block(x)
        return self.norm(x), mask, ids_restore
