"""Tests of vlcourse.data.digits (the fixed digits split) and vlcourse.data.augment (batched views)."""

from __future__ import annotations

import pytest
import torch

from vlcourse.data.augment import (
    AugmentConfig,
    augment,
    random_affine_matrices,
    random_crop_matrices,
    random_erasing,
    random_intensity_jitter,
    two_views,
    warp,
)
from vlcourse.data.digits import DigitsDataset, load_digits_split

# Every augmentation switched off: the pipeline must return its input.
IDENTITY = AugmentConfig(
    crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), max_rotation_deg=0.0, affine_scale=(1.0, 1.0),
    max_translate_px=0.0, jitter_prob=0.0, noise_prob=0.0, erase_prob=0.0,
)


@pytest.fixture(scope="module")
def train_split():
    return load_digits_split("train")


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------------------------------
# Digits


def test_split_sizes_types_and_ranges(train_split):
    test_images, test_labels = load_digits_split("test")
    for images, labels, n in ((*train_split, 1347), (test_images, test_labels, 450)):
        assert images.shape == (n, 1, 8, 8) and images.dtype == torch.float32
        assert labels.shape == (n,) and labels.dtype == torch.int64
        assert images.min() >= 0 and images.max() <= 1 and images.max() == 1
        assert set(labels.tolist()) == set(range(10))


def test_split_is_stratified(train_split):
    _, train_labels = train_split
    _, test_labels = load_digits_split("test")
    train_share = torch.bincount(train_labels, minlength=10) / len(train_labels)
    test_share = torch.bincount(test_labels, minlength=10) / len(test_labels)
    assert torch.allclose(train_share, test_share, atol=0.01)


def test_split_is_deterministic_and_seed_dependent(train_split):
    again = load_digits_split("train")
    assert torch.equal(train_split[0], again[0]) and torch.equal(train_split[1], again[1])
    other = load_digits_split("train", seed=1)
    assert not torch.equal(train_split[1], other[1])


def test_splits_partition_all_images(train_split):
    from sklearn.datasets import load_digits

    everything = torch.from_numpy(load_digits().images / 16).float().flatten(1)  # (1797, 64)
    test_images, _ = load_digits_split("test")
    ours = torch.cat([train_split[0], test_images]).flatten(1)  # (1797, 64)
    assert len(ours) == len(everything)
    key = lambda rows: sorted(map(tuple, rows.tolist()))  # noqa: E731  (order-free multiset compare)
    assert key(ours) == key(everything)


def test_returned_tensors_are_copies(train_split):
    images, _ = load_digits_split("train")
    images.zero_()
    assert load_digits_split("train")[0].max() == 1


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split"):
        load_digits_split("validation")


def test_dataset_wrapper(train_split):
    dataset = DigitsDataset("train", transform=lambda image: image * 0)
    assert len(dataset) == 1347
    image, label = dataset[3]
    assert image.shape == (1, 8, 8) and image.abs().sum() == 0
    assert label == int(train_split[1][3])


# --------------------------------------------------------------------------------------------------
# AugmentConfig


@pytest.mark.parametrize(
    "bad",
    [
        {"crop_scale": (0.0, 1.0)},
        {"crop_scale": (0.8, 0.6)},
        {"crop_scale": (0.5, 1.2)},
        {"crop_ratio": (-1.0, 1.0)},
        {"affine_scale": (1.0,)},
        {"max_rotation_deg": -5},
        {"max_translate_px": -1},
        {"jitter_prob": 1.5},
        {"noise_prob": -0.1},
        {"brightness": 1.0},
        {"contrast": -0.2},
        {"noise_std": -0.1},
        {"erase_scale": (0.3, 0.1)},
    ],
)
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        AugmentConfig(**bad)


def test_config_round_trips_through_plain_data():
    cfg = AugmentConfig(crop_scale=[0.5, 0.9])
    assert cfg.crop_scale == (0.5, 0.9)
    assert AugmentConfig(**cfg.to_dict()) == cfg


# --------------------------------------------------------------------------------------------------
# Augmentations


def test_views_have_shape_dtype_and_range(train_split):
    x = train_split[0][:64]
    x1, x2 = two_views(x, AugmentConfig(), seeded())
    for view in (x1, x2):
        assert view.shape == x.shape and view.dtype == x.dtype
        assert view.min() >= 0 and view.max() <= 1


def test_seeded_generator_makes_views_reproducible(train_split):
    x = train_split[0][:64]
    first = two_views(x, AugmentConfig(), seeded(7))
    second = two_views(x, AugmentConfig(), seeded(7))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    other = two_views(x, AugmentConfig(), seeded(8))
    assert not torch.equal(first[0], other[0])


def test_views_differ_from_each_other_and_from_the_input(train_split):
    x = train_split[0][:64]
    x1, x2 = two_views(x, AugmentConfig(), seeded())
    per_image = lambda a, b: (a - b).abs().flatten(1).sum(1)  # noqa: E731
    assert (per_image(x1, x2) > 0).all()
    assert (per_image(x1, x) > 0).all()


def test_views_keep_the_digit_recognisable(train_split):
    """In raw pixels, a view's nearest *other* clean image has the view's digit far above chance (10 %)."""
    images, labels = train_split
    views = augment(images, AugmentConfig(), seeded())
    distances = torch.cdist(views.flatten(1), images.flatten(1))  # (N, N)
    distances.fill_diagonal_(float("inf"))  # the view's own source image does not count
    nearest_label = labels[distances.argmin(dim=1)]
    assert (nearest_label == labels).float().mean() > 0.4


def test_everything_switched_off_is_the_identity(train_split):
    x = train_split[0][:32]
    torch.testing.assert_close(augment(x, IDENTITY, seeded()), x, atol=1e-6, rtol=0)


def test_crops_stay_inside_the_image():
    cfg = AugmentConfig(crop_scale=(0.2, 1.0), crop_ratio=(0.5, 2.0))
    m = random_crop_matrices(2000, cfg, seeded())
    width, height, cx, cy = m[:, 0, 0], m[:, 1, 1], m[:, 0, 2], m[:, 1, 2]
    assert (cx.abs() + width <= 1 + 1e-6).all() and (cy.abs() + height <= 1 + 1e-6).all()
    area = width * height
    assert area.min() >= 0.2 - 1e-6 and area.max() <= 1 + 1e-6


def test_affine_matrices_respect_the_configured_ranges():
    cfg = AugmentConfig(max_rotation_deg=20, affine_scale=(0.8, 1.25), max_translate_px=2)
    m = random_affine_matrices(2000, cfg, image_size=8, generator=seeded())
    linear = m[:, :2, :2]
    zoom = 1 / torch.linalg.det(linear).sqrt()  # det of R / s is 1 / s²
    angle = torch.rad2deg(torch.atan2(linear[:, 0, 1], linear[:, 0, 0]))
    shift_px = m[:, :2, 2] * 8 / 2
    assert zoom.min() >= 0.8 - 1e-5 and zoom.max() <= 1.25 + 1e-5
    assert angle.abs().max() <= 20 + 1e-4 and angle.abs().max() > 15
    assert shift_px.abs().max() <= 2 + 1e-5


def test_warp_shifts_by_whole_pixels():
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 3, 3] = 1.0
    shift_right_one_pixel = torch.tensor([[[1.0, 0.0, -2 / 8], [0.0, 1.0, 0.0]]])  # sample from x - 1
    moved = warp(x, shift_right_one_pixel)
    assert moved[0, 0, 3, 4] == pytest.approx(1.0) and moved.sum() == pytest.approx(1.0)


def test_erasing_blanks_one_rectangle_within_the_area_range():
    cfg = AugmentConfig(erase_prob=1.0, erase_scale=(0.1, 0.25))
    x = torch.ones(500, 1, 8, 8)
    erased = (random_erasing(x, cfg, seeded()) == 0).flatten(1)  # (500, 64)
    counts = erased.sum(1).float()
    assert (counts >= 1).all() and counts.max() <= 0.4 * 64  # rounding to whole pixels widens the range a bit
    rows_hit = erased.view(500, 8, 8).any(2).sum(1)
    cols_hit = erased.view(500, 8, 8).any(1).sum(1)
    assert torch.equal(rows_hit * cols_hit, counts.long())  # exactly a rectangle


def test_erasing_and_jitter_respect_probability_zero(train_split):
    x = train_split[0][:32]
    off = AugmentConfig(erase_prob=0.0, jitter_prob=0.0)
    assert torch.equal(random_erasing(x, off, seeded()), x)
    torch.testing.assert_close(random_intensity_jitter(x, off, seeded()), x)


def test_augment_rejects_unbatched_input():
    with pytest.raises(ValueError, match="B, C, H, W"):
        augment(torch.zeros(8, 8), AugmentConfig())


def test_no_flips_in_the_pipeline():
    """Digits are not mirror-symmetric: a config knob for flips would be a bug in waiting."""
    assert not any("flip" in name for name in vars(AugmentConfig()))
