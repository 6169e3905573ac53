"""Data and models for assignment 06, as plain data: few-shot episodes, products, CLIP on shapes.

Everything here is reusable and stays available while grading (the graded pieces live in
``prompting``, ``evaluation``, ``reasoning``, ``socratic`` and ``descriptors``).

* :func:`icl_episodes`: classification episodes drawn exactly as ``icl-tiny`` was trained
  (:mod:`vlcourse.icl.episodes`), as dicts a student's :func:`evaluate_icl` reads.
* :func:`product_questions`, :func:`cot_demos`, :func:`direct_demos`: products of four digits (held-out
  ones never seen in training, in any order) and worked examples.
* :func:`load_clip`, :func:`clip_text_encoder`, :func:`clip_image_embeddings`, :func:`caption_prefixes`,
  :func:`shape_images`: the course's CLIP (assignment 04) for the GPT + X pipelines.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

import torch

from vlcourse.icl.episodes import (ATTRIBUTES, LABEL_KINDS, chain_of_thought, digit_tuples, random_description,
                                   product, product_problem, random_task)

ICL_MODEL = "icl-tiny"
CAPTION_MODEL = "caption-gpt-shapes-tiny"


def icl_episodes(n: int, shots: int, kind: str | None = None, seed: int = 0) -> list[dict]:
    """``n`` episodes of fresh tasks, each with ``shots`` examples, a query and its answer.

    Args:
        n: number of episodes.
        shots: examples per episode (evaluate with any ``k <= shots``: the first k are used).
        kind: ``"real"``, ``"flipped"`` or ``"nonsense"`` labels (see :mod:`vlcourse.icl.episodes`),
            or None for a random kind per episode.
        seed: the episodes are a function of ``(n, shots, kind, seed)``.

    Returns:
        Dicts ``{"examples": [[input, label], ...], "query": input, "answer": label, "labels": [...],
        "kind": kind, "real_answer": the query's real attribute name}``; an input is a shape description
        such as ``"red circle"``, the labels are the task's four labels.
    """
    if kind is not None and kind not in LABEL_KINDS:
        raise ValueError(f"kind must be one of {LABEL_KINDS} or None, got {kind!r}")
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        task = random_task(rng, kind)
        examples = [[" ".join(d), task.label(d)] for d in (random_description(rng) for _ in range(shots))]
        query = random_description(rng)
        real = query[0] if task.attribute == "color" else query[1]
        out.append({"examples": examples, "query": " ".join(query), "answer": task.label(query),
                    "labels": list(task.labels), "kind": task.kind, "real_answer": real})
    return out


def product_questions(n: int, split: str = "heldout", seed: int = 0) -> list[tuple[str, int]]:
    """``n`` products of four digits ``("3*4*2*5", 120)`` from a split (``"heldout"``: never trained on)."""
    rng = random.Random(seed)
    return [(product_problem(d), product(d)) for d in rng.sample(digit_tuples(split), n)]


def cot_demos(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """``n`` worked examples ``(question, chain)`` from the training split (for :func:`cot_prompt`)."""
    rng = random.Random(seed)
    return [(product_problem(d), chain_of_thought(d)) for d in rng.sample(digit_tuples("train"), n)]


def direct_demos(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """The same problems as :func:`cot_demos` with direct answers ``(question, "120")``."""
    rng = random.Random(seed)
    return [(product_problem(d), str(product(d))) for d in rng.sample(digit_tuples("train"), n)]


# --- CLIP ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def load_clip():
    """The course's CLIP on shapes (assignment 04's ``clip_shapes_tiny``): ``(model, tokenizer)``."""
    from vlcourse.clip import load_reference

    model, tokenizer, _ = load_reference("tiny")
    return model, tokenizer


def clip_text_encoder() -> Callable[[list[str]], torch.Tensor]:
    """``encode_text(texts) -> (K, D)`` unnormalised CLIP text embeddings."""
    from vlcourse.clip import text_encoder

    return text_encoder(*load_clip())


@torch.no_grad()
def clip_image_embeddings(images: torch.Tensor) -> torch.Tensor:
    """(N, D) unnormalised CLIP embeddings of (N, 3, H, W) images in [0, 1]."""
    from vlcourse.clip import encode_images

    return encode_images(load_clip()[0], images)


def shape_images(split: str = "val", num: int = 100, seed: int = 11, max_objects: int = 2):
    """Shapes images with their captions and labels: ``ShapesData`` (images as float in [0, 1])."""
    import dataclasses

    from vlcourse.clip import CLIP_SHAPES
    from vlcourse.data.shapes import generate_shapes

    cfg = dataclasses.replace(CLIP_SHAPES, num_samples=num, seed=seed, max_objects=max_objects)
    data = generate_shapes(cfg, split)
    return dataclasses.replace(data, images=data.images.float() / 255.0)


def caption_prefixes(vocab: dict[str, list[str]]) -> list[str]:
    """The Socratic pipeline's proposals: every object ``"a {size} {colour} {shape}"`` of the shapes vocabulary
    (CLIP picks the main object; the language model may go on with a relation and a second object)."""
    return [f"a {size} {color} {shape}" for size in vocab["size"] for color in vocab["color"] for shape in vocab["shape"]]


__all__ = ["ICL_MODEL", "CAPTION_MODEL", "ATTRIBUTES", "icl_episodes", "product_questions", "cot_demos", "direct_demos",
           "load_clip", "clip_text_encoder", "clip_image_embeddings", "shape_images", "caption_prefixes"]
