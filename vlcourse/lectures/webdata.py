"""A deliberately noisy image / alt-text set and the web-data filters of ALIGN, CC and LAION.

Web image-text data is mostly noise. Each large dataset is defined as much by its filters as by its
source:

* ALIGN (Jia et al. 2021): drop small images; drop alt-texts shared by more than 10 images
  ("1920x1080", "image"); drop texts that are too short or too long.
* Conceptual Captions (Sharma et al. 2018): keep alt-texts that read like descriptions: enough
  distinct words, little token repetition, no boilerplate; then detect objects and hypernymise.
* LAION (Schuhmann et al. 2022): keep a pair when CLIP finds image and text similar enough (cosine
  similarity >= 0.28 with ViT-B/32), which removes ~90 % of Common Crawl.

:func:`noisy_alt_text` builds the noisy set from shapes images and captions, with a ground-truth
flag per pair, so the filters' precision and recall can be measured, and
:func:`zero_shot_after_filtering` trains a small CLIP (``vlcourse.clip``) on each filter's subset to
measure what the filter does to zero-shot accuracy.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from vlcourse.data.shapes import ShapesConfig, generate_shapes

NOISE_KINDS = ("clean", "boilerplate", "mismatched", "too short", "spam", "small image")
BOILERPLATE = ("1920x1080", "image", "IMG_0042.jpg", "click here", "stock photo", "untitled")
SPAM_WORDS = ("buy", "cheap", "best", "free", "shipping", "circle", "red", "sale")


@dataclass
class NoisyPairs:
    """Image / alt-text pairs with their ground truth.

    Attributes:
        images: float (N, 3, 32, 32) in [0, 1].
        texts: N alt-texts.
        kind: N names from :data:`NOISE_KINDS`; only ``"clean"`` pairs match their image.
        image_size: (N,) int64, the "original" size of each image before it was resized to 32 px.
        canonical: N true captions (what a careful annotator would write).
        labels: the shapes labels of the images (``shape``, ``color``, ``size``, ``count``), each (N,).
    """

    images: Tensor
    texts: list[str]
    kind: list[str]
    image_size: Tensor
    canonical: list[str]
    labels: dict[str, Tensor]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def is_clean(self) -> Tensor:
        """(N,) bool: the pair's text truly describes its image."""
        return torch.tensor([k == "clean" for k in self.kind])


def noisy_alt_text(num: int = 600, clean_fraction: float = 0.4, seed: int = 0) -> NoisyPairs:
    """Shapes pairs where a ``1 - clean_fraction`` share is noise of the kinds in :data:`NOISE_KINDS`.

    Small images are downsampled to 8 px and blown back up to 32 px (they look blocky and record
    ``image_size`` 8); the other images have ``image_size`` 32.
    """
    if not 0.0 <= clean_fraction <= 1.0:
        raise ValueError(f"clean_fraction must be in [0, 1], got {clean_fraction}")
    data = generate_shapes(ShapesConfig(num_samples=num, seed=seed, max_objects=2))
    rng = np.random.default_rng(seed)
    noise_kinds = NOISE_KINDS[1:]
    kind = ["clean" if rng.random() < clean_fraction else noise_kinds[rng.integers(len(noise_kinds))]
            for _ in range(num)]
    images = data.images.float() / 255.0  # (N, 3, 32, 32)
    sizes = torch.full((num,), 32, dtype=torch.long)
    texts: list[str] = []
    for i, k in enumerate(kind):
        if k == "clean":
            texts.append(data.captions[i])
        elif k == "boilerplate":
            texts.append(BOILERPLATE[rng.integers(len(BOILERPLATE))])
        elif k == "mismatched":
            texts.append(data.captions[(i + 1 + rng.integers(num - 1)) % num])
        elif k == "too short":
            texts.append(data.captions[i].split()[-1])
        elif k == "spam":
            texts.append(" ".join(rng.choice(SPAM_WORDS, size=int(rng.integers(12, 24)))))
        else:  # small image: right text, useless picture
            texts.append(data.captions[i])
            small = F.interpolate(images[i:i + 1], size=8, mode="area")  # (1, 3, 8, 8)
            images[i] = F.interpolate(small, size=32, mode="nearest")[0]  # (3, 32, 32)
            sizes[i] = 8
    return NoisyPairs(images, texts, kind, sizes, data.canonical_captions, data.labels)


def align_filter(pairs: NoisyPairs, min_image_size: int = 16, max_repeats: int = 10,
                 min_words: int = 3, max_words: int = 20) -> Tensor:
    """ALIGN's rules (image size, alt-text frequency, text length): (N,) bool, True = keep."""
    counts = Counter(pairs.texts)
    keep = [int(size) >= min_image_size and counts[t] <= max_repeats and min_words <= len(t.split()) <= max_words
            for t, size in zip(pairs.texts, pairs.image_size)]
    return torch.tensor(keep)


def cc_filter(pairs: NoisyPairs, min_unique_ratio: float = 0.7, nouns: tuple[str, ...] | None = None) -> Tensor:
    """Conceptual-Captions-style text rules: (N,) bool, True = keep.

    A text passes if it has at least 3 words, at least ``min_unique_ratio`` of its words are
    distinct (no token repetition), it contains no digits or file names (boilerplate), and it
    names at least one object noun (CC required detected objects; our nouns are the shape names).
    """
    from vlcourse.data.shapes import SHAPE_NAMES

    nouns = nouns or SHAPE_NAMES
    keep = []
    for t in pairs.texts:
        words = t.lower().split()
        ok = (len(words) >= 3 and len(set(words)) / len(words) >= min_unique_ratio
              and not re.search(r"\d|\.(jpg|png)", t) and any(w.strip(".,") in nouns for w in words))
        keep.append(ok)
    return torch.tensor(keep)


def clip_scores(image_features: Tensor, text_features: Tensor) -> Tensor:
    """Cosine similarity of each image with its own text: (N, D), (N, D) -> (N,)."""
    return (F.normalize(image_features, dim=-1) * F.normalize(text_features, dim=-1)).sum(-1)


def laion_filter(scores: Tensor, threshold: float) -> Tensor:
    """LAION's rule: keep pairs whose CLIP score is at least ``threshold``. (N,) -> (N,) bool."""
    return scores >= threshold


def filter_report(keep: Tensor, is_clean: Tensor) -> dict[str, float]:
    """How well a filter separates clean pairs: kept fraction, precision and recall of "clean"."""
    keep, is_clean = keep.bool(), is_clean.bool()
    kept = int(keep.sum())
    tp = int((keep & is_clean).sum())
    return {"kept": kept / len(keep), "precision": tp / kept if kept else float("nan"),
            "recall": tp / int(is_clean.sum()) if int(is_clean.sum()) else float("nan")}


@dataclass
class FilterTraining:
    """How :func:`zero_shot_after_filtering` trains and tests one small CLIP per filter.

    Attributes:
        steps: training steps of each CLIP (the same for every filter: equal compute, not equal epochs).
        batch_size: pairs per step.
        lr: peak learning rate (``warmup_steps`` of linear warm-up, then cosine down to ``lr / 20``).
        seeds: one CLIP per seed and filter (initialisation and batch order).
        model: an open_clip name registered by ``vlcourse.clip`` (the tiny CLIP's architecture).
        attributes: the shapes attributes to classify zero-shot (colour and size are learnt in a
            hundred steps; shape is not, see ``vlcourse.clip.train``).
        num_eval: held-out test images (colour x shape pairs never seen in training).
        fused_optimizer: PyTorch's fused AdamW (see ``vlcourse.clip.train.make_optimizer``): the
            same update, and most of a CPU step's time saved.
        threads: torch CPU threads while training (None: as set; restored afterwards).
    """

    steps: int = 100
    batch_size: int = 64
    lr: float = 2e-3
    seeds: tuple[int, ...] = (0, 1)
    model: str = "vlc-clip-tiny"
    attributes: tuple[str, ...] = ("color", "size")
    num_eval: int = 150
    warmup_steps: int = 10
    fused_optimizer: bool = True
    threads: int | None = None

    def __post_init__(self):
        if self.steps < 1 or self.batch_size < 2:
            raise ValueError(f"steps must be >= 1 and batch_size >= 2 (a contrastive batch needs a negative), "
                             f"got {self.steps} and {self.batch_size}")
        if not self.seeds:
            raise ValueError("seeds is empty: give at least one seed, e.g. seeds=(0, 1)")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads}")


def zero_shot_after_filtering(pairs: NoisyPairs, keeps: dict[str, Tensor],
                              cfg: FilterTraining | None = None) -> dict[str, dict[str, list[float]]]:
    """Train a fresh small CLIP on each filter's subset of ``pairs`` and test it zero-shot.

    Each filter's kept pairs train ``len(cfg.seeds)`` CLIPs from random weights with
    ``vlcourse.clip.train_clip`` (the reference contrastive loss, CLIP: Radford et al. 2021) for
    ``cfg.steps`` steps; each is then tested with a prompt ensemble on held-out colour x shape images.

    Args:
        pairs: the noisy set, N pairs.
        keeps: filter name -> (N,) bool mask of the pairs it keeps (e.g. all True for "no filter").
        cfg: the training budget.

    Returns:
        ``{filter name: {attribute: [accuracy per seed]}}``.
    """
    cfg = cfg or FilterTraining()
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return _train_and_test_per_filter(pairs, keeps, cfg)
    finally:
        torch.set_num_threads(threads)


def _train_and_test_per_filter(pairs: NoisyPairs, keeps: dict[str, Tensor], cfg: FilterTraining) -> dict[str, dict[str, list[float]]]:
    from vlcourse.clip import create_clip, shape_templates, train_clip, zero_shot_accuracy, zero_shot_data
    from vlcourse.training import TrainConfig

    images, labels, vocab = zero_shot_data("heldout", cfg.num_eval)
    schedule = TrainConfig(steps=cfg.steps, lr=cfg.lr, min_lr=cfg.lr / 20, warmup_steps=min(cfg.warmup_steps, cfg.steps),
                           weight_decay=0.1, progress=False)
    results: dict[str, dict[str, list[float]]] = {}
    for name, keep in keeps.items():
        kept = keep.nonzero()[:, 0].tolist()
        if len(kept) < 2:
            raise ValueError(f"filter {name!r} keeps {len(kept)} pairs; a contrastive batch needs at least 2")
        results[name] = {attr: [] for attr in cfg.attributes}
        for seed in cfg.seeds:
            torch.manual_seed(seed)
            model, _, tokenizer = create_clip(cfg.model)
            train_clip(model, tokenizer, pairs.images[kept], [pairs.texts[i] for i in kept], schedule,
                       cfg.batch_size, seed=seed, desc=name, fused_optimizer=cfg.fused_optimizer)
            model.eval()
            with torch.no_grad():
                for attr in cfg.attributes:
                    results[name][attr].append(zero_shot_accuracy(model, tokenizer, images, labels[attr], vocab[attr],
                                                                  shape_templates(attr, vocab)))
    return results


# Two-sided 5 % critical values of Student's t by degrees of freedom (beyond 30, the normal's 1.96).
T_CRITICAL_5 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23,
                12: 2.18, 14: 2.14, 16: 2.12, 18: 2.10, 20: 2.09, 25: 2.06, 30: 2.04}


def t_statistic(a: list[float], b: list[float]) -> tuple[float, int]:
    """Student's two-sample t statistic (pooled variance) of ``mean(a) - mean(b)`` and its degrees of freedom."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"a t-test needs at least two runs per group, got {len(a)} and {len(b)}")
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    df = len(x) + len(y) - 2
    pooled = (((x - x.mean()) ** 2).sum() + ((y - y.mean()) ** 2).sum()) / df
    diff = x.mean() - y.mean()
    if pooled == 0.0:
        return (0.0 if diff == 0 else float(np.sign(diff)) * float("inf")), df
    return float(diff / np.sqrt(pooled * (1 / len(x) + 1 / len(y)))), df


def beyond_seed_noise(a: list[float], b: list[float]) -> bool:
    """Whether per-seed results ``a`` and ``b`` differ by more than seed noise: a two-sided t-test at 5 %.

    With few seeds only large, consistent differences pass (two seeds per group need t > 4.30); fewer
    than two runs in a group can never show a difference. Everything else is reported as no
    measurable difference.
    """
    if len(a) < 2 or len(b) < 2:
        return False
    t, df = t_statistic(a, b)
    critical = T_CRITICAL_5[max(k for k in T_CRITICAL_5 if k <= df)] if df <= 30 else 1.96
    return abs(t) > critical


__all__ = ["NOISE_KINDS", "NoisyPairs", "noisy_alt_text", "align_filter", "cc_filter", "clip_scores",
           "laion_filter", "filter_report", "FilterTraining", "zero_shot_after_filtering", "t_statistic", "beyond_seed_noise"]
