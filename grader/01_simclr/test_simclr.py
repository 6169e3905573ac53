"""Hidden tests of assignment 01 (SimCLR). Run by `vlcourse grade`, never shipped to students.

Every value is computed on this (trusted) side with the reference in vlcourse.simclr; the student's
code only ever runs in its own process, reached through the ``student`` fixture.
"""

import functools
import math

import pytest
import torch

import vlcourse.simclr as ref
from vlcourse.data.digits import load_digits_split
from vlcourse.grading.tolerances import assert_close

grade = pytest.mark.grade
SMALL_MODEL = {"channels": [8, 16], "feature_dim": 16, "proj_hidden_dim": 16, "proj_dim": 8}


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- cosine_similarity (2 points) -------------------------------------------------------------------


@grade(cell="cosine_similarity", points=1, hint="Normalise the rows of both inputs, then take all dot products.")
def test_similarity_matches_reference(student):
    """pairwise_cosine_similarity matches the reference on random float64 inputs"""
    a, b = randn(5, 7, seed=1), randn(3, 7, seed=2)
    assert_close(student.pairwise_cosine_similarity(a, b), ref.pairwise_cosine_similarity(a, b))


@grade(cell="cosine_similarity", points=0.5, hint="The result has one row per row of a and one column per row of b.")
def test_similarity_rectangular_scaled(student):
    """works for N != M and rows of very different lengths"""
    a, b = randn(4, 3, seed=3) * torch.tensor([[1e-3], [1.0], [50.0], [7.0]], dtype=torch.float64), randn(6, 3, seed=4)
    assert_close(student.pairwise_cosine_similarity(a, b), ref.pairwise_cosine_similarity(a, b))


@grade(cell="cosine_similarity", points=0.5, hint="Clamp the norms so that an all-zero row does not divide by zero.")
def test_similarity_zero_rows_finite(student):
    """an all-zero row gives finite similarities (no division by zero)"""
    a = torch.cat([torch.zeros(1, 4, dtype=torch.float64), randn(2, 4, seed=5)])
    result = student.pairwise_cosine_similarity(a, a)
    assert_close(result, ref.pairwise_cosine_similarity(a, a))


# --- nt_xent_loss (4 points) ------------------------------------------------------------------------


@grade(cell="nt_xent_loss", points=1.5, hint="Check the denominator: every view except itself, 2N - 1 candidates.")
def test_loss_matches_reference(student):
    """nt_xent_loss matches the reference (float64, N=8, D=16, temperature 0.5)"""
    z1, z2 = randn(8, 16, seed=10), randn(8, 16, seed=11)
    assert_close(student.nt_xent_loss(z1, z2, 0.5), ref.nt_xent_loss(z1, z2, 0.5))


@grade(cell="nt_xent_loss", points=1, hint="Divide the similarities by the temperature exactly once; average over all 2N views.")
def test_loss_other_sizes_and_temperatures(student):
    """matches the reference for other batch sizes, widths and temperatures"""
    for n, d, temperature in [(3, 5, 0.1), (16, 4, 2.0), (2, 3, 1.0)]:
        z1, z2 = randn(n, d, seed=n), randn(n, d, seed=n + 100)
        assert_close(student.nt_xent_loss(z1, z2, temperature=temperature), ref.nt_xent_loss(z1, z2, temperature))


@grade(cell="nt_xent_loss", points=0.5, hint="Cosine similarity ignores the length of z: normalise first.")
def test_loss_unnormalised_inputs(student):
    """inputs of very different norms give the reference loss"""
    scale = torch.logspace(-2, 2, 6, dtype=torch.float64)[:, None]
    z1, z2 = randn(6, 8, seed=20) * scale, randn(6, 8, seed=21) * scale.flip(0)
    assert_close(student.nt_xent_loss(z1, z2, 0.3), ref.nt_xent_loss(z1, z2, 0.3))


@grade(cell="nt_xent_loss", points=1, hint="Both views are anchors: the loss must depend on z1 and on z2 symmetrically.")
def test_loss_gradients_match(student):
    """gradients with respect to z1 and z2 match the reference (float64)"""
    z1, z2 = randn(5, 6, seed=30), randn(5, 6, seed=31)
    value, grads = student.lib("vlcourse.grading.probes.value_and_grad")(
        student.ref("nt_xent_loss"), [z1, z2], {"temperature": 0.5}, [0, 1]
    )
    r1, r2 = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    expected = ref.nt_xent_loss(r1, r2, 0.5)
    expected.backward()
    assert_close(value, expected.detach())
    assert grads[0] is not None and grads[1] is not None, "no gradient reached z1 or z2"
    assert_close(grads[0], r1.grad, "gradient")
    assert_close(grads[1], r2.grad, "gradient")


# --- train_step (2 points) --------------------------------------------------------------------------


@functools.cache
def two_step_case():
    """Start weights, batches and the reference's losses and final weights (the same for every student)."""
    torch.manual_seed(0)
    state = ref.SimCLRModel(ref.SimCLRConfig(**SMALL_MODEL)).state_dict()
    images, _ = load_digits_split("train")
    batches = [(images[i : i + 16], images[i + 16 : i + 32]) for i in (0, 32)]
    return state, batches, *reference_steps(state, batches, lr=0.05)


def reference_steps(state, batches, lr):
    torch.manual_seed(0)
    model = ref.SimCLRModel(ref.SimCLRConfig(**SMALL_MODEL))
    model.load_state_dict(state)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    from vlcourse.grading.probes import pair_mse_loss

    losses = [ref.train_step(model, optimizer, x1, x2, pair_mse_loss) for x1, x2 in batches]
    return losses, model.state_dict()


@grade(cell="train_step", points=1.5, hint="Clear the gradients before backward, then take exactly one optimiser step.")
def test_two_steps_match_reference(student):
    """two successive steps (SGD with momentum) move the weights exactly like the reference"""
    state, batches, expected_losses, expected_state = two_step_case()

    model = student.lib("vlcourse.grading.probes.build_module")(
        "vlcourse.simclr.SimCLRModel", "vlcourse.simclr.SimCLRConfig", SMALL_MODEL, state
    )
    optimizer = student.lib("torch.optim.SGD")(model.parameters(), lr=0.05, momentum=0.9)
    losses = [
        student.train_step(model, optimizer, x1, x2, student.libref("vlcourse.grading.probes.pair_mse_loss"))
        for x1, x2 in batches
    ]
    got_state = model.state_dict()
    assert all(isinstance(v, float) for v in losses)
    assert losses == pytest.approx(expected_losses, rel=1e-4)
    assert set(got_state) == set(expected_state)
    for name, tensor in expected_state.items():
        assert_close(got_state[name].to(tensor.dtype), tensor, "training", what=name)


@grade(cell="train_step", points=0.5, hint="Return loss.item(), a Python float, not the tensor.")
def test_returns_python_float(student):
    """returns the loss as a Python float"""
    model = student.lib("vlcourse.grading.probes.build_module")(
        "vlcourse.simclr.SimCLRModel", "vlcourse.simclr.SimCLRConfig", SMALL_MODEL
    )
    optimizer = student.lib("torch.optim.SGD")(model.parameters(), lr=0.01)
    images, _ = load_digits_split("train")
    loss = student.train_step(model, optimizer, images[:8], images[8:16], student.libref("vlcourse.grading.probes.pair_mse_loss"))
    assert type(loss) is float and math.isfinite(loss)


# --- collapse (2 points) ----------------------------------------------------------------------------


@grade(cell="collapse", points=1, hint="Minus the mean cosine similarity of the pairs (z1[n], z2[n]).")
def test_alignment_only_loss(student):
    """alignment_only_loss matches the reference, including gradients"""
    z1, z2 = randn(7, 5, seed=40) * 3, randn(7, 5, seed=41)
    value, grads = student.lib("vlcourse.grading.probes.value_and_grad")(student.ref("alignment_only_loss"), [z1, z2], {}, [0])
    r1 = z1.clone().requires_grad_()
    expected = ref.alignment_only_loss(r1, z2)
    expected.backward()
    assert_close(value, expected.detach())
    assert_close(grads[0], r1.grad, "gradient")


@grade(cell="collapse", points=1, hint="Normalise the rows, take the std of each dimension over the rows, then the mean.")
def test_embedding_std(student):
    """embedding_std matches the reference on spread-out and on collapsed embeddings"""
    spread = randn(50, 8, seed=50) * 4
    collapsed = randn(1, 8, seed=51).repeat(20, 1) + 1e-9 * randn(20, 8, seed=52)
    for z in (spread, collapsed):
        assert_close(student.embedding_std(z), ref.embedding_std(z))


# --- trained_encoder (3 points) ---------------------------------------------------------------------

TARGET_MARGIN = 0.05  # full marks this far below the reference checkpoint's accuracy


@grade(cell="trained_encoder", points=3, hint="Train with your NT-Xent loss for the full budget and save model.encoder.")
def test_trained_encoder_probe(student, submitted, credit):
    """the submitted encoder's features give a 5-labels-per-class linear probe well above a random encoder"""
    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")
    encoder = student.lib("vlcourse.simclr.load_encoder")(submitted.path("simclr_encoder.safetensors"))
    features = student.lib("vlcourse.simclr.extract_features")(encoder, torch.cat([train_images, test_images]))
    assert type(features) is torch.Tensor and features.ndim == 2 and len(features) == len(train_images) + len(test_images)
    assert torch.isfinite(features).all()
    check_features_match_weights(submitted, features, torch.cat([train_images, test_images]))
    n = len(train_images)
    accuracy = ref.few_label_probe_accuracy(features[:n].float(), train_labels, features[n:].float(), test_labels, 5)
    reference = ref.reference_metrics()
    baseline, target = reference["random_encoder_probe_acc_5pc"], reference["probe_acc_5pc"] - TARGET_MARGIN
    assert accuracy > baseline, f"accuracy {accuracy:.3f} is not above the random-encoder baseline"
    credit.award((accuracy - baseline) / (target - baseline))


def check_features_match_weights(submitted, features, images):
    """The runner's features must be what the submitted weights compute (checked on the trusted side)."""
    trusted = ref.extract_features(ref.load_encoder(submitted.folder / "simclr_encoder.safetensors"), images)
    torch.testing.assert_close(features.float(), trusted, rtol=1e-3, atol=1e-4)
