"""Incremental decoding with a key-value cache: a new token costs one position, not the whole context.

:meth:`GPT.forward <vlcourse.gpt.model.GPT.forward>` recomputes the keys and values of every position
for each generated token. With causal attention the keys and values of position t depend on tokens
``<= t`` only, so they can be computed once and kept: the ``past`` of GPT-2's released code
(Radford et al. 2019; ``past_key_values`` in Hugging Face transformers), the "KV cache" of inference
systems (Pope et al. 2022, "Efficiently Scaling Transformer Inference"). Each step then runs one
position per sequence through the layers and attends over the kept keys and values.

This module is a second path through a GPT's weights, for inference only (no dropout, no gradients).
It reads the parameters by their GPT-2 names (``wte``, ``wpe``, ``h.i.ln_1``, ``h.i.attn.c_attn``,
``h.i.attn.c_proj``, ``h.i.ln_2``, ``h.i.mlp``, ``ln_f``, ``lm_head``), so the GPT, its blocks
and the shared :mod:`vlcourse.transformer` are unchanged, and it works whatever attention class
the GPT was built with, provided that class computes causal multi-head attention. The tests check
that it gives the logits of the full forward pass (float64, to rounding).

* :class:`KVCache`: keys and values of every layer for a batch of rows, with each row's length.
* :func:`prefill`: run the prompts (padded on the right) through the model and fill their rows.
* :func:`decode_step`: one new token per row at position ``lengths[row]``; returns (B, V) logits.
* :func:`generate_cached`: greedy decoding with the cache, the same tokens as
  :func:`~vlcourse.gpt.generation.generate` with ``greedy=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["KVCache", "empty_cache", "prefill", "decode_step", "generate_cached"]


@dataclass
class KVCache:
    """Cached keys and values for B rows, room for ``capacity`` positions each.

    Attributes:
        keys, values: one (B, nh, capacity, hs) tensor per layer; positions ``>= lengths[b]`` of row
            b hold stale numbers that attention never reads.
        lengths: (B,) int64, how many positions of each row are filled.
    """

    keys: list[torch.Tensor]
    values: list[torch.Tensor]
    lengths: torch.Tensor

    def __len__(self) -> int:
        return int(self.lengths.numel())

    @property
    def capacity(self) -> int:
        return int(self.keys[0].size(2))

    def select(self, rows: Sequence[int] | torch.Tensor) -> KVCache:
        """A cache of the given rows, in that order (a copy)."""
        index = torch.as_tensor(rows, dtype=torch.long)  # (B',)
        return KVCache([k[index] for k in self.keys], [v[index] for v in self.values], self.lengths[index])

    def extend(self, rows: int) -> KVCache:
        """This cache with ``rows`` empty rows (length 0) appended."""
        if rows == 0:
            return self
        def grown(t: torch.Tensor) -> torch.Tensor:
            return torch.cat([t, t.new_zeros(rows, *t.shape[1:])])  # (B + rows, nh, capacity, hs)
        return KVCache([grown(k) for k in self.keys], [grown(v) for v in self.values],
                       torch.cat([self.lengths, self.lengths.new_zeros(rows)]))


def _shape(model: nn.Module) -> tuple[int, int, int, int]:
    """(n_layer, n_head, head size, block_size) of a GPT."""
    c = model.config
    return c.n_layer, c.n_head, c.n_embd // c.n_head, c.block_size


def empty_cache(model: nn.Module, rows: int) -> KVCache:
    """A cache of ``rows`` empty rows with room for the model's whole context (``block_size``)."""
    n_layer, nh, hs, block = _shape(model)
    weight = model.wte.weight
    shape = (rows, nh, block, hs)
    return KVCache([weight.new_zeros(shape) for _ in range(n_layer)], [weight.new_zeros(shape) for _ in range(n_layer)],
                   torch.zeros(rows, dtype=torch.long, device=weight.device))


def _heads(t: torch.Tensor, nh: int) -> torch.Tensor:
    """(B, T, C) -> (B, nh, T, C // nh): one slice of the channels per head."""
    B, T, C = t.shape
    return t.view(B, T, nh, C // nh).transpose(1, 2)  # (B, nh, T, hs)


def _merge_heads(y: torch.Tensor) -> torch.Tensor:
    """(B, nh, T, hs) -> (B, T, nh * hs): the heads' outputs side by side."""
    B, nh, T, hs = y.shape
    return y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, T, C)


def _mlp_residual(block: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return x + block.mlp(block.ln_2(x))  # (B, T, C)


@torch.no_grad()
def prefill(model: nn.Module, cache: KVCache, rows: Sequence[int], prompts: Sequence[Sequence[int]]) -> torch.Tensor:
    """Run ``prompts`` through the model from position 0 and store their keys and values in ``rows``.

    Prompts of different lengths are padded on the right: attention is causal, so padding after a
    prompt's last token changes none of its positions (what the padding writes into the cache lies
    past the row's length and is never read).

    Args:
        cache: the cache to fill (modified in place: the rows' keys, values and lengths).
        rows: B row indices of ``cache``, one per prompt.
        prompts: B lists of token ids, each 1..capacity long.

    Returns:
        (B, V) logits of the token that follows each prompt (those of ``model(prompt)[0][:, -1]``).
    """
    nh = model.config.n_head
    lengths = torch.tensor([len(p) for p in prompts], device=cache.lengths.device)  # (B,)
    T = int(lengths.max())
    if int(lengths.min()) < 1 or T > cache.capacity:
        raise ValueError(f"prompts must have 1..{cache.capacity} tokens, got lengths {lengths.tolist()}")
    idx = torch.zeros(len(prompts), T, dtype=torch.long, device=lengths.device)  # (B, T), right-padded
    for i, p in enumerate(prompts):
        idx[i, : len(p)] = torch.as_tensor(p)
    index = torch.as_tensor(rows, dtype=torch.long, device=lengths.device)  # (B,)
    x = model.wte(idx) + model.wpe(torch.arange(T, device=idx.device))  # (B, T, C)
    for layer, block in enumerate(model.h):
        q, k, v = block.attn.c_attn(block.ln_1(x)).chunk(3, dim=-1)  # each (B, T, C)
        q, k, v = _heads(q, nh), _heads(k, nh), _heads(v, nh)  # each (B, nh, T, hs)
        cache.keys[layer][index, :, :T] = k
        cache.values[layer][index, :, :T] = v
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        x = _mlp_residual(block, x + block.attn.c_proj(_merge_heads(y)))  # (B, T, C)
    cache.lengths[index] = lengths
    last = x[torch.arange(len(prompts)), lengths - 1]  # (B, C): each prompt's last position
    return model.lm_head(model.ln_f(last))  # (B, V)


@torch.no_grad()
def decode_step(model: nn.Module, cache: KVCache, tokens: torch.Tensor, rows: Sequence[int] | None = None) -> torch.Tensor:
    """Feed one token per row at position ``cache.lengths[row]`` and extend each of those rows by it.

    Args:
        cache: the cache (modified in place); every stepped row must be shorter than its capacity.
        tokens: (B,) int64, the newest token of each stepped row.
        rows: the B rows to step, in the order of ``tokens`` (default: every row, in order). The
            other rows are left as they are (a server steps the running rows while new ones are
            being prefilled).

    Returns:
        (B, V) logits of the token after it, for each stepped row.
    """
    nh = model.config.n_head
    index = torch.arange(len(cache)) if rows is None else torch.as_tensor(rows, dtype=torch.long)  # (B,)
    pos = cache.lengths if rows is None else cache.lengths[index]  # (B,) where each new token goes
    span = int(pos.max()) + 1  # the positions any stepped row attends to
    if span > cache.capacity:
        raise ValueError(f"a row is full ({cache.capacity} positions): prefill its last window instead")
    visible = (torch.arange(span, device=pos.device)[None, :] <= pos[:, None])[:, None, None, :]  # (B, 1, 1, span)
    x = (model.wte(tokens) + model.wpe(pos))[:, None, :]  # (B, 1, C)
    for layer, block in enumerate(model.h):
        q, k, v = block.attn.c_attn(block.ln_1(x)).chunk(3, dim=-1)  # each (B, 1, C)
        q, k, v = _heads(q, nh), _heads(k, nh), _heads(v, nh)  # each (B, nh, 1, hs)
        keys, values = cache.keys[layer], cache.values[layer]  # (rows, nh, capacity, hs)
        keys[index, :, pos] = k[:, :, 0]  # (B, nh, hs) written at each row's position
        values[index, :, pos] = v[:, :, 0]
        if rows is None:
            keys, values = keys[:, :, :span], values[:, :, :span]  # views
        else:
            keys, values = keys[index, :, :span], values[index, :, :span]  # (B, nh, span, hs) copies
        y = F.scaled_dot_product_attention(q, keys, values, attn_mask=visible)  # (B, nh, 1, hs)
        x = _mlp_residual(block, x + block.attn.c_proj(_merge_heads(y)))  # (B, 1, C)
    if rows is None:
        cache.lengths += 1
    else:
        cache.lengths[index] += 1
    return model.lm_head(model.ln_f(x[:, 0]))  # (B, V)


@torch.no_grad()
def generate_cached(model: nn.Module, idx: torch.Tensor, max_new_tokens: int) -> torch.Tensor:
    """Greedy decoding with a key-value cache: ``generate(model, idx, max_new_tokens, greedy=True)``, faster.

    Once a sequence is longer than ``block_size``, :func:`~vlcourse.gpt.generation.generate` reads
    only its last ``block_size`` tokens, at positions 0..block_size-1 again, so no cached key stays
    valid: each such step prefills the last window (as costly as the full forward pass, as before).

    Args:
        idx: (B, T0) int64 prompt token ids.

    Returns:
        (B, T0 + max_new_tokens) int64.
    """
    was_training = model.training
    model.eval()
    block = model.config.block_size
    B = idx.size(0)
    cache = empty_cache(model, B)
    rows = list(range(B))
    out = idx
    for _ in range(max_new_tokens):
        if out.size(1) > block or cache.lengths[0] == 0:  # a new prompt, or the window slides: start over
            logits = prefill(model, cache, rows, out[:, -block:].tolist())  # (B, V)
        else:
            logits = decode_step(model, cache, out[:, -1])  # (B, V)
        out = torch.cat([out, logits.argmax(dim=-1, keepdim=True).to(out.dtype)], dim=1)  # (B, T + 1)
    model.train(was_training)
    return out
