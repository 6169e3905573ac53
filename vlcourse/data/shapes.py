"""Shapes: a generated image–caption dataset with a compositional structure, deterministic from a seed.

Every image is a small RGB picture (32×32 by default) of one to three flat objects on a black
background. An object has a *shape* (circle, square, triangle, diamond, cross), a *colour* (a few
clearly distinct named colours), a *size* (small or large) and a position. Each image comes with a
plain-English caption from a tiny grammar, for example::

    a small red circle
    a large blue square left of a small green triangle
    a small cyan diamond above a large yellow cross and right of a small purple circle

The first object named in the canonical caption is the image's *main* object; the classification
labels describe it (its shape, colour and size) together with the number of objects. Relations
("left of", "right of", "above", "below") are read off the actual object positions.

The idea follows compositional benchmarks such as CLEVR (Johnson et al., 2017, "CLEVR: A Diagnostic
Dataset for Compositional Language and Elementary Visual Reasoning"): because scenes are built from
a handful of independent factors, we can hold out some *combinations* of factors (for example, no
red triangle ever appears in training) and ask whether a model that has seen red things and
triangles separately recognises a red triangle. The ``heldout`` split contains exactly those
unseen colour×shape pairs; ``train`` and ``val`` never contain them.

Everything is generated with numpy from ``ShapesConfig.seed`` (no files, no fonts, no PIL), so the
same config always gives the same tensors and captions on any machine. Rasterisation is vectorised:
each object slot and shape type is drawn for all images at once by testing a coordinate grid
against the shape's inequality, so 10,000 images take well under a second.

Coordinates: ``x`` runs along image columns (left to right) and ``y`` along rows (top to bottom);
pixel ``(row, col)`` covers ``[col, col + 1) × [row, row + 1)``, so its centre is
``(col + 0.5, row + 0.5)``. "above" therefore means a smaller ``y``.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

SHAPES_SPLITS = ("train", "val", "heldout")
SHAPES_ATTRIBUTES = ("shape", "color", "size", "count")  # keys of ShapesData.labels and .vocab

# Named colours that stay clearly distinct from each other and from the black background.
SHAPES_PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 90, 235),
    "yellow": (235, 215, 40),
    "purple": (150, 60, 210),
    "cyan": (40, 210, 220),
    "orange": (245, 130, 0),
    "white": (240, 240, 240),
}
SHAPES_BACKGROUND = (0, 0, 0)
SHAPE_NAMES = ("circle", "square", "triangle", "diamond", "cross")
SIZE_NAMES = ("small", "large")
NUMBER_WORDS = ("one", "two", "three", "four")
RELATIONS = ("left of", "right of", "above", "below")
INVERSE_RELATION = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}
# Paraphrases start with one of these (the canonical caption uses the empty one).
CAPTION_PREFIXES = ("", "there is ", "a picture of ", "an image with ")

# Every shape drawn with nominal radius r fits inside a disc of radius BOUNDING_FACTOR * r around its
# centre. Layouts keep these discs inside the image and apart from each other, so objects never overlap.
BOUNDING_FACTOR = 1.15
_LAYOUT_CANDIDATES = 32  # candidate centres tried per object slot and round
_LAYOUT_MAX_ROUNDS = 1000
# The largest large_radius per max_objects for which random layouts are found quickly.
_LARGEST_RADIUS_FOR_COUNT = {1: 0.2, 2: 0.2, 3: 0.2, 4: 0.16}

DEFAULT_COLORS = ("red", "green", "blue", "yellow", "purple", "cyan")
# One held-out shape per colour except cyan: every colour and every shape still occurs in training.
DEFAULT_HELDOUT_PAIRS = (
    ("red", "triangle"),
    ("green", "circle"),
    ("blue", "square"),
    ("yellow", "cross"),
    ("purple", "diamond"),
)


@dataclass
class ShapesConfig:
    """How to generate a Shapes split.

    Attributes:
        image_size: height and width of the square images in pixels (at least 16; from 32 on, small
            and large objects of every shape differ clearly in area).
        num_samples: number of images generated per call of :func:`generate_shapes`.
        min_objects, max_objects: each image holds a uniformly drawn number of objects in this range
            (1 ≤ min_objects ≤ max_objects ≤ 4).
        seed: the whole dataset is a function of ``seed`` and the split name.
        shapes: shape names to use, a subset of ``SHAPE_NAMES``; their order defines the class ids.
        colors: colour names to use, keys of ``SHAPES_PALETTE``; their order defines the class ids.
        heldout_pairs: ``(colour, shape)`` combinations that never appear in ``train`` / ``val`` and
            are the main object of every ``heldout`` image.
        small_radius, large_radius: nominal object radius as a fraction of ``image_size``.
        paraphrase: if True, ``ShapesData.captions`` are seeded paraphrases of the canonical
            captions; if False the two lists are identical.
    """

    image_size: int = 32
    num_samples: int = 1000
    min_objects: int = 1
    max_objects: int = 3
    seed: int = 0
    shapes: tuple[str, ...] = SHAPE_NAMES
    colors: tuple[str, ...] = DEFAULT_COLORS
    heldout_pairs: tuple[tuple[str, str], ...] = DEFAULT_HELDOUT_PAIRS
    small_radius: float = 0.10
    large_radius: float = 0.16
    paraphrase: bool = True

    def __post_init__(self) -> None:
        _check_int("image_size", self.image_size, 16, "objects need at least 16 pixels to stay recognisable")
        _check_int("num_samples", self.num_samples, 1, "ask for at least one image")
        _check_int("seed", self.seed, 0, "use a non-negative integer seed")
        _check_int("min_objects", self.min_objects, 1, "every image holds at least one object")
        _check_int("max_objects", self.max_objects, 1, "every image holds at least one object")
        if self.max_objects > len(NUMBER_WORDS):
            raise ValueError(
                f"max_objects={self.max_objects} is too many to place without overlap; "
                f"use max_objects <= {len(NUMBER_WORDS)}"
            )
        if self.min_objects > self.max_objects:
            raise ValueError(
                f"min_objects={self.min_objects} exceeds max_objects={self.max_objects}; "
                "set min_objects <= max_objects"
            )
        self.shapes = _check_names("shapes", self.shapes, SHAPE_NAMES)
        self.colors = _check_names("colors", self.colors, tuple(SHAPES_PALETTE))
        self.heldout_pairs = self._checked_heldout_pairs()
        self._check_radii()
        if not isinstance(self.paraphrase, bool):
            raise TypeError(f"paraphrase must be True or False, got {self.paraphrase!r}")

    def _checked_heldout_pairs(self) -> tuple[tuple[str, str], ...]:
        """Normalise ``heldout_pairs`` to a tuple of (colour, shape) tuples and check it."""
        pairs = []
        for pair in self.heldout_pairs:
            if isinstance(pair, str) or len(pair) != 2:
                raise ValueError(
                    f"heldout_pairs must hold (colour, shape) pairs such as ('red', 'triangle'), got {pair!r}"
                )
            color, shape = pair
            if color in self.shapes and shape in self.colors:
                raise ValueError(f"heldout pair {pair!r} is in the wrong order; write ({shape!r}, {color!r})")
            if color not in self.colors or shape not in self.shapes:
                raise ValueError(
                    f"heldout pair {pair!r} names a colour or shape this config does not use; "
                    f"colours are {self.colors}, shapes are {self.shapes}"
                )
            if (color, shape) in pairs:
                raise ValueError(f"heldout pair {pair!r} is listed twice; list each pair once")
            pairs.append((color, shape))
        for color in self.colors:
            if all((color, shape) in pairs for shape in self.shapes):
                raise ValueError(
                    f"heldout_pairs hold out every shape in colour {color!r}, so training would never "
                    "show that colour; keep at least one of its pairs out of heldout_pairs"
                )
        for shape in self.shapes:
            if all((color, shape) in pairs for color in self.colors):
                raise ValueError(
                    f"heldout_pairs hold out every colour of shape {shape!r}, so training would never "
                    "show that shape; keep at least one of its pairs out of heldout_pairs"
                )
        return tuple(pairs)

    def _check_radii(self) -> None:
        for name in ("small_radius", "large_radius"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise TypeError(f"{name} must be a number (a fraction of image_size), got {value!r}")
        if self.small_radius * self.image_size < 1.5:
            raise ValueError(
                f"small_radius={self.small_radius} gives objects under 1.5 pixels in radius at "
                f"image_size={self.image_size}; raise small_radius or image_size"
            )
        if not self.small_radius < self.large_radius:
            raise ValueError(
                f"small_radius={self.small_radius} must be below large_radius={self.large_radius}; "
                "swap or adjust them"
            )
        largest = _LARGEST_RADIUS_FOR_COUNT[self.max_objects]
        if self.large_radius > largest:
            raise ValueError(
                f"large_radius={self.large_radius} leaves no room to place {self.max_objects} objects apart; "
                f"use large_radius <= {largest} (or fewer objects)"
            )


def _check_int(name: str, value: object, minimum: int, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}={value} is below {minimum}: {hint}")


def _check_names(field: str, names: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(names, str):
        raise TypeError(
            f"{field} must be a sequence of names such as {allowed[:2]}, not the string {names!r}"
        )
    names = tuple(names)
    if not names:
        raise ValueError(f"{field} is empty; choose at least one of {allowed}")
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"{field} has unknown names {unknown}; choose from {allowed}")
    if len(set(names)) != len(names):
        raise ValueError(f"{field} lists a name twice: {names}; list each name once")
    return names


@dataclass
class ShapesData:
    """One generated split.

    Attributes:
        images: uint8, shape (N, 3, H, W), RGB in [0, 255].
        captions: N captions, seeded paraphrases of ``canonical_captions`` (identical to them when
            ``config.paraphrase`` is False).
        labels: int64 tensors of shape (N,) under ``"shape"``, ``"color"``, ``"size"`` (the main
            object's class ids) and ``"count"`` (number of objects minus one, so that
            ``vocab["count"][label]`` is the number word).
        objects: per image, a list of plain dicts ``{"shape", "color", "size", "x", "y", "radius"}``
            (names as strings; centre and nominal radius in pixels), main object first.
        vocab: class names per attribute, ``vocab[attribute][label_id]`` is the name.
        canonical_captions: one caption per image in the fixed canonical form (main object first, the
            other objects in order, no prefix).
        split: the split's name.
    """

    images: Tensor
    captions: list[str]
    labels: dict[str, Tensor]
    objects: list[list[dict]]
    vocab: dict[str, list[str]]
    canonical_captions: list[str]
    split: str = "train"

    def __len__(self) -> int:
        return len(self.captions)

    def select(self, indices) -> ShapesData:
        """The images at ``indices`` (a sequence of ints or a LongTensor), as a new ShapesData."""
        idx = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        picks = idx.tolist()
        return ShapesData(
            images=self.images[idx],
            captions=[self.captions[i] for i in picks],
            labels={name: values[idx] for name, values in self.labels.items()},
            objects=[self.objects[i] for i in picks],
            vocab=self.vocab,
            canonical_captions=[self.canonical_captions[i] for i in picks],
            split=self.split,
        )


def build_vocab(cfg: ShapesConfig | None = None) -> dict[str, list[str]]:
    """Class names per attribute for ``cfg`` (default config if None): ``vocab[attribute][id]``."""
    cfg = cfg or ShapesConfig()
    return {
        "shape": list(cfg.shapes),
        "color": list(cfg.colors),
        "size": list(SIZE_NAMES),
        "count": list(NUMBER_WORDS[: cfg.max_objects]),
    }


# --------------------------------------------------------------------------------------------------
# Scene sampling


@dataclass
class _Scenes:
    """Attributes of N scenes with up to K object slots (unused slots have present=False)."""

    count: np.ndarray  # (N,) int, number of objects
    present: np.ndarray  # (N, K) bool
    shape_ids: np.ndarray  # (N, K) int, index into cfg.shapes
    color_ids: np.ndarray  # (N, K) int, index into cfg.colors
    size_ids: np.ndarray  # (N, K) int, index into SIZE_NAMES
    radii: np.ndarray  # (N, K) float, pixels
    centres: np.ndarray  # (N, K, 2) float, (x, y) in pixels


def _combination_table(cfg: ShapesConfig, heldout: bool) -> np.ndarray:
    """All (colour id, shape id) pairs that are (heldout=True) or are not held out, shape (P, 2)."""
    held = set(cfg.heldout_pairs)
    rows = [
        (c, s)
        for c, color in enumerate(cfg.colors)
        for s, shape in enumerate(cfg.shapes)
        if ((color, shape) in held) == heldout
    ]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _sample_attributes(cfg: ShapesConfig, split: str, rng: np.random.Generator, n: int) -> _Scenes:
    """Draw object counts, colour×shape pairs and sizes for n scenes (positions come later)."""
    k = cfg.max_objects
    count = rng.integers(cfg.min_objects, cfg.max_objects + 1, size=n)
    present = np.arange(k)[None, :] < count[:, None]  # (N, K)
    seen = _combination_table(cfg, heldout=False)
    pairs = seen[rng.integers(0, len(seen), size=(n, k))]  # (N, K, 2)
    if split == "heldout":
        unseen = _combination_table(cfg, heldout=True)
        pairs[:, 0] = unseen[rng.integers(0, len(unseen), size=n)]  # the main object is a novel pair
    size_ids = rng.integers(0, len(SIZE_NAMES), size=(n, k))
    radius_px = np.array([cfg.small_radius, cfg.large_radius]) * cfg.image_size
    return _Scenes(
        count=count,
        present=present,
        color_ids=pairs[..., 0],
        shape_ids=pairs[..., 1],
        size_ids=size_ids,
        radii=radius_px[size_ids],
        centres=np.zeros((n, k, 2)),
    )


def _sample_layouts(
    radii: np.ndarray, present: np.ndarray, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Object centres such that every object's bounding disc lies inside the image and apart from the others.

    Vectorised rejection sampling: each round places the slots of all unfinished images one after
    the other, each slot at the first of a few random candidates that keeps clear of the slots
    already placed. Images where some slot found no free candidate start again next round.

    Args:
        radii: (N, K) nominal radii in pixels.
        present: (N, K) which slots hold an object.

    Returns:
        centres: (N, K, 2) float, (x, y) in pixels; zeros for absent slots.
    """
    n, k = radii.shape
    margin = BOUNDING_FACTOR * radii  # (N, K)
    centres = np.zeros((n, k, 2))
    pending = np.arange(n)
    for _ in range(_LAYOUT_MAX_ROUNDS):
        if pending.size == 0:
            return centres
        placed = _place_slots_greedily(margin[pending], present[pending], image_size, rng)  # (P, K, 2)
        done = ~np.isnan(placed).any(axis=(1, 2))  # (P,)
        centres[pending[done]] = placed[done]
        pending = pending[~done]
    raise RuntimeError(
        f"could not place objects apart in {pending.size} images; lower max_objects or large_radius"
    )


def _place_slots_greedily(
    margin: np.ndarray, present: np.ndarray, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """One round of :func:`_sample_layouts` for P images: centres (P, K, 2), NaN where placing failed."""
    p, k = margin.shape
    centres = np.zeros((p, k, 2))
    rows = np.arange(p)
    for slot in range(k):
        m = margin[:, slot][:, None, None]  # (P, 1, 1)
        candidates = m + rng.random((p, _LAYOUT_CANDIDATES, 2)) * (image_size - 2 * m)  # (P, C, 2)
        free = np.ones((p, _LAYOUT_CANDIDATES), dtype=bool)  # (P, C)
        for earlier in range(slot):
            gap = np.linalg.norm(candidates - centres[:, earlier][:, None, :], axis=-1)  # (P, C)
            needed = (margin[:, slot] + margin[:, earlier])[:, None]  # (P, 1)
            free &= ~(present[:, earlier][:, None] & (gap < needed))  # NaN gaps (failed) compare False
        centres[:, slot] = candidates[rows, free.argmax(axis=1)]
        failed = present[:, slot] & ~free.any(axis=1)
        centres[failed] = np.nan
    return centres


def _sample_scenes(cfg: ShapesConfig, split: str, rng: np.random.Generator) -> _Scenes:
    scenes = _sample_attributes(cfg, split, rng, cfg.num_samples)
    scenes.centres = _sample_layouts(scenes.radii, scenes.present, cfg.image_size, rng)
    scenes.centres[~scenes.present] = 0.0
    return scenes


# --------------------------------------------------------------------------------------------------
# Rasterisation: each mask takes offsets from the object centre, dx (M, 1, W) and dy (M, H, 1), and
# the nominal radius r (M, 1, 1), and returns a bool mask (M, H, W). All fit in BOUNDING_FACTOR * r.


def _circle_mask(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    return dx**2 + dy**2 <= r**2


def _square_mask(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(dx), np.abs(dy)) <= 0.8 * r  # corners at 0.8·√2·r ≈ 1.13 r


def _diamond_mask(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.abs(dx) + np.abs(dy) <= 1.1 * r


def _triangle_mask(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    # Apex at dy = -r (up), base at dy = +0.6 r with half-width 0.96 r; corners ≈ 1.13 r from the centre.
    return (dy <= 0.6 * r) & (np.abs(dx) <= 0.6 * (dy + r))


def _cross_mask(dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    ax, ay, arm = np.abs(dx), np.abs(dy), 0.35 * r
    return ((ax <= arm) & (ay <= r)) | ((ay <= arm) & (ax <= r))


SHAPE_MASKS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "circle": _circle_mask,
    "square": _square_mask,
    "triangle": _triangle_mask,
    "diamond": _diamond_mask,
    "cross": _cross_mask,
}


def _render(scenes: _Scenes, cfg: ShapesConfig) -> np.ndarray:
    """Paint every scene. Returns uint8 (N, 3, H, W).

    First a slot map (N, H, W) records which object slot covers each pixel (K = background), built
    one (slot, shape type) batch at a time; then one lookup turns slots into colours.
    """
    n, k = scenes.present.shape
    size = cfg.image_size
    slot_map = np.full((n, size, size), k, dtype=np.int8)  # (N, H, W)
    pixel_centres = np.arange(size, dtype=np.float32) + 0.5  # (S,)
    centres = scenes.centres.astype(np.float32)
    radii = scenes.radii.astype(np.float32)
    for slot in range(k):
        for shape_id, shape in enumerate(cfg.shapes):
            idx = np.flatnonzero(scenes.present[:, slot] & (scenes.shape_ids[:, slot] == shape_id))
            if idx.size == 0:
                continue
            cx = centres[idx, slot, 0][:, None, None]  # (M, 1, 1)
            cy = centres[idx, slot, 1][:, None, None]  # (M, 1, 1)
            r = radii[idx, slot][:, None, None]  # (M, 1, 1)
            dx = pixel_centres[None, None, :] - cx  # (M, 1, W)
            dy = pixel_centres[None, :, None] - cy  # (M, H, 1)
            mask = SHAPE_MASKS[shape](dx, dy, r)  # (M, H, W)
            covered = slot_map[idx]  # (M, H, W)
            covered[mask] = slot
            slot_map[idx] = covered
    palette = np.array([SHAPES_PALETTE[name] for name in cfg.colors], dtype=np.uint8)  # (colours, 3)
    slot_colours = np.empty((n, k + 1, 3), dtype=np.uint8)  # (N, K + 1, 3), last row = background
    slot_colours[:, :k] = palette[scenes.color_ids]
    slot_colours[:, k] = SHAPES_BACKGROUND
    flat_index = (np.arange(n) * (k + 1))[:, None, None] + slot_map  # (N, H, W), into N·(K + 1) rows
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    for c in range(3):
        images[:, c] = np.take(slot_colours[:, :, c].reshape(-1), flat_index)  # (N, H, W)
    return images  # (N, 3, H, W)


# --------------------------------------------------------------------------------------------------
# Captions


def relation_between(a: dict, b: dict) -> str:
    """Where object ``a`` is relative to object ``b``: one of ``RELATIONS``.

    The axis along which the centres differ more decides: horizontal gives "left of" / "right of",
    vertical gives "above" / "below" (image y grows downwards).
    """
    dx, dy = a["x"] - b["x"], a["y"] - b["y"]
    if abs(dx) >= abs(dy):
        return "left of" if dx < 0 else "right of"
    return "above" if dy < 0 else "below"


def describe_object(obj: dict) -> str:
    """The noun phrase of one object, e.g. ``"a small red circle"``."""
    return f"a {obj['size']} {obj['color']} {obj['shape']}"


def _sentence(subject: dict, others: list[dict]) -> str:
    """``subject`` followed by its relation to each of ``others``, joined by "and"."""
    clauses = [f"{relation_between(subject, other)} {describe_object(other)}" for other in others]
    return " ".join([describe_object(subject), " and ".join(clauses)]).rstrip()


def canonical_caption(objects: list[dict]) -> str:
    """The canonical caption: the main object, then its relation to each other object in order.

    Example: ``"a small red circle left of a large blue square and above a small green triangle"``.
    """
    return _sentence(objects[0], objects[1:])


def paraphrase_caption(objects: list[dict], rng: np.random.Generator) -> str:
    """A seeded variant of :func:`canonical_caption` saying the same thing.

    It picks a prefix from ``CAPTION_PREFIXES``; with two objects it may swap subject and object
    (and invert the relation), with more it may reorder the relative clauses.
    """
    prefix = CAPTION_PREFIXES[rng.integers(len(CAPTION_PREFIXES))]
    if len(objects) == 2 and rng.random() < 0.5:
        body = _sentence(objects[1], objects[:1])
    else:
        others = [objects[1:][i] for i in rng.permutation(len(objects) - 1)]
        body = _sentence(objects[0], others)
    return prefix + body


def _scene_objects(scenes: _Scenes, cfg: ShapesConfig) -> list[list[dict]]:
    """Plain-dict descriptions of every scene's objects, main object first."""
    shapes, colors = cfg.shapes, cfg.colors
    out = []
    for i, count in enumerate(scenes.count.tolist()):
        out.append(
            [
                {
                    "shape": shapes[scenes.shape_ids[i, j]],
                    "color": colors[scenes.color_ids[i, j]],
                    "size": SIZE_NAMES[scenes.size_ids[i, j]],
                    "x": float(scenes.centres[i, j, 0]),
                    "y": float(scenes.centres[i, j, 1]),
                    "radius": float(scenes.radii[i, j]),
                }
                for j in range(count)
            ]
        )
    return out


# --------------------------------------------------------------------------------------------------
# Public entry points


def _split_rng(cfg: ShapesConfig, split: str, stream: int) -> np.random.Generator:
    """An independent generator per (seed, split, stream); stream 0 draws scenes, 1 draws wording."""
    return np.random.default_rng([cfg.seed, SHAPES_SPLITS.index(split), stream])


def generate_shapes(cfg: ShapesConfig, split: str = "train") -> ShapesData:
    """Generate one split of the Shapes dataset (see the module docstring).

    ``train`` and ``val`` are independent draws from the same distribution, which never contains a
    colour×shape pair of ``cfg.heldout_pairs``. In ``heldout`` the main object is always such a pair
    (drawn uniformly among them) and the other objects are ordinary training pairs.

    Args:
        cfg: the dataset config; ``cfg.num_samples`` images are generated.
        split: ``"train"``, ``"val"`` or ``"heldout"``.

    Returns:
        A :class:`ShapesData` with images of shape (N, 3, H, W), uint8, N = cfg.num_samples,
        H = W = cfg.image_size, and labels of shape (N,), int64.
    """
    if split not in SHAPES_SPLITS:
        raise ValueError(f"split must be one of {SHAPES_SPLITS}, got {split!r}")
    if split == "heldout" and not cfg.heldout_pairs:
        raise ValueError(
            "the heldout split needs held-out pairs; set cfg.heldout_pairs, e.g. (('red', 'triangle'),)"
        )
    scenes = _sample_scenes(cfg, split, _split_rng(cfg, split, stream=0))
    images = _render(scenes, cfg)  # (N, 3, H, W)
    objects = _scene_objects(scenes, cfg)
    canonical = [canonical_caption(objs) for objs in objects]
    if cfg.paraphrase:
        wording = _split_rng(cfg, split, stream=1)
        captions = [paraphrase_caption(objs, wording) for objs in objects]
    else:
        captions = list(canonical)
    labels = {
        "shape": torch.from_numpy(scenes.shape_ids[:, 0].astype(np.int64)),
        "color": torch.from_numpy(scenes.color_ids[:, 0].astype(np.int64)),
        "size": torch.from_numpy(scenes.size_ids[:, 0].astype(np.int64)),
        "count": torch.from_numpy((scenes.count - 1).astype(np.int64)),
    }
    return ShapesData(
        images=torch.from_numpy(images),
        captions=captions,
        labels=labels,
        objects=objects,
        vocab=build_vocab(cfg),
        canonical_captions=canonical,
        split=split,
    )


class ShapesDataset(Dataset):
    """A torch ``Dataset`` over a :class:`ShapesData`.

    Item ``i`` is ``(image, caption, labels)``: a float32 image of shape (3, H, W) in [0, 1], the
    caption string, and a dict of 0-dim int64 tensors with keys ``"shape"``, ``"color"``, ``"size"``,
    ``"count"``. The default collate function batches these into (B, 3, H, W), a list of B strings
    and a dict of (B,) tensors.

    Args:
        data: the generated split.
        canonical: use the canonical captions instead of the paraphrased ones.
        transform: optional function applied to each float image (3, H, W).
    """

    def __init__(self, data: ShapesData, *, canonical: bool = False, transform: Callable | None = None):
        self.data = data
        self.captions = data.canonical_captions if canonical else data.captions
        self.transform = transform

    @classmethod
    def from_config(cls, cfg: ShapesConfig, split: str = "train", **kwargs) -> ShapesDataset:
        """Generate ``split`` from ``cfg`` and wrap it."""
        return cls(generate_shapes(cfg, split), **kwargs)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> tuple[Tensor, str, dict[str, Tensor]]:
        image = self.data.images[i].float() / 255.0  # (3, H, W) in [0, 1]
        if self.transform is not None:
            image = self.transform(image)
        labels = {name: values[i] for name, values in self.data.labels.items()}
        return image, self.captions[i], labels


def class_prompts(attribute: str, cfg: ShapesConfig | None = None) -> list[str]:
    """One caption-style prompt per class of ``attribute``, in class-id order, for zero-shot tests.

    ``"shape"`` gives "a circle", ..., ``"color"`` gives "a red shape", ..., ``"size"`` gives
    "a small shape", "a large shape", and ``"count"`` gives "one shape", "two shapes", ....
    A model trained only on full captions may prefer :func:`class_prompt_sets` (prompt ensembles).
    """
    vocab = build_vocab(cfg)
    if attribute == "shape":
        return [f"a {name}" for name in vocab["shape"]]
    if attribute in ("color", "size"):
        return [f"a {name} shape" for name in vocab[attribute]]
    if attribute == "count":
        return [f"{word} shape" + ("s" if i else "") for i, word in enumerate(vocab["count"])]
    raise ValueError(f"attribute must be one of {SHAPES_ATTRIBUTES}, got {attribute!r}")


def class_prompt_sets(attribute: str, cfg: ShapesConfig | None = None) -> list[list[str]]:
    """Per class of ``attribute``, every single-object caption with that value (a prompt ensemble).

    For ``"color"`` and class "red" this is "a small red circle", "a large red circle",
    "a small red square", ... — the other attributes run over all their values, held-out pairs
    included. Average the text embeddings of a set to get one class embedding (as CLIP does with
    its prompt templates). ``attribute`` is ``"shape"``, ``"color"`` or ``"size"``.
    """
    vocab = build_vocab(cfg)
    if attribute not in ("shape", "color", "size"):
        raise ValueError(f"prompt sets exist for 'shape', 'color' and 'size', got {attribute!r}; "
                         "use class_prompts('count') for counts")
    sets = []
    for value in vocab[attribute]:
        phrases = []
        for size in vocab["size"]:
            for color in vocab["color"]:
                for shape in vocab["shape"]:
                    obj = {"size": size, "color": color, "shape": shape}
                    if obj[attribute] == value:
                        phrases.append(describe_object(obj))
        sets.append(phrases)
    return sets


def plot_samples(data: ShapesData, n: int = 16, *, ncols: int | None = None, canonical: bool = False):
    """A grid of the first ``n`` images with their captions as titles; returns a matplotlib Figure.

    Uses the object API (no pyplot state), so it works under the Agg backend and in notebooks
    (a Figure displays itself as the cell's output).
    """
    from matplotlib.figure import Figure

    n = max(1, min(n, len(data)))
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    captions = data.canonical_captions if canonical else data.captions
    fig = Figure(figsize=(2.4 * ncols, 2.7 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(data.images[i].permute(1, 2, 0).numpy(), interpolation="nearest")  # (3, H, W) -> (H, W, 3)
        ax.set_title(textwrap.fill(captions[i], 28), fontsize=7)
    return fig
