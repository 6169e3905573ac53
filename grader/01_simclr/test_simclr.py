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
from vlcourse.grading.suite.contract import assert_unchanged, call_and_inputs
from vlcourse.grading.suite.tolerances import TOLERANCES, assert_close

grade = pytest.mark.grade
SMALL_MODEL = {"channels": [8, 16], "feature_dim": 16, "proj_hidden_dim": 16, "proj_dim": 8}


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- cosine_similarity (2 points) -------------------------------------------------------------------


@grade(cell="cosine_similarity", points=0.5, hint="Normalise the rows of both inputs, then take all dot products.")
def test_similarity_matches_reference(student):
    """pairwise_cosine_similarity matches the reference on random float64 inputs"""
    a, b = randn(5, 7, seed=1), randn(3, 7, seed=2)
    assert_close(student.pairwise_cosine_similarity(a, b), ref.pairwise_cosine_similarity(a, b))


@grade(cell="cosine_similarity", points=0.25, hint="The result has one row per row of a and one column per row of b.")
def test_similarity_rectangular_scaled(student):
    """works for N != M and rows of very different lengths"""
    # Shortest row ~0.4 long: an eps added to the norms (instead of a clamp) stays within the float64 tolerance.
    a, b = randn(4, 3, seed=3) * torch.tensor([[0.25], [1.0], [50.0], [7.0]], dtype=torch.float64), randn(6, 3, seed=4)
    assert_close(student.pairwise_cosine_similarity(a, b), ref.pairwise_cosine_similarity(a, b))


@grade(cell="cosine_similarity", points=0.25, hint="Clamp the norms so that an all-zero row does not divide by zero.")
def test_similarity_zero_rows_finite(student):
    """an all-zero row gives finite similarities (no division by zero)"""
    a = torch.cat([torch.zeros(1, 4, dtype=torch.float64), randn(2, 4, seed=5)])
    result = student.pairwise_cosine_similarity(a, a)
    assert_close(result, ref.pairwise_cosine_similarity(a, a))


@grade(cell="cosine_similarity", points=0.5, hint="Stay differentiable: torch operations only, no .detach(), no torch.no_grad(), no in-place edits of a or b.")
def test_similarity_gradients(student):
    """gradients with respect to a and b match the reference (float64)"""
    a, b = randn(4, 6, seed=6), randn(5, 6, seed=7)
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(
        student.ref("pairwise_cosine_similarity"), [a, b], {}, [0, 1]
    )
    ra, rb = a.clone().requires_grad_(), b.clone().requires_grad_()
    expected = ref.pairwise_cosine_similarity(ra, rb)
    expected.sum().backward()
    assert_close(value, expected.detach())
    for got, want, name in zip(grads, (ra.grad, rb.grad), "ab"):
        assert got is not None, f"no gradient reached {name}"
        assert_close(got, want, "gradient", what=f"gradient of {name}")


@grade(cell="cosine_similarity", points=0.25, hint="Any floating dtype must work: do not convert the inputs to another dtype.")
def test_similarity_float32(student):
    """float32 inputs give the (N, M) similarities within float32 precision"""
    a, b = randn(6, 5, seed=8, dtype=torch.float32), randn(4, 5, seed=9, dtype=torch.float32)
    assert_close(student.pairwise_cosine_similarity(a, b), ref.pairwise_cosine_similarity(a.double(), b.double()), "float32")


@grade(cell="cosine_similarity", points=0.25, hint="Do not modify a or b in place (a /= ... changes the caller's tensor): write a = a / ... instead.")
def test_similarity_leaves_inputs_unchanged(student):
    """the result is right and a and b are unchanged after the call"""
    a, b = randn(5, 4, seed=10) * 3, randn(3, 4, seed=11) * 0.5
    value, args, _ = call_and_inputs(student, "pairwise_cosine_similarity", [a, b])
    assert_close(value, ref.pairwise_cosine_similarity(a, b))
    assert_unchanged(args, [a, b], "ab")


# --- nt_xent_loss (4 points) ------------------------------------------------------------------------


@grade(cell="nt_xent_loss", points=1, hint="Check the denominator: every view except itself, 2N - 1 candidates.")
def test_loss_matches_reference(student):
    """nt_xent_loss matches the reference (float64, N=8, D=16, temperature 0.5)"""
    z1, z2 = randn(8, 16, seed=10), randn(8, 16, seed=11)
    assert_close(student.nt_xent_loss(z1, z2, 0.5), ref.nt_xent_loss(z1, z2, 0.5))


@grade(cell="nt_xent_loss", points=1, hint="Divide the similarities by the temperature exactly once; average over all 2N views.")
def test_loss_other_sizes_and_temperatures(student):
    """matches the reference for other batch sizes, widths and temperatures"""
    for n, d, temperature in [(3, 5, 0.1), (16, 4, 2.0), (2, 3, 1.0), (5, 8, 0.05)]:
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
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(
        student.ref("nt_xent_loss"), [z1, z2], {"temperature": 0.5}, [0, 1]
    )
    r1, r2 = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    expected = ref.nt_xent_loss(r1, r2, 0.5)
    expected.backward()
    assert_close(value, expected.detach())
    assert grads[0] is not None and grads[1] is not None, "no gradient reached z1 or z2"
    assert_close(grads[0], r1.grad, "gradient")
    assert_close(grads[1], r2.grad, "gradient")


@grade(cell="nt_xent_loss", points=0.25, hint="Exclude each view's similarity with itself by its position (the diagonal), not by its value: a positive can be exactly as similar as the view itself.")
def test_loss_identical_views(student):
    """identical views and exact similarities (0 and 1) give the reference loss"""
    eye = torch.eye(4, 6, dtype=torch.float64)  # orthogonal rows: every negative has similarity exactly 0
    mixed = torch.cat([eye[:2], randn(2, 6, seed=35)])
    for z1, z2 in ((eye, eye.clone()), (2 * eye, eye), (mixed, mixed.clone())):
        assert_close(student.nt_xent_loss(z1, z2, 0.5), ref.nt_xent_loss(z1, z2, 0.5))


@grade(cell="nt_xent_loss", points=0.25, hint="Never modify z1 or z2 in place (z1 /= ... changes the caller's tensors), and let any floating dtype through.")
def test_loss_float32_leaves_inputs_unchanged(student):
    """float32 inputs give the reference loss, and z1 and z2 are unchanged after the call"""
    z1, z2 = randn(6, 8, seed=36, dtype=torch.float32) * 4, randn(6, 8, seed=37, dtype=torch.float32)
    value, args, _ = call_and_inputs(student, "nt_xent_loss", [z1, z2, 0.5])
    assert_close(value, ref.nt_xent_loss(z1.double(), z2.double(), 0.5), "float32")
    assert_unchanged(args[:2], [z1, z2], ("z1", "z2"))


# --- train_step (2 points) --------------------------------------------------------------------------
# Both ways of running the two views are right: two forward passes (the reference, lightly) or one
# pass over torch.cat([x1, x2]) (SimCLR's own code). With batch norm in the model they give different
# (equally valid) steps, so the tests accept either.
VIEW_MODES = ("separate", "concatenated")


@functools.cache
def two_step_case():
    """Start weights, batches, and per view mode the reference's losses and final weights (the same for every student)."""
    torch.manual_seed(0)
    state = ref.SimCLRModel(ref.SimCLRConfig(**SMALL_MODEL)).state_dict()
    images, _ = load_digits_split("train")
    batches = [(images[i : i + 16], images[i + 16 : i + 32]) for i in (0, 32)]
    return state, batches, {mode: reference_steps(state, batches, 0.05, mode) for mode in VIEW_MODES}


def reference_steps(state, batches, lr, mode="separate"):
    """The reference's losses and final weights after one step per batch (SGD with momentum)."""
    from vlcourse.grading.suite.probes import pair_mse_loss

    model = ref.SimCLRModel(ref.SimCLRConfig(**SMALL_MODEL))
    model.load_state_dict(state)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    losses = []
    for x1, x2 in batches:
        optimizer.zero_grad()
        if mode == "separate":
            (_, z1), (_, z2) = model(x1), model(x2)
        else:
            z1, z2 = model(torch.cat([x1, x2]))[1].chunk(2)
        loss = pair_mse_loss(z1, z2)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, model.state_dict()


def student_steps(student, state, batches, stale_grads: float | None = None):
    """The student's train_step on a fresh model with ``state`` (and leftover gradients, if asked)."""
    model = student.lib("vlcourse.grading.suite.probes.build_module")(
        "vlcourse.simclr.SimCLRModel", "vlcourse.simclr.SimCLRConfig", SMALL_MODEL, state
    )
    if stale_grads is not None:
        student.lib("vlcourse.grading.suite.probes.set_stale_grads")(model, stale_grads)
    optimizer = student.lib("torch.optim.SGD")(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = student.libref("vlcourse.grading.suite.probes.pair_mse_loss")
    returned = [student.train_step(model, optimizer, x1, x2, loss_fn) for x1, x2 in batches]
    return returned, model.state_dict()


def states_equal(got: dict, expected: dict) -> bool:
    if set(got) != set(expected) or not all(type(v) is torch.Tensor for v in got.values()):
        return False
    rtol, atol = TOLERANCES["training"]
    return all(
        got[k].shape == v.shape and torch.allclose(got[k].to(v.dtype), v, rtol=rtol, atol=atol) for k, v in expected.items()
    )


def assert_state_matches_a_mode(got_state: dict, expected: dict) -> str:
    """The view mode whose reference weights ``got_state`` equals; else fails against the reference's own mode."""
    for mode in VIEW_MODES:
        if states_equal(got_state, expected[mode][1]):
            return mode
    reference = expected["separate"][1]
    assert set(got_state) == set(reference), "the model's parameters and buffers changed names"
    for name, tensor in reference.items():
        assert_close(got_state[name].to(tensor.dtype), tensor, "training", what=name)
    raise AssertionError("the weights after the steps differ from the reference")


@grade(cell="train_step", points=1.25, hint="Clear the gradients before backward, then take exactly one optimiser step.")
def test_two_steps_match_reference(student):
    """two successive steps (SGD with momentum) move the weights exactly like the reference"""
    state, batches, expected = two_step_case()
    _, got_state = student_steps(student, state, batches)
    assert_state_matches_a_mode(got_state, expected)


@grade(cell="train_step", points=0.5, hint="Clear the old gradients at the start of the step (before backward), not at its end: the model may arrive with gradients left over.")
def test_leftover_gradients_are_cleared(student):
    """a model that arrives with leftover gradients still takes the reference's step"""
    state, batches, expected = two_step_case()
    _, got_state = student_steps(student, state, batches, stale_grads=1.0)
    assert_state_matches_a_mode(got_state, expected)


@grade(cell="train_step", points=0.25, hint="Return loss.item(), a Python float, not the tensor.")
def test_returns_python_float(student):
    """returns each step's loss (before its update) as a Python float"""
    state, batches, expected = two_step_case()
    returned, got_state = student_steps(student, state, batches)
    assert all(type(v) is float for v in returned), "train_step should return a Python float"
    modes = [mode for mode in VIEW_MODES if states_equal(got_state, expected[mode][1])] or ["separate"]
    assert returned == pytest.approx(expected[modes[0]][0], rel=1e-4), "the returned values are not the losses of the steps"


# --- collapse (2 points) ----------------------------------------------------------------------------


@grade(cell="collapse", points=0.75, hint="Minus the mean cosine similarity of the pairs (z1[n], z2[n]).")
def test_alignment_only_loss(student):
    """alignment_only_loss matches the reference, including gradients with respect to z1 and z2"""
    lengths = torch.logspace(-1, 1, 7, dtype=torch.float64)[:, None]  # rows from 0.1x to 10x: normalised, not clamped
    z1, z2 = randn(7, 5, seed=40) * lengths.flip(0), randn(7, 5, seed=41) * lengths
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(student.ref("alignment_only_loss"), [z1, z2], {}, [0, 1])
    r1, r2 = z1.clone().requires_grad_(), z2.clone().requires_grad_()
    expected = ref.alignment_only_loss(r1, r2)
    expected.backward()
    assert_close(value, expected.detach())
    for got, want, name in zip(grads, (r1.grad, r2.grad), ("z1", "z2")):
        assert got is not None, f"no gradient reached {name}"
        assert_close(got, want, "gradient", what=f"gradient of {name}")


@grade(cell="collapse", points=0.75, hint="Normalise the rows, take the std of each dimension over the rows (torch.std's default, unbiased), then the mean.")
def test_embedding_std(student):
    """embedding_std matches the reference on spread-out, small and collapsed embeddings"""
    spread = randn(50, 8, seed=50) * 4
    small = randn(3, 4, seed=53) * torch.tensor([[0.5], [2.0], [9.0]], dtype=torch.float64)
    collapsed = randn(1, 8, seed=51).repeat(20, 1) + 1e-9 * randn(20, 8, seed=52)
    for z in (spread, small, collapsed):
        assert_close(student.embedding_std(z), ref.embedding_std(z))


@grade(cell="collapse", points=0.25, hint="alignment_only_loss must not modify z1 or z2 in place, and must accept float32.")
def test_alignment_only_loss_float32_leaves_inputs(student):
    """alignment_only_loss on float32 inputs gives the reference value and leaves z1 and z2 unchanged"""
    z1, z2 = randn(6, 4, seed=54, dtype=torch.float32) * 5, randn(6, 4, seed=55, dtype=torch.float32)
    value, args, _ = call_and_inputs(student, "alignment_only_loss", [z1, z2])
    assert_close(value, ref.alignment_only_loss(z1.double(), z2.double()), "float32")
    assert_unchanged(args, [z1, z2], ("z1", "z2"))


@grade(cell="collapse", points=0.25, hint="embedding_std must not modify z in place (z /= ... changes the caller's tensor), and must accept float32.")
def test_embedding_std_float32_leaves_input(student):
    """embedding_std on float32 inputs gives the reference value and leaves z unchanged"""
    z = randn(30, 6, seed=56, dtype=torch.float32) * 3
    value, args, _ = call_and_inputs(student, "embedding_std", [z])
    assert_close(value, ref.embedding_std(z.double()), "float32")
    assert_unchanged(args, [z], ("z",))


# --- trained_encoder (3 points) ---------------------------------------------------------------------

TARGET_MARGIN = 0.05  # full marks this far below the reference checkpoint's accuracy


@grade(cell="trained_encoder", points=3, hint="Train with your NT-Xent loss for the full budget and save model.encoder.")
def test_trained_encoder_probe(student, submitted, credit):
    """the submitted encoder's features give a 5-labels-per-class linear probe well above a random encoder"""
    train_images, _ = load_digits_split("train")
    test_images, _ = load_digits_split("test")
    encoder = student.lib("vlcourse.simclr.load_encoder")(submitted.path("simclr_encoder.safetensors"))
    features = student.lib("vlcourse.simclr.extract_features")(encoder, torch.cat([train_images, test_images]))
    assert type(features) is torch.Tensor and features.ndim == 2 and len(features) == len(train_images) + len(test_images)
    assert torch.isfinite(features).all()
    trusted, accuracy = encoder_probe((submitted.folder / "simclr_encoder.safetensors").read_bytes())
    torch.testing.assert_close(features.float(), trusted, rtol=1e-3, atol=1e-4)  # the runner's are the file's features
    reference = ref.reference_metrics()
    baseline, target = reference["random_encoder_probe_acc_5pc"], reference["probe_acc_5pc"] - TARGET_MARGIN
    assert accuracy > baseline, f"accuracy {accuracy:.3f} is not above the random-encoder baseline"
    credit.award((accuracy - baseline) / (target - baseline))


@functools.lru_cache(maxsize=64)
def encoder_probe(content: bytes) -> tuple[torch.Tensor, float]:
    """Features of every digit under a handed-in encoder file's bytes, computed on this trusted side, and
    their 5-labels-per-class probe accuracy; once per grading process for each distinct file."""
    import tempfile
    from pathlib import Path

    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "simclr_encoder.safetensors"
        path.write_bytes(content)
        features = ref.extract_features(ref.load_encoder(path), torch.cat([train_images, test_images]))
    n = len(train_images)
    return features, ref.few_label_probe_accuracy(features[:n].float(), train_labels, features[n:].float(), test_labels, 5)


