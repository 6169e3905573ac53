"""The CLIP model, built with open_clip, and what is measured with it.

The course's small CLIPs are named configs registered with open_clip the way its own are: a JSON
file per architecture in ``vlcourse/clip/model_configs/`` (``vlc-clip-tiny-rn``, the shipped tiny
checkpoint's; ``vlc-clip-tiny``, its ViT predecessor; ``vlc-clip-gpu``), added to open_clip's
registry with ``open_clip.add_model_config``. After :func:`register_configs` they are built exactly
like ``ViT-B-32`` is, and the same code serves both:

* :func:`create_clip` = ``open_clip.create_model_and_transforms(name, pretrained=...)`` plus
  ``open_clip.get_tokenizer(name)`` (open_clip's bundled BPE tokenizer; nothing is downloaded).
  ``pretrained=None`` (the default) never downloads: the architecture comes randomly initialised.
* :func:`prepare_images` turns the course's float images in [0, 1] into the model's input
  (resized to its image size, normalised with its mean and standard deviation).
* :func:`text_encoder` gives the ``encode_text(list_of_strings)`` that :func:`zero_shot_classifier`
  expects; :func:`zero_shot_accuracy` and :func:`retrieval_recall` are the two evaluations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "CONFIG_DIR", "COURSE_MODELS", "register_configs", "model_config", "create_clip", "get_tokenizer",
    "prepare_images", "encode_images", "encode_texts", "text_encoder", "classify", "zero_shot_accuracy",
    "retrieval_recall", "shape_templates", "SINGLE_TEMPLATES", "reference_zero_shot_classifier",
]

CONFIG_DIR = Path(__file__).parent / "model_configs"
COURSE_MODELS = tuple(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
_registered = False


def register_configs() -> tuple[str, ...]:
    """Add the course's model configs to open_clip's registry (once); returns their names."""
    global _registered
    import open_clip

    if not _registered or not set(COURSE_MODELS) <= set(open_clip.list_models()):
        open_clip.add_model_config(CONFIG_DIR)
        _registered = True
    return COURSE_MODELS


def model_config(name: str) -> dict:
    """open_clip's config dict of a registered model (course configs included)."""
    import open_clip

    register_configs()
    config = open_clip.get_model_config(name)
    if config is None:
        raise KeyError(f"open_clip knows no model {name!r}; course models: {', '.join(COURSE_MODELS)}")
    return config


def create_clip(name: str = "vlc-clip-tiny", pretrained: str | None = None, device: str = "cpu", **kwargs):
    """``(model, preprocess, tokenizer)`` for an open_clip model name.

    Args:
        name: a course config (``vlc-clip-tiny``) or any open_clip name (``ViT-B-32``).
        pretrained: open_clip's pretrained tag (e.g. ``"openai"``, ``"laion2b_s34b_b79k"``); this may
            download weights into open_clip's cache. ``None`` (default): random weights, no download.
        device: where to put the model.
        kwargs: passed to ``open_clip.create_model_and_transforms``.

    Returns:
        The ``open_clip.CLIP`` model in eval mode, its PIL preprocessing transform (for real photos;
        the course's tensors go through :func:`prepare_images`), and its tokenizer.
    """
    import logging

    import open_clip

    register_configs()
    logger = logging.getLogger()
    level = logger.level
    if pretrained is None:  # open_clip warns that it loaded no weights; random weights are the point here
        logger.setLevel(logging.ERROR)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=device, **kwargs)
    finally:
        logger.setLevel(level)
    return model.eval(), preprocess, open_clip.get_tokenizer(name)


def get_tokenizer(name: str = "vlc-clip-tiny"):
    """open_clip's tokenizer of a model: ``tokenizer(list_of_strings)`` -> (N, context_length) int64."""
    import open_clip

    register_configs()
    return open_clip.get_tokenizer(name)


def prepare_images(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Float images in [0, 1], (B, 3, H, W) -> the model's input: resized to its image size (bicubic,
    as open_clip's transform) when H differs, normalised with its mean and std. (B, 3, S, S)."""
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    x = images.float()
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)  # (B, 3, S, S)
    mean = torch.tensor(model.visual.image_mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(model.visual.image_std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def encode_images(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Unnormalised image embeddings (N, D) of float images in [0, 1], in batches, without gradients."""
    device = next(model.parameters()).device
    out = [model.encode_image(prepare_images(model, images[i:i + batch_size].to(device))) for i in range(0, len(images), batch_size)]
    return torch.cat(out).float().cpu()


@torch.no_grad()
def encode_texts(model: nn.Module, tokenizer, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
    """Unnormalised text embeddings (N, D) of strings, in batches, without gradients."""
    device = next(model.parameters()).device
    texts = list(texts)
    out = [model.encode_text(tokenizer(texts[i:i + batch_size]).to(device)) for i in range(0, len(texts), batch_size)]
    return torch.cat(out).float().cpu()


def text_encoder(model: nn.Module, tokenizer) -> Callable[[list[str]], torch.Tensor]:
    """``encode_text(list_of_strings) -> (K, D)``, the argument :func:`zero_shot_classifier` expects."""
    return lambda texts: encode_texts(model, tokenizer, texts)


def classify(image_features: torch.Tensor, class_weights: torch.Tensor) -> torch.Tensor:
    """Predicted class per image: argmax of cosine similarity with the (C, D) class embeddings. (N,) int64."""
    return (F.normalize(image_features, dim=-1) @ F.normalize(class_weights, dim=-1).T).argmax(dim=-1)


def reference_zero_shot_classifier() -> Callable:
    """The reference :func:`~vlcourse.clip.zeroshot.zero_shot_classifier`, imported on first use."""
    try:
        from vlcourse.clip.zeroshot import zero_shot_classifier
    except ImportError as err:
        raise RuntimeError("the reference zero_shot_classifier is unavailable (withheld while grading): "
                           "pass your own, e.g. classifier_fn=zero_shot_classifier") from err
    return zero_shot_classifier


# One prompt per class: the bare noun phrase (no size, no colour); shapes captions never look like it.
SINGLE_TEMPLATES = {"shape": ["a {}"], "color": ["a {} shape"], "size": ["a {} shape"]}


def shape_templates(attribute: str, vocab: dict[str, list[str]] | None = None) -> list[str]:
    """Prompt templates for zero-shot classification of the shapes' ``attribute`` (its ``{}``).

    The templates say everything else a caption says: for ``"color"`` they run over sizes and shapes
    (``"a small {} circle"``, ``"a large {} cross"``, ...), for ``"shape"`` over sizes and colours, for
    ``"size"`` over colours and shapes; ensembling averages these nuisance factors out.
    """
    from vlcourse.data.shapes import build_vocab

    vocab = vocab or build_vocab()
    if attribute == "shape":
        return [f"a {s} {c} {{}}" for s in vocab["size"] for c in vocab["color"]]
    if attribute == "color":
        return [f"a {s} {{}} {h}" for s in vocab["size"] for h in vocab["shape"]]
    if attribute == "size":
        return [f"a {{}} {c} {h}" for c in vocab["color"] for h in vocab["shape"]]
    raise ValueError(f"attribute must be 'shape', 'color' or 'size', got {attribute!r}")


def zero_shot_accuracy(
    model: nn.Module, tokenizer, images: torch.Tensor, labels: torch.Tensor, classnames: Sequence[str],
    templates: Sequence[str], classifier_fn: Callable | None = None, image_features: torch.Tensor | None = None,
) -> float:
    """Accuracy of the zero-shot classifier built from ``templates`` on ``(images, labels)``.

    ``classifier_fn``: the function building the class embeddings (default the reference
    :func:`zero_shot_classifier`); ``image_features``: precomputed embeddings of ``images``.
    """
    classifier_fn = classifier_fn or reference_zero_shot_classifier()
    with torch.no_grad():
        weights = classifier_fn(text_encoder(model, tokenizer), list(classnames), list(templates))  # (C, D)
    feats = encode_images(model, images) if image_features is None else image_features  # (N, D)
    return (classify(feats, weights.float()) == labels).float().mean().item()


def retrieval_recall(
    image_features: torch.Tensor, text_features: torch.Tensor, ks: Sequence[int] = (1, 5),
    groups: torch.Tensor | None = None,
) -> dict[str, float]:
    """Image -> text and text -> image recall@k of N paired embeddings.

    Query ``i`` is answered correctly at ``k`` when one of its ``k`` most similar items (cosine) is its
    partner, or, with ``groups`` (N,), any item of the partner's group (shapes captions repeat: two
    images with the same caption are equally right answers).

    Returns:
        ``{"image_to_text_R@1": ..., "text_to_image_R@1": ..., ...}`` for each k, fractions in [0, 1].
    """
    sims = F.normalize(image_features.float(), dim=-1) @ F.normalize(text_features.float(), dim=-1).T  # (N, N)
    n = sims.shape[0]
    groups = torch.arange(n) if groups is None else groups
    out = {}
    for direction, matrix in (("image_to_text", sims), ("text_to_image", sims.T)):
        ranked = matrix.argsort(dim=1, descending=True)  # (N, N): best match first
        hit = groups[ranked] == groups.view(n, 1)  # (N, N): is the j-th answer a right one
        for k in ks:
            out[f"{direction}_R@{k}"] = hit[:, :k].any(dim=1).float().mean().item()
    return out
