"""Decoding a caption from a CLIP embedding (students write it in assignment 04; withheld while grading)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["generate_caption"]


@torch.no_grad()
def generate_caption(model, clip_embed: torch.Tensor, eos_id: int, max_length: int = 20, beam_size: int = 1) -> list[list[int]]:
    """Captions of a batch of CLIP embeddings by beam search (greedy when ``beam_size == 1``).

    For each image separately: the prefix ``model.mapper(clip_embed[i:i+1])`` starts every
    hypothesis. At each step every live hypothesis is extended by every token, scored by its total
    log-probability (the sum of ``log_softmax`` of the logits at its last position); the
    ``beam_size`` best extensions over all live hypotheses are kept. A kept extension ending in
    ``eos_id`` is finished and leaves the beam. Decoding stops when no hypothesis is live or after
    ``max_length`` tokens. Among the finished hypotheses and those still live at the end, the answer
    is the one with the highest **length-normalised** score: total log-probability divided by its
    number of tokens (the end token counted).

    Args:
        model: a :class:`ClipCap` (``model.mapper``, ``model.lm.embed``, ``model.lm.forward_embeds``).
        clip_embed: (B, clip_dim).
        eos_id: the end-of-caption token.
        max_length: most tokens generated per caption (the end token included).
        beam_size: hypotheses kept per step; 1 is greedy decoding.

    Returns:
        B lists of token ids, without the end token.
    """
    captions = []
    for i in range(clip_embed.shape[0]):
        prefix = model.mapper(clip_embed[i:i + 1])  # (1, P, C)
        live = [([], 0.0)]  # (tokens, total log-probability)
        done = []
        for _ in range(max_length):
            candidates = []
            for tokens, score in live:
                ids = torch.tensor([tokens], dtype=torch.long, device=prefix.device)  # (1, t)
                x = torch.cat([prefix, model.lm.embed(ids)], dim=1)  # (1, P + t, C)
                logp = F.log_softmax(model.lm.forward_embeds(x)[0, -1].double(), dim=-1)  # (V,)
                top = torch.topk(logp, min(beam_size, logp.numel()))
                candidates += [(tokens + [int(t)], score + float(v)) for v, t in zip(top.values, top.indices)]
            candidates.sort(key=lambda c: c[1], reverse=True)
            live = []
            for tokens, score in candidates[:beam_size]:
                (done if tokens[-1] == eos_id else live).append((tokens, score))
            if not live:
                break
        best = max(done + live, key=lambda c: c[1] / len(c[0]))
        tokens = best[0]
        captions.append(tokens[:-1] if tokens[-1] == eos_id else tokens)
    return captions
