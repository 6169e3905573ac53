"""Socratic captioning: CLIP proposes, a language model writes, CLIP reranks (assignment 06; withheld while grading).

Zeng et al. (2022, "Socratic Models: Composing Zero-Shot Multimodal Reasoning with Language") caption
an image with no captioning model at all: a vision-language model (CLIP) picks the words that fit
the image from fixed lists, a language model turns them into candidate sentences, and CLIP picks the
candidate closest to the image. Neither model is trained for the task; they talk through text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["socratic_caption", "CAPTION_MAX_TOKENS", "CAPTION_TEMPERATURE"]

CAPTION_MAX_TOKENS = 16
CAPTION_TEMPERATURE = 1.0  # greedy, the caption GPT nearly always ends the caption right after the proposal


def socratic_caption(client, image_embedding: torch.Tensor, encode_text: Callable[[list[str]], torch.Tensor],
                     proposals: Sequence[str], k: int = 3, n: int = 4, model: str = "caption-gpt-shapes-tiny",
                     temperature: float = CAPTION_TEMPERATURE, seed: int = 0) -> list[tuple[str, float]]:
    """Caption one image in three steps and return the candidates ranked by CLIP.

    1. **CLIP proposes**: the cosine similarity of the image with each proposal's text embedding
       (``encode_text(list(proposals))``, both sides L2-normalised); the ``k`` most similar proposals
       are kept (best first; ties in the order of ``proposals``).
    2. **The LM writes**: ``n`` sampled completions of each kept proposal (``temperature``, ``seed``,
       ``max_tokens=CAPTION_MAX_TOKENS``, ``stop=["\\n"]``; one request with the kept proposals as a
       list of prompts and ``n=n``, or one request per proposal with ``n=n``: an endpoint that seeds
       choice j of a prompt with ``seed + j``, as ours does, gives the same samples either way). A
       candidate caption is ``(proposal + completion).strip()``, taken proposal by proposal (best
       first), choice by choice; repeated candidates are kept once (the first).
    3. **CLIP reranks**: the cosine similarity of the image with each candidate's text embedding.

    Args:
        client: an ``openai.OpenAI`` client.
        image_embedding: (D,) CLIP image embedding (unnormalised).
        encode_text: maps a list of K strings to a (K, D) tensor of CLIP text embeddings (unnormalised).
        proposals: beginnings of captions to choose from, e.g. ``"a small red circle"``; ``k * n`` at
            most 16 (our endpoint answers at most 16 choices per request).
        k: proposals kept, ``1 <= k <= len(proposals)``.
        n: completions per kept proposal (>= 1).
        model: the language model that writes.
        temperature, seed: how the completions are sampled.

    Returns:
        ``[(caption, similarity), ...]`` for every distinct candidate, by decreasing similarity (on a
        tie, the earlier candidate first); the first caption is the answer.
    """
    if not 1 <= k <= len(proposals):
        raise ValueError(f"k must be between 1 and the number of proposals ({len(proposals)}), got {k}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    image = F.normalize(image_embedding.float(), dim=-1)  # (D,)
    proposal_sim = F.normalize(encode_text(list(proposals)).float(), dim=-1) @ image  # (P,)
    order = sorted(range(len(proposals)), key=lambda i: -proposal_sim[i].item())[:k]  # stable: ties keep order
    kept = [proposals[i] for i in order]
    reply = client.completions.create(model=model, prompt=kept, n=n, temperature=temperature, seed=seed,
                                      max_tokens=CAPTION_MAX_TOKENS, stop=["\n"])
    candidates: list[str] = []
    for choice in sorted(reply.choices, key=lambda c: c.index):  # index = prompt * n + j
        caption = (kept[choice.index // n] + choice.text).strip()
        if caption not in candidates:
            candidates.append(caption)
    similarity = F.normalize(encode_text(candidates).float(), dim=-1) @ image  # (C,)
    ranked = sorted(range(len(candidates)), key=lambda i: -similarity[i].item())
    return [(candidates[i], similarity[i].item()) for i in ranked]
