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

__all__ = ["socratic_caption", "CAPTION_MAX_TOKENS"]

CAPTION_MAX_TOKENS = 16


def socratic_caption(client, image_embedding: torch.Tensor, encode_text: Callable[[list[str]], torch.Tensor],
                     proposals: Sequence[str], k: int = 3, model: str = "caption-gpt-shapes-tiny") -> list[tuple[str, float]]:
    """Caption one image in three steps and return the candidates ranked by CLIP.

    1. **CLIP proposes**: the cosine similarity of the image with each proposal's text embedding
       (``encode_text(list(proposals))``, both sides L2-normalised); the ``k`` most similar proposals
       are kept (best first; ties in the order of ``proposals``).
    2. **The LM writes**: each kept proposal is completed by the language model (one completion each,
       ``temperature=0``, ``max_tokens=CAPTION_MAX_TOKENS``, ``stop=["\\n"]``); a candidate caption is
       ``(proposal + completion).strip()``. Repeated candidates are kept once (the first).
    3. **CLIP reranks**: the cosine similarity of the image with each candidate's text embedding.

    Args:
        client: an ``openai.OpenAI`` client.
        image_embedding: (D,) CLIP image embedding (unnormalised).
        encode_text: maps a list of K strings to a (K, D) tensor of CLIP text embeddings (unnormalised).
        proposals: beginnings of captions to choose from, e.g. ``"a small red"``.
        k: proposals kept, ``1 <= k <= len(proposals)``.
        model: the language model that writes.

    Returns:
        ``[(caption, similarity), ...]`` for every distinct candidate, by decreasing similarity (on a
        tie, the earlier candidate first); the first caption is the answer.
    """
    if not 1 <= k <= len(proposals):
        raise ValueError(f"k must be between 1 and the number of proposals ({len(proposals)}), got {k}")
    image = F.normalize(image_embedding.float(), dim=-1)  # (D,)
    proposal_sim = F.normalize(encode_text(list(proposals)).float(), dim=-1) @ image  # (P,)
    order = sorted(range(len(proposals)), key=lambda i: -proposal_sim[i].item())[:k]  # stable: ties keep order
    candidates: list[str] = []
    for i in order:
        reply = client.completions.create(model=model, prompt=proposals[i], temperature=0,
                                          max_tokens=CAPTION_MAX_TOKENS, stop=["\n"])
        caption = (proposals[i] + reply.choices[0].text).strip()
        if caption not in candidates:
            candidates.append(caption)
    similarity = F.normalize(encode_text(candidates).float(), dim=-1) @ image  # (C,)
    ranked = sorted(range(len(candidates)), key=lambda i: -similarity[i].item())
    return [(candidates[i], similarity[i].item()) for i in ranked]
