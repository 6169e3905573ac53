"""Tests for vlcourse.data.shapes.

Determinism, captions against objects against pixels, held-out pairs and config checks.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch.utils.data import DataLoader

from vlcourse.data.shapes import (
    BOUNDING_FACTOR,
    CAPTION_PREFIXES,
    DEFAULT_COLORS,
    DEFAULT_HELDOUT_PAIRS,
    SHAPES_BACKGROUND,
    SHAPES_PALETTE,
    SHAPE_NAMES,
    ShapesConfig,
    ShapesData,
    ShapesDataset,
    class_prompt_sets,
    class_prompts,
    generate_shapes,
    plot_samples,
)

RELATION_WORDS = "left of|right of|above|below"
OBJECT_PHRASE = r"a (?:small|large) \w+ \w+"
CAPTION_BODY = re.compile(
    rf"({OBJECT_PHRASE})"  # the subject, then optionally "REL OBJ" and further " and REL OBJ"
    rf"((?: (?:{RELATION_WORDS}) {OBJECT_PHRASE}(?: and (?:{RELATION_WORDS}) {OBJECT_PHRASE})*)?)"
)
CLAUSE = re.compile(rf"({RELATION_WORDS}) ({OBJECT_PHRASE})")
# A pixel is painted when its centre lies in the shape, and every shape lies in its bounding disc, so a
# painted pixel centre is within the disc; the tolerance only absorbs float rounding.
PIXEL_SLACK = 1e-6


# --------------------------------------------------------------------------------------------------
# Helpers: an independent reading of captions and of the stated geometry


def parse_phrase(phrase: str) -> tuple[str, str, str]:
    """ "a small red circle" -> ("small", "red", "circle")."""
    article, size, color, shape = phrase.split(" ")
    assert article == "a"
    return size, color, shape


def parse_caption(caption: str) -> tuple[str, tuple[str, str, str], list[tuple[str, tuple[str, str, str]]]]:
    """Split a caption into (prefix, subject, [(relation, object), ...]); fails the test if off-grammar."""
    longest_first = sorted(CAPTION_PREFIXES, key=len, reverse=True)
    prefix = next((p for p in longest_first if p and caption.startswith(p)), "")
    body = caption[len(prefix) :]
    match = CAPTION_BODY.fullmatch(body)
    assert match, f"caption outside the grammar: {caption!r}"
    clauses = [(relation, parse_phrase(phrase)) for relation, phrase in CLAUSE.findall(match.group(2))]
    return prefix, parse_phrase(match.group(1)), clauses


def as_triple(obj: dict) -> tuple[str, str, str]:
    return obj["size"], obj["color"], obj["shape"]


def relation_holds(relation: str, a: dict, b: dict) -> bool:
    """Is ``a`` <relation> ``b``? The documented rule: the axis of the larger centre offset decides."""
    dx, dy = a["x"] - b["x"], a["y"] - b["y"]
    horizontal = abs(dx) >= abs(dy)
    return {
        "left of": horizontal and dx < 0,
        "right of": horizontal and dx > 0,
        "above": not horizontal and dy < 0,
        "below": not horizontal and dy > 0,
    }[relation]


def bounding_radius(obj: dict) -> float:
    return BOUNDING_FACTOR * obj["radius"]


def pixel_centre_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """x (1, W) and y (H, 1) coordinates of pixel centres."""
    coords = np.arange(size) + 0.5
    return coords[None, :], coords[:, None]


# --------------------------------------------------------------------------------------------------
# Fixtures: generated once per module


SMALL = dict(num_samples=400, seed=3)


@pytest.fixture(scope="module")
def train() -> ShapesData:
    return generate_shapes(ShapesConfig(**SMALL), "train")


@pytest.fixture(scope="module")
def heldout() -> ShapesData:
    return generate_shapes(ShapesConfig(**SMALL), "heldout")


@pytest.fixture(scope="module", params=["train", "val", "heldout"])
def any_split(request, train, heldout) -> ShapesData:
    if request.param == "train":
        return train
    if request.param == "heldout":
        return heldout
    return generate_shapes(ShapesConfig(**SMALL), "val")


# --------------------------------------------------------------------------------------------------
# Determinism


def test_same_config_gives_identical_data():
    cfg = ShapesConfig(num_samples=64, seed=11)
    a, b = generate_shapes(cfg, "train"), generate_shapes(ShapesConfig(num_samples=64, seed=11), "train")
    assert torch.equal(a.images, b.images)
    assert a.captions == b.captions
    assert a.canonical_captions == b.canonical_captions
    assert a.objects == b.objects
    for name in a.labels:
        assert torch.equal(a.labels[name], b.labels[name])


def test_different_seed_or_split_gives_different_data():
    base = generate_shapes(ShapesConfig(num_samples=64, seed=0), "train")
    other_seed = generate_shapes(ShapesConfig(num_samples=64, seed=1), "train")
    other_split = generate_shapes(ShapesConfig(num_samples=64, seed=0), "val")
    for other in (other_seed, other_split):
        assert not torch.equal(base.images, other.images)
        assert base.canonical_captions != other.canonical_captions


def test_paraphrase_switch_changes_wording_only():
    worded = generate_shapes(ShapesConfig(num_samples=200, paraphrase=True), "train")
    plain = generate_shapes(ShapesConfig(num_samples=200, paraphrase=False), "train")
    assert torch.equal(worded.images, plain.images)
    assert worded.canonical_captions == plain.canonical_captions
    assert plain.captions == plain.canonical_captions
    assert worded.captions != worded.canonical_captions
    used_prefixes = {parse_caption(caption)[0] for caption in worded.captions}
    assert used_prefixes == set(CAPTION_PREFIXES), "every paraphrase prefix should occur in 200 captions"


# --------------------------------------------------------------------------------------------------
# Shapes, dtypes, labels


@pytest.mark.parametrize("image_size", [16, 24, 32])
def test_shapes_and_dtypes(image_size):
    cfg = ShapesConfig(num_samples=10, image_size=image_size)
    data = generate_shapes(cfg)
    assert data.images.shape == (10, 3, image_size, image_size)
    assert data.images.dtype == torch.uint8
    assert len(data) == len(data.captions) == len(data.canonical_captions) == len(data.objects) == 10
    assert set(data.labels) == {"shape", "color", "size", "count"} == set(data.vocab)
    for values in data.labels.values():
        assert values.shape == (10,) and values.dtype == torch.int64
    assert all(isinstance(caption, str) for caption in data.captions)


def test_labels_are_valid_ids_that_name_the_main_object(any_split):
    data = any_split
    for name, values in data.labels.items():
        assert int(values.min()) >= 0 and int(values.max()) < len(data.vocab[name])
    for i, objects in enumerate(data.objects):
        main = objects[0]
        assert data.vocab["shape"][data.labels["shape"][i]] == main["shape"]
        assert data.vocab["color"][data.labels["color"][i]] == main["color"]
        assert data.vocab["size"][data.labels["size"][i]] == main["size"]
        assert int(data.labels["count"][i]) + 1 == len(objects)


def test_vocab_follows_config_order():
    cfg = ShapesConfig(
        num_samples=5, shapes=("cross", "circle"), colors=("white", "orange", "red"), heldout_pairs=()
    )
    data = generate_shapes(cfg)
    assert data.vocab["shape"] == ["cross", "circle"]
    assert data.vocab["color"] == ["white", "orange", "red"]
    assert data.vocab["count"] == ["one", "two", "three"]


@pytest.mark.parametrize("min_objects,max_objects", [(1, 3), (1, 4), (2, 2)])
def test_count_distribution_covers_every_allowed_count(min_objects, max_objects):
    cfg = ShapesConfig(num_samples=300, min_objects=min_objects, max_objects=max_objects)
    counts = Counter(len(objects) for objects in generate_shapes(cfg).objects)
    assert set(counts) == set(range(min_objects, max_objects + 1))
    expected = 300 / (max_objects - min_objects + 1)
    assert all(count > 0.6 * expected for count in counts.values()), counts


def test_ten_thousand_samples_generate():
    data = generate_shapes(ShapesConfig(num_samples=10_000))
    assert data.images.shape == (10_000, 3, 32, 32)


# --------------------------------------------------------------------------------------------------
# Captions agree with the objects


def test_canonical_captions_name_objects_in_order_with_true_relations(any_split):
    for caption, objects in zip(any_split.canonical_captions, any_split.objects):
        prefix, subject, clauses = parse_caption(caption)
        assert prefix == ""
        assert subject == as_triple(objects[0])
        assert [obj for _, obj in clauses] == [as_triple(o) for o in objects[1:]]
        for (relation, _), other in zip(clauses, objects[1:]):
            assert relation_holds(relation, objects[0], other), (caption, objects)


def test_paraphrased_captions_mention_every_object_with_true_relations(any_split):
    for caption, objects in zip(any_split.captions, any_split.objects):
        _, subject, clauses = parse_caption(caption)
        mentioned = [subject] + [obj for _, obj in clauses]
        assert Counter(mentioned) == Counter(as_triple(o) for o in objects), caption
        for relation, obj in clauses:
            assert any(
                relation_holds(relation, a, b)
                for a, b in itertools.permutations(objects, 2)
                if as_triple(a) == subject and as_triple(b) == obj
            ), (caption, objects)


def test_relations_are_used_in_every_direction(train):
    relations = Counter(rel for caption in train.canonical_captions for rel, _ in parse_caption(caption)[2])
    assert set(relations) == {"left of", "right of", "above", "below"}


def test_caption_words_come_from_the_vocabulary(train):
    for caption in train.captions:
        _, subject, clauses = parse_caption(caption)
        for size, color, shape in [subject] + [obj for _, obj in clauses]:
            assert size in train.vocab["size"]
            assert color in train.vocab["color"]
            assert shape in train.vocab["shape"]


# --------------------------------------------------------------------------------------------------
# Geometry and pixels


def test_objects_stay_inside_the_image_and_apart(any_split):
    size = any_split.images.shape[-1]
    for objects in any_split.objects:
        for obj in objects:
            reach = bounding_radius(obj)
            assert reach <= obj["x"] <= size - reach and reach <= obj["y"] <= size - reach
        for a, b in itertools.combinations(objects, 2):
            assert math.dist((a["x"], a["y"]), (b["x"], b["y"])) >= bounding_radius(a) + bounding_radius(b)


def test_pixel_at_each_object_centre_has_its_colour(any_split):
    images = any_split.images
    for i, objects in enumerate(any_split.objects):
        for obj in objects:
            pixel = images[i, :, int(obj["y"]), int(obj["x"])].tolist()
            assert pixel == list(SHAPES_PALETTE[obj["color"]]), (i, obj)


def test_pixels_away_from_objects_are_background_and_the_rest_match_their_object(train):
    size = train.images.shape[-1]
    xs, ys = pixel_centre_grid(size)
    background = np.array(SHAPES_BACKGROUND)
    for i, objects in enumerate(train.objects[:150]):
        image = train.images[i].permute(1, 2, 0).numpy()  # (H, W, 3)
        claimed = np.zeros((size, size), dtype=bool)
        for obj in objects:
            near = np.hypot(xs - obj["x"], ys - obj["y"]) <= bounding_radius(obj) + PIXEL_SLACK  # (H, W)
            colours = image[near]
            is_object = (colours == SHAPES_PALETTE[obj["color"]]).all(axis=1)
            is_background = (colours == background).all(axis=1)
            assert (is_object | is_background).all(), f"foreign colour near object {obj} in image {i}"
            claimed |= near
        assert (image[~claimed] == background).all(), f"paint outside every object in image {i}"


def test_large_objects_cover_more_pixels_than_small_ones(train):
    size = train.images.shape[-1]
    xs, ys = pixel_centre_grid(size)
    areas: dict[tuple[str, str], list[int]] = {}
    for i, objects in enumerate(train.objects[:200]):
        image = train.images[i].permute(1, 2, 0).numpy()  # (H, W, 3)
        for obj in objects:
            near = np.hypot(xs - obj["x"], ys - obj["y"]) <= bounding_radius(obj) + PIXEL_SLACK
            painted = (image == SHAPES_PALETTE[obj["color"]]).all(axis=-1)
            areas.setdefault((obj["shape"], obj["size"]), []).append(int((painted & near).sum()))
    for shape in train.vocab["shape"]:
        assert min(areas[(shape, "large")]) > max(areas[(shape, "small")]), shape


def test_palette_colours_are_clearly_distinct():
    colours = [np.array(rgb, dtype=float) for rgb in [*SHAPES_PALETTE.values(), SHAPES_BACKGROUND]]
    for a, b in itertools.combinations(colours, 2):
        assert np.linalg.norm(a - b) > 80


# --------------------------------------------------------------------------------------------------
# Held-out colour × shape pairs


def test_heldout_pairs_never_appear_in_train_or_val():
    cfg = ShapesConfig(num_samples=1500, seed=5)
    held = set(cfg.heldout_pairs)
    for split in ("train", "val"):
        data = generate_shapes(cfg, split)
        seen = {(obj["color"], obj["shape"]) for objects in data.objects for obj in objects}
        assert not seen & held
        assert {c for c, _ in seen} == set(cfg.colors) and {s for _, s in seen} == set(cfg.shapes)


def test_heldout_split_is_built_around_the_heldout_pairs(heldout):
    held = set(DEFAULT_HELDOUT_PAIRS)
    mains = [(objects[0]["color"], objects[0]["shape"]) for objects in heldout.objects]
    assert set(mains) == held, "every held-out pair should be the main object somewhere"
    others = {(obj["color"], obj["shape"]) for objects in heldout.objects for obj in objects[1:]}
    assert others and not others & held


def test_custom_heldout_pairs_accept_lists():
    cfg = ShapesConfig(num_samples=50, heldout_pairs=[["cyan", "cross"]])
    assert cfg.heldout_pairs == (("cyan", "cross"),)
    data = generate_shapes(cfg, "heldout")
    assert {(o[0]["color"], o[0]["shape"]) for o in data.objects} == {("cyan", "cross")}


def test_heldout_split_needs_heldout_pairs():
    with pytest.raises(ValueError, match="heldout_pairs"):
        generate_shapes(ShapesConfig(num_samples=5, heldout_pairs=()), "heldout")


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split must be one of"):
        generate_shapes(ShapesConfig(num_samples=5), "test")


# --------------------------------------------------------------------------------------------------
# Config validation


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        (dict(image_size=8), ValueError, "image_size=8 is below 16"),
        (dict(image_size=32.0), TypeError, "image_size must be an int"),
        (dict(num_samples=0), ValueError, "num_samples"),
        (dict(seed=-1), ValueError, "non-negative"),
        (dict(max_objects=5), ValueError, "max_objects <= 4"),
        (dict(min_objects=3, max_objects=2), ValueError, "set min_objects <= max_objects"),
        (dict(min_objects=0), ValueError, "at least one object"),
        (dict(shapes=("circle", "hexagon")), ValueError, "unknown names"),
        (dict(shapes="circle"), TypeError, "sequence of names"),
        (dict(colors=()), ValueError, "colors is empty"),
        (dict(colors=("red", "blue", "red")), ValueError, "twice"),
        (dict(heldout_pairs=(("triangle", "red"),)), ValueError, "wrong order"),
        (dict(heldout_pairs=(("pink", "circle"),)), ValueError, "does not use"),
        (dict(heldout_pairs=(("red", "circle"), ("red", "circle"))), ValueError, "listed twice"),
        (dict(heldout_pairs=("red",)), ValueError, r"\(colour, shape\) pairs"),
        (dict(heldout_pairs=tuple(("red", s) for s in SHAPE_NAMES)),
         ValueError, "never show that colour"),
        (dict(heldout_pairs=tuple((c, "circle") for c in DEFAULT_COLORS)),
         ValueError, "never show that shape"),
        (dict(small_radius=0.02), ValueError, "raise small_radius or image_size"),
        (dict(small_radius=0.18, large_radius=0.12), ValueError, "must be below large_radius"),
        (dict(large_radius=0.3), ValueError, "large_radius <= 0.2"),
        (dict(max_objects=4, large_radius=0.2), ValueError, "large_radius <= 0.16"),
        (dict(large_radius="big"), TypeError, "large_radius must be a number"),
        (dict(paraphrase="yes"), TypeError, "paraphrase must be True or False"),
    ],
)
def test_config_rejects_bad_values_with_a_hint(kwargs, error, message):
    with pytest.raises(error, match=message):
        ShapesConfig(**kwargs)


def test_default_config_is_valid_and_holds_out_pairs():
    cfg = ShapesConfig()
    assert cfg.heldout_pairs == DEFAULT_HELDOUT_PAIRS and len(cfg.heldout_pairs) > 0


# --------------------------------------------------------------------------------------------------
# Dataset wrapper, prompts, plotting, select


def test_dataset_items_and_batches(train):
    dataset = ShapesDataset(train)
    image, caption, labels = dataset[3]
    assert image.dtype == torch.float32 and image.shape == (3, 32, 32)
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert torch.allclose(image * 255, train.images[3].float())
    assert caption == train.captions[3]
    assert {k: int(v) for k, v in labels.items()} == {k: int(v[3]) for k, v in train.labels.items()}
    images, captions, batch_labels = next(iter(DataLoader(dataset, batch_size=8)))
    assert images.shape == (8, 3, 32, 32) and len(captions) == 8 and batch_labels["color"].shape == (8,)
    assert ShapesDataset(train, canonical=True)[3][1] == train.canonical_captions[3]
    flipped = ShapesDataset(train, transform=lambda x: x.flip(-1))[3][0]
    assert torch.equal(flipped, image.flip(-1))


def test_dataset_from_config():
    dataset = ShapesDataset.from_config(ShapesConfig(num_samples=12), "val")
    assert len(dataset) == 12


@pytest.mark.parametrize("attribute", ["shape", "color", "size", "count"])
def test_class_prompts_one_distinct_prompt_per_class(attribute):
    cfg = ShapesConfig()
    vocab = generate_shapes(ShapesConfig(num_samples=1)).vocab
    prompts = class_prompts(attribute, cfg)
    assert len(prompts) == len(vocab[attribute]) == len(set(prompts))
    for prompt, name in zip(prompts, vocab[attribute]):
        assert name in prompt.split(" ")


def test_class_prompts_reject_unknown_attribute():
    with pytest.raises(ValueError, match="attribute must be one of"):
        class_prompts("texture")
    with pytest.raises(ValueError, match="class_prompts"):
        class_prompt_sets("count")


@pytest.mark.parametrize("attribute", ["shape", "color", "size"])
def test_class_prompt_sets_are_full_captions_of_their_class(attribute):
    cfg = ShapesConfig()
    vocab = generate_shapes(ShapesConfig(num_samples=1)).vocab
    sets = class_prompt_sets(attribute, cfg)
    assert len(sets) == len(vocab[attribute])
    position = {"size": 0, "color": 1, "shape": 2}[attribute]
    total = len(vocab["size"]) * len(vocab["color"]) * len(vocab["shape"])
    for name, phrases in zip(vocab[attribute], sets):
        assert len(phrases) == total // len(vocab[attribute])
        for phrase in phrases:
            assert parse_caption(phrase)[1][position] == name


def test_plot_samples_returns_a_figure_with_captions(train):
    fig = plot_samples(train, n=6)
    assert isinstance(fig, Figure)
    titles = [ax.get_title().replace("\n", " ") for ax in fig.axes if ax.get_title()]
    assert titles == train.captions[:6]


def test_select_keeps_everything_aligned(train):
    picked = train.select([5, 1, 7])
    assert torch.equal(picked.images, train.images[[5, 1, 7]])
    assert picked.captions == [train.captions[i] for i in (5, 1, 7)]
    assert picked.objects == [train.objects[i] for i in (5, 1, 7)]
    assert torch.equal(picked.labels["color"], train.labels["color"][[5, 1, 7]])
