"""Random masking and its undoing (students write these in assignment 03; withheld while grading).

MAE (He et al. 2022, Sec. 3 "Masking"; their ``models_mae.py``) removes a random subset of the
patches of every image, independently per image, by *shuffling*: draw one uniform noise value per
patch, sort, keep the patches with the smallest noise. ``ids_restore`` (the permutation that undoes
the sort) lets the decoder put the encoder's outputs and the mask tokens back in patch order.
"""

from __future__ import annotations

import torch

__all__ = ["random_masking", "unshuffle"]


def random_masking(
    x: torch.Tensor, mask_ratio: float, noise: torch.Tensor | None = None, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep a random subset of each sequence's tokens: the ``int(L * (1 - mask_ratio))`` with the smallest noise.

    Args:
        x: (B, L, D) tokens (patch embeddings, positions already added).
        mask_ratio: fraction of tokens to remove, in [0, 1).
        noise: (B, L) one value per token; the tokens with the smallest values are kept. None draws
            ``torch.rand(B, L, generator=generator, device=x.device)``. The same noise always gives
            the same result.
        generator: random generator for the noise when ``noise`` is None.

    Returns:
        ``(x_kept, mask, ids_restore)``:

        * ``x_kept`` (B, K, D), K = int(L * (1 - mask_ratio)): the kept tokens, in increasing order of
          their noise (``x_kept[n, k] = x[n, ids_shuffle[n, k]]`` with ``ids_shuffle = argsort(noise)``);
        * ``mask`` (B, L) in ``x``'s dtype, in the original token order: 0 where a token is kept,
          1 where it is removed;
        * ``ids_restore`` (B, L) int64, ``argsort(ids_shuffle)``: token ``l`` of the original order is
          entry ``ids_restore[n, l]`` of the shuffled order (kept tokens first, then removed ones).
    """
    B, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    if noise is None:
        noise = torch.rand(B, L, generator=generator, device=x.device)  # (B, L) in [0, 1)
    ids_shuffle = torch.argsort(noise, dim=1)  # (B, L) ascending: small noise is kept, large is removed
    ids_restore = torch.argsort(ids_shuffle, dim=1)  # (B, L) the inverse permutation
    ids_keep = ids_shuffle[:, :len_keep]  # (B, K)
    x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))  # (B, K, D)
    mask = torch.ones(B, L, dtype=x.dtype, device=x.device)  # (B, L) in shuffled order: 1 = removed
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)  # (B, L) back in the original order
    return x_kept, mask, ids_restore


def unshuffle(x: torch.Tensor, mask_token: torch.Tensor, ids_restore: torch.Tensor) -> torch.Tensor:
    """Put the decoder's input back in patch order, with a mask token where a patch was removed.

    Args:
        x: (B, 1 + K, D) the encoder's output after the decoder's embedding: the class token, then
            the K visible patches in the order :func:`random_masking` kept them.
        mask_token: (1, 1, D) the learnt vector that stands in for every removed patch.
        ids_restore: (B, L) int64 from :func:`random_masking`.

    Returns:
        (B, 1 + L, D): the class token, then for each patch ``l`` in the original order its
        visible token, or ``mask_token`` if it was removed.
    """
    B, K1, D = x.shape
    L = ids_restore.shape[1]
    mask_tokens = mask_token.expand(B, L + 1 - K1, D)  # (B, L - K, D)
    shuffled = torch.cat([x[:, 1:], mask_tokens], dim=1)  # (B, L, D): visible tokens, then mask tokens
    restored = torch.gather(shuffled, 1, ids_restore.unsqueeze(-1).expand(-1, -1, D))  # (B, L, D) patch order
    return torch.cat([x[:, :1], restored], dim=1)  # (B, 1 + L, D): the class token first
