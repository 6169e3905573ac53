"""Hidden tests of assignment 03 (MAE). Run by `vlcourse grade`, never shipped to students.

Every expected value is computed on this (trusted) side with the reference in vlcourse.mae; the
student's code only ever runs in its own process, reached through the ``student`` fixture. Masks
are made deterministic by handing the same ``noise`` to both sides.
"""

import functools
from pathlib import Path
import tempfile
import json

import pytest
import torch

import vlcourse.mae as ref
from vlcourse.checkpoints import load_checkpoint
from vlcourse.grading.suite.tolerances import assert_close

grade = pytest.mark.grade
SMALL = {"image_size": 8, "patch_size": 2, "in_chans": 3, "embed_dim": 16, "depth": 2, "num_heads": 2,
         "decoder_embed_dim": 12, "decoder_depth": 1, "decoder_num_heads": 3}


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def rand(*shape, seed, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def call_and_inputs(student, name, args: list, kwargs: dict | None = None):
    """The notebook's ``name`` (or a module built in the runner) called on ``args`` in the runner:
    ``(value, args as they are after the call, kwargs)``."""
    fn = student.ref(name) if isinstance(name, str) else name
    result = student.lib("vlcourse.grading.suite.probes.call_and_inputs")(fn, list(args), dict(kwargs or {}))
    assert type(result) in (list, tuple) and len(result) == 3, f"{name}(...) could not be checked"
    return result


def assert_unchanged(after, before, names) -> None:
    """The arguments as the runner saw them after the call equal what was sent (no in-place edit)."""
    assert type(after) in (list, tuple) and len(after) == len(before)
    for got, sent, name in zip(after, before, names):
        assert type(got) is torch.Tensor and got.dtype == sent.dtype and torch.equal(got, sent), f"{name} was modified in place"


def assert_dtype(value, expected: torch.Tensor, what: str) -> None:
    """``value`` is a tensor of ``expected``'s dtype (assert_close compares values only)."""
    assert type(value) is torch.Tensor, f"{what} should be a tensor, got {type(value).__name__}"
    assert value.dtype == expected.dtype, f"{what} should be {expected.dtype}, got {value.dtype}"


def assert_triple(got, want, what: str) -> None:
    """``(x_kept, mask, ids_restore)`` or ``(latent, mask, ids_restore)`` equal the reference's, dtypes included
    (the first output and the mask in the tokens' dtype, ids_restore int64)."""
    assert type(got) in (list, tuple) and len(got) == 3, f"{what} should return a tuple of three tensors"
    for value, expected, name in zip(got, want, ("first output", "mask", "ids_restore")):
        assert_dtype(value, expected, f"{what}: {name}")
        assert_close(value, expected, what=f"{what}: {name}")


def value_and_grad(student, name, args, wrt):
    """The student's ``name`` called in the runner, and the gradients of its summed value w.r.t. ``args[i]``."""
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(student.ref(name), list(args), {}, wrt)
    return value, grads


# --- patchify (1.5 points) --------------------------------------------------------------------------

PATCH_CASES = [(2, 3, 8, 2), (1, 3, 32, 4), (3, 1, 6, 3), (2, 3, 8, 8), (1, 2, 4, 1)]  # (B, C, size, p)


@grade(cell="patchify", points=0.75, hint="Patches row by row over the grid; inside a patch pixel row, then pixel column, then channel: reshape to (B, C, h, p, w, p), permute to (B, h, w, p, p, C), reshape.")
def test_patchify_values(student):
    """patchify equals the reference for several image sizes, patch sizes and channel counts (float64)"""
    for B, C, size, p in PATCH_CASES:
        imgs = randn(B, C, size, size, seed=size * 10 + p)
        assert_close(student.patchify(imgs, p), ref.patchify(imgs, p), what=f"patches of {size}x{size}x{C} images, p={p}")


@grade(cell="patchify", points=0.25, hint="Stay differentiable (reshape and permute are): no .detach(), no numpy.")
def test_patchify_gradient(student):
    """gradients flow back to the images as through the reference"""
    imgs, weight = randn(2, 3, 8, 8, seed=1), randn(2, 16, 12, seed=2)
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(
        student.ref("patchify"), [imgs, 2], {}, [0])
    assert_close(value, ref.patchify(imgs, 2))
    rimgs = imgs.clone().requires_grad_()
    ref.patchify(rimgs, 2).sum().backward()
    assert grads[0] is not None, "no gradient reached the images"
    assert_close(grads[0], rimgs.grad, "gradient", what="gradient of the images")
    del weight


@grade(cell="patchify", points=0.25, hint="Do not modify imgs in place; keep their dtype, whatever it is (float64, float32, uint8).")
def test_patchify_keeps_dtype_leaves_input(student):
    """float64, float32 and uint8 images give exactly the reference patches in their own dtype, and the images are unchanged"""
    for dtype, seed in ((torch.float64, 2), (torch.float32, 3), (torch.uint8, 4)):
        imgs = (rand(2, 3, 8, 8, seed=seed) * 255).to(dtype)
        value, args, _ = call_and_inputs(student, "patchify", [imgs, 4])
        expected = ref.patchify(imgs, 4)
        assert type(value) is torch.Tensor and value.dtype == dtype, f"patchify should keep the {dtype} dtype"
        assert tuple(value.shape) == tuple(expected.shape) and torch.equal(value, expected), f"{dtype} patches differ"
        assert_unchanged(args[:1], [imgs], ("imgs",))


@grade(cell="patchify", points=0.25, hint="Patch l = i * (W // p) + j (row-major over the grid), value (u * p + v) * C + c inside it.")
def test_patchify_order_on_numbered_pixels(student):
    """on an image whose pixels are numbered, every patch holds exactly the promised pixels in the promised order"""
    imgs = torch.arange(2 * 3 * 12 * 12, dtype=torch.float64).reshape(2, 3, 12, 12)
    got = student.patchify(imgs, 3)
    assert_close(got, ref.patchify(imgs, 3), what="patches of numbered pixels")


# --- unpatchify (1 point) ---------------------------------------------------------------------------


@grade(cell="unpatchify", points=0.5, hint="Undo patchify: reshape to (B, h, w, p, p, C), permute to (B, C, h, p, w, p), reshape to (B, C, H, W); C = D // (p * p).")
def test_unpatchify_values(student):
    """unpatchify of patches equals the reference for several sizes and channel counts (float64)"""
    for B, C, size, p in PATCH_CASES:
        patches = randn(B, (size // p) ** 2, p * p * C, seed=size + p)
        assert_close(student.unpatchify(patches, p), ref.unpatchify(patches, p), what=f"images from {size}x{size}x{C} patches, p={p}")


@grade(cell="unpatchify", points=0.25, hint="unpatchify(patchify(imgs, p), p) must give imgs back exactly, for any channel count.")
def test_unpatchify_inverts_patchify(student):
    """unpatchify gives back the images that the reference patchify cut up (C = 1, 2, 3)"""
    for B, C, size, p in ((2, 3, 16, 4), (1, 1, 8, 2), (2, 2, 9, 3)):
        imgs = randn(B, C, size, size, seed=C * 7 + size)
        assert_close(student.unpatchify(ref.patchify(imgs, p), p), imgs, what=f"round trip of {size}x{size}x{C} images")


@grade(cell="unpatchify", points=0.25, hint="Do not modify the patches in place; keep their dtype (float64 and float32) and stay differentiable.")
def test_unpatchify_keeps_dtype_gradient_leaves_input(student):
    """float32 and float64 patches give exactly the reference images in their own dtype and are unchanged; gradients flow back"""
    patches = rand(2, 16, 12, seed=5, dtype=torch.float32)
    for sent in (patches, randn(2, 9, 12, seed=6)):
        value, args, _ = call_and_inputs(student, "unpatchify", [sent, 2])
        expected = ref.unpatchify(sent, 2)
        assert_close(value, expected, "float32" if sent.dtype == torch.float32 else "float64")
        assert value.dtype == sent.dtype, f"unpatchify should keep the {sent.dtype} dtype"
        assert torch.equal(value, expected), f"{sent.dtype} images differ (unpatchify only moves values)"
        assert_unchanged(args[:1], [sent], ("patches",))
    value, grads = value_and_grad(student, "unpatchify", [patches.double(), 2], [0])
    assert value.dtype == torch.float64, "unpatchify should keep the float64 dtype"
    assert grads[0] is not None and torch.equal(grads[0], torch.ones_like(patches, dtype=torch.float64)), "no gradient reached the patches"


# --- random_masking (2.5 points) --------------------------------------------------------------------

MASK_CASES = [(2, 16, 5, 0.75), (3, 10, 4, 0.45), (1, 49, 3, 0.75), (2, 64, 8, 0.9), (2, 9, 2, 0.3), (4, 64, 6, 0.5),
              (2, 16, 3, 0.95)]  # the last keeps int(16 * 0.05) = 0 tokens


@grade(cell="random_masking", points=0.75, hint="ids_shuffle = argsort(noise) (ascending: small noise is kept), ids_restore = argsort(ids_shuffle); keep the first K; the mask is 1 for removed tokens, in the original order (gather with ids_restore).")
def test_random_masking_values(student):
    """with the same noise, the kept tokens, the mask and ids_restore equal the reference's, dtypes included (several shapes and ratios, down to no kept token)"""
    for B, L, D, ratio in MASK_CASES:
        x, noise = randn(B, L, D, seed=L + D), rand(B, L, seed=L * 3, dtype=torch.float32)
        assert_triple(student.random_masking(x, ratio, noise), ref.random_masking(x, ratio, noise),
                      f"random_masking with L={L}, mask_ratio={ratio}")


@grade(cell="random_masking", points=0.25, hint="Keep K = int(L * (1 - mask_ratio)) tokens (int truncates) and set the mask to 1 on the L - K others.")
def test_random_masking_kept_count(student):
    """the number of kept tokens is int(L * (1 - mask_ratio)), and the mask marks the others, with the reference's values"""
    for L, ratio, seed in ((64, 0.75, 6), (49, 0.75, 7), (10, 0.45, 8), (9, 0.3, 9), (16, 0.5, 10), (50, 0.75, 11),
                           (16, 0.95, 12)):
        x, noise = randn(2, L, 3, seed=seed), rand(2, L, seed=seed + 50)
        got = student.random_masking(x, ratio, noise)
        keep = int(L * (1 - ratio))
        assert type(got) in (list, tuple) and len(got) == 3 and type(got[0]) is torch.Tensor
        assert tuple(got[0].shape) == (2, keep, 3), f"L={L}, mask_ratio={ratio} should keep {keep} tokens"
        assert_triple(got, ref.random_masking(x, ratio, noise), f"L={L}, mask_ratio={ratio}")


@grade(cell="random_masking", points=0.25, hint="ids_restore = argsort(ids_shuffle) must undo the shuffle; with mask_ratio 0 every token is kept and the mask is all zeros.")
def test_random_masking_ratio_zero_and_ids_restore(student):
    """mask_ratio 0 keeps every token (shuffled) with an all-zero mask, and gathering with ids_restore restores the order"""
    x, noise = randn(3, 12, 4, seed=12), rand(3, 12, seed=13)
    got = student.random_masking(x, 0.0, noise)
    assert_triple(got, ref.random_masking(x, 0.0, noise), "mask_ratio 0")
    kept, mask, ids_restore = got
    assert not mask.any(), "with mask_ratio 0 nothing is removed"
    restored = torch.gather(kept, 1, ids_restore.long()[..., None].expand(-1, -1, 4))
    assert_close(restored, x, what="the kept tokens put back with ids_restore")


@grade(cell="random_masking", points=0.5, hint="Only when noise is None, draw it with exactly torch.rand(B, L, generator=generator, device=x.device): the same seeded generator (or, with generator None, the same global seed) must give the same masks; noise you are given always wins.")
def test_random_masking_draws_noise_with_the_generator(student):
    """without noise, a seeded generator gives the reference's masks (positional and keyword generator), no generator
    draws from the global generator; given noise is used even when a generator is given too"""
    x = randn(3, 16, 4, seed=14)
    for seed, as_keyword in ((0, False), (1, True)):
        generator = student.lib("torch.Generator")()
        generator.manual_seed(seed)
        got = (student.random_masking(x, 0.75, generator=generator) if as_keyword
               else student.random_masking(x, 0.75, None, generator))
        assert_triple(got, ref.random_masking(x, 0.75, generator=torch.Generator().manual_seed(seed)),
                      f"masks from a generator seeded {seed}")
    student.lib("torch.manual_seed")(2)  # the runner's global generator, which generator=None draws from
    assert_triple(student.random_masking(x, 0.5), ref.random_masking(x, 0.5, generator=torch.Generator().manual_seed(2)),
                  "masks with neither noise nor generator, after torch.manual_seed(2)")
    noise, generator = rand(3, 16, seed=22), student.lib("torch.Generator")()
    generator.manual_seed(3)
    assert_triple(student.random_masking(x, 0.75, noise=noise, generator=generator), ref.random_masking(x, 0.75, noise),
                  "masks from the noise given together with a generator")


@grade(cell="random_masking", points=0.25, hint="Select the kept tokens with differentiable indexing (torch.gather): gradients must reach x.")
def test_random_masking_gradient(student):
    """the gradient of the kept tokens with respect to x equals the reference's"""
    x, noise = randn(2, 9, 3, seed=15), rand(2, 9, seed=16)
    weight = randn(2, 4, 3, seed=17)
    outputs, arg_grads, _ = student.lib("vlcourse.mae.probes.first_output_value_and_grads")(
        student.ref("random_masking"), [x, 0.5, noise], weight)
    rx = x.clone().requires_grad_()
    (ref.random_masking(rx, 0.5, noise)[0] * weight).sum().backward()
    assert_close(outputs[0], ref.random_masking(x, 0.5, noise)[0])
    assert arg_grads[0] is not None, "no gradient reached x"
    assert_close(arg_grads[0], rx.grad, "gradient", what="gradient of x")


@grade(cell="random_masking", points=0.5, hint="The kept tokens and the mask have x's dtype (torch.ones(B, L, dtype=x.dtype)), ids_restore is int64; do not modify x or noise in place.")
def test_random_masking_dtypes_float32_leaves_inputs(student):
    """float32 tokens: float32 kept tokens and mask, int64 ids_restore, the reference's values; x and noise unchanged"""
    x, noise = rand(2, 16, 5, seed=18, dtype=torch.float32), rand(2, 16, seed=19, dtype=torch.float32)
    value, args, _ = call_and_inputs(student, "random_masking", [x, 0.75, noise])
    expected = ref.random_masking(x, 0.75, noise)
    assert type(value) in (list, tuple) and len(value) == 3, "random_masking should return three tensors"
    kept, mask, ids_restore = value
    assert type(kept) is torch.Tensor and kept.dtype == torch.float32, "the kept tokens should have x's dtype"
    assert type(mask) is torch.Tensor and mask.dtype == torch.float32, "the mask should have x's dtype"
    assert type(ids_restore) is torch.Tensor and ids_restore.dtype == torch.int64, "ids_restore should be int64"
    assert_triple(value, expected, "float32 tokens")
    assert_unchanged(args[:1] + args[2:], [x, noise], ("x", "noise"))
    x64 = randn(1, 4, 2, seed=20)
    got = student.random_masking(x64, 0.5, rand(1, 4, seed=21))
    assert type(got) in (list, tuple) and len(got) == 3 and type(got[0]) is torch.Tensor and type(got[1]) is torch.Tensor
    assert got[0].dtype == torch.float64 and got[1].dtype == torch.float64, "float64 tokens: float64 kept tokens and mask"


# --- mae_encoder (2.5 points) -----------------------------------------------------------------------


@functools.cache
def encoder_state(seed: int = 30) -> dict:
    """Random reference encoder weights for the SMALL config (float64)."""
    torch.manual_seed(seed)
    encoder = ref.MAEEncoder(ref.MAEConfig(**SMALL))
    with torch.no_grad():
        for p in encoder.parameters():  # beyond the initialisation: non-trivial biases, norms and tokens
            p.add_(0.1 * torch.randn_like(p))
    return {k: v.double() for k, v in encoder.state_dict().items()}


def reference_encoder(state: dict, config: dict = SMALL):
    encoder = ref.MAEEncoder(ref.MAEConfig(**config)).double().eval()
    encoder.load_state_dict(state)
    return encoder


def student_encoder(student, state: dict, config: dict = SMALL):
    """The student's MAEEncoder built in the runner (float64) with ``state`` loaded."""
    return student.lib("vlcourse.grading.suite.probes.build_module")(
        student.ref("MAEEncoder"), "vlcourse.mae.MAEConfig", config, state, dtype="float64")


@grade(cell="mae_encoder", points=0.75, hint="patch_embed(patchify(imgs)), add pos_embed[:, 1:] before masking, random_masking with the noise and generator you were given, prepend cls_token + pos_embed[:, :1], run the blocks, then norm.")
def test_encoder_with_reference_weights(student):
    """reference weights in the student's encoder give the reference latent, mask and ids_restore (ratios 0.75, 0.5, 0)"""
    state = encoder_state()
    encoder = student_encoder(student, state)
    reference = reference_encoder(state)
    imgs = rand(3, 3, 8, 8, seed=31)
    for ratio, seed in ((0.75, 32), (0.5, 33), (0.0, 34)):
        noise = rand(3, 16, seed=seed)
        assert_triple(encoder(imgs, ratio, noise), reference(imgs, ratio, noise), f"the encoder at mask_ratio {ratio}")


@functools.cache
def tiny_checkpoint():
    """The shipped tiny checkpoint in float64, its config, the reference model and held-out images."""
    state, entry = load_checkpoint(ref.checkpoint_name("tiny"))
    state = {k: v.double() for k, v in state.items()}
    model, _ = ref.load_reference("tiny")
    preset = ref.PRESETS["tiny"]
    images = ref.load_images("shapes", "val", 6, preset.shapes).double()
    return state, entry.config["model"], model.double().eval(), images


def part(state: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


@grade(cell="mae_encoder", points=0.5, hint="Your encoder must work with the course's trained weights: 32x32 images, 64 patches, 16 kept at 75 %.")
def test_encoder_with_the_trained_checkpoint(student):
    """the tiny checkpoint's encoder weights in the student's encoder give the reference latent on held-out shapes"""
    state, config, model, images = tiny_checkpoint()
    encoder = student_encoder(student, part(state, "encoder."), config)
    noise = rand(len(images), 64, seed=35)
    assert_triple(encoder(images, 0.75, noise), model.encoder(images, 0.75, noise), "the trained encoder")


@grade(cell="mae_encoder", points=0.25, hint="The encoder must see only the visible patches: no mask tokens, no zeroed patches, masking after patch_embed and positions.")
def test_encoder_never_sees_removed_patches(student):
    """repainting every removed patch leaves the student's latent unchanged; repainting the visible ones changes it"""
    state = encoder_state()
    encoder = student_encoder(student, state)
    imgs, noise = rand(2, 3, 8, 8, seed=36), rand(2, 16, seed=37)
    got = encoder(imgs, 0.75, noise)
    assert_triple(got, reference_encoder(state)(imgs, 0.75, noise), "the encoder")
    mask = ref.random_masking(torch.zeros(2, 16, 1, dtype=torch.float64), 0.75, noise)[1]  # (B, L), 1 = removed
    removed = ref.unpatchify(ref.patchify(imgs, 2) + 3.0 * mask[..., None], 2)
    visible = ref.unpatchify(ref.patchify(imgs, 2) + 3.0 * (1 - mask[..., None]), 2)
    assert_close(encoder(removed, 0.75, noise)[0], got[0], what="the latent after repainting the removed patches")
    moved = (encoder(visible, 0.75, noise)[0] - got[0]).abs().amax()
    assert moved > 1e-3, "repainting the visible patches should change the latent"


@grade(cell="mae_encoder", points=0.25, hint="Pass generator on to random_masking: with noise=None the masks come from it.")
def test_encoder_uses_the_generator(student):
    """with noise=None, a seeded generator gives the reference's masks and latent"""
    state = encoder_state()
    encoder = student_encoder(student, state)
    imgs = rand(2, 3, 8, 8, seed=38)
    generator = student.lib("torch.Generator")()
    generator.manual_seed(5)
    got = encoder(imgs, 0.75, None, generator)
    assert_triple(got, reference_encoder(state)(imgs, 0.75, None, torch.Generator().manual_seed(5)), "the encoder with a generator")
    noise = rand(2, 16, seed=23)
    assert_triple(encoder(imgs, 0.75, noise, generator), reference_encoder(state)(imgs, 0.75, noise),
                  "the encoder with noise and a generator (the noise wins)")


@grade(cell="mae_encoder", points=0.25, hint="Do not modify imgs or noise in place (nor clip the images: they can lie outside [0, 1]); the latent and the mask keep the images' dtype; a mask ratio close to 1 may keep no patch at all.")
def test_encoder_leaves_inputs_keeps_dtypes(student):
    """images outside [0, 1] and ratios down to no kept patch: the reference's latent, mask and ids_restore in their
    dtypes, and the images and noise unchanged"""
    state = encoder_state()
    encoder = student_encoder(student, state)
    reference = reference_encoder(state)
    imgs = randn(2, 3, 8, 8, seed=24)
    for ratio, seed in ((0.75, 25), (0.95, 26)):  # int(16 * 0.05) = 0: the class token alone
        noise = rand(2, 16, seed=seed)
        value, args, _ = call_and_inputs(student, encoder, [imgs, ratio, noise])
        assert_triple(value, reference(imgs, ratio, noise), f"the encoder at mask_ratio {ratio}")
        assert_unchanged(args[:1] + args[2:], [imgs, noise], ("imgs", "noise"))


@grade(cell="mae_encoder", points=0.5, hint="Keep everything differentiable: gradients must reach the images and every parameter (patch_embed, cls_token, blocks, norm).")
def test_encoder_gradients(student):
    """gradients with respect to the images and every parameter equal the reference's (float64)"""
    state = encoder_state(seed=39)
    encoder = student_encoder(student, state)
    imgs, noise = rand(2, 3, 8, 8, seed=40), rand(2, 16, seed=41)
    weight = randn(2, 1 + 8, 16, seed=42)
    outputs, arg_grads, param_grads = student.lib("vlcourse.mae.probes.first_output_value_and_grads")(
        encoder, [imgs, 0.5, noise], weight)
    reference = reference_encoder(state)
    rimgs = imgs.clone().requires_grad_()
    latent = reference(rimgs, 0.5, noise)[0]
    (latent * weight).sum().backward()
    assert_close(outputs[0], latent.detach(), what="latent")
    assert arg_grads[0] is not None, "no gradient reached the images"
    assert_close(arg_grads[0], rimgs.grad, "gradient", what="gradient of the images")
    for name, param in reference.named_parameters():
        assert param_grads.get(name) is not None, f"no gradient reached {name}"
        assert_close(param_grads[name], param.grad, "gradient", what=f"gradient of {name}")


# --- unshuffle (1.5 points) -------------------------------------------------------------------------


def unshuffle_case(B, L, D, ratio, seed, dtype=torch.float64):
    """x (B, 1 + K, D), mask_token (1, 1, D), ids_restore (B, L) as the decoder gets them."""
    _, _, ids_restore = ref.random_masking(torch.zeros(B, L, 1, dtype=torch.float64), ratio, rand(B, L, seed=seed))
    keep = int(L * (1 - ratio))
    return randn(B, 1 + keep, D, seed=seed + 1, dtype=dtype), randn(1, 1, D, seed=seed + 2, dtype=dtype), ids_restore


@grade(cell="unshuffle", points=0.5, hint="Append L - K mask tokens after the visible tokens (not after the class token), gather with ids_restore, put the class token back in front.")
def test_unshuffle_values(student):
    """unshuffle equals the reference for several sizes and mask ratios, from every patch kept to none (float64)"""
    for B, L, D, ratio, seed in ((2, 16, 5, 0.75, 50), (3, 10, 4, 0.45, 51), (1, 64, 8, 0.9, 52), (2, 9, 3, 0.0, 53),
                                 (2, 16, 3, 0.95, 62)):
        x, token, ids_restore = unshuffle_case(B, L, D, ratio, seed)
        assert_close(student.unshuffle(x, token, ids_restore), ref.unshuffle(x, token, ids_restore),
                     what=f"unshuffle with L={L}, mask_ratio={ratio}")


@grade(cell="unshuffle", points=0.25, hint="Position l of the output is entry ids_restore[:, l] of the shuffled sequence: torch.gather(..., dim=1, index=ids_restore).")
def test_unshuffle_restores_every_visible_token(student):
    """tokens masked by random_masking come back at their own positions, mask tokens everywhere else, class token first"""
    tokens, noise = randn(3, 16, 4, seed=54), rand(3, 16, seed=55)
    kept, mask, ids_restore = ref.random_masking(tokens, 0.5, noise)
    cls, token = randn(3, 1, 4, seed=56), randn(1, 1, 4, seed=57)
    out = student.unshuffle(torch.cat([cls, kept], dim=1), token, ids_restore)
    assert type(out) is torch.Tensor and tuple(out.shape) == (3, 17, 4), "unshuffle should return (B, 1 + L, D)"
    assert_close(out[:, 0], cls[:, 0], what="the class token")
    visible = mask == 0
    assert_close(out[:, 1:][visible], tokens[visible], what="the visible tokens")
    assert_close(out[:, 1:][~visible], token[0, 0].expand(int((~visible).sum()), 4), what="the mask tokens")


@grade(cell="unshuffle", points=0.25, hint="Your unshuffle must work inside the course's decoder with its trained weights.")
def test_decoder_with_the_trained_checkpoint(student):
    """the tiny checkpoint's decoder around the student's unshuffle gives the reference predictions"""
    state, config, model, images = tiny_checkpoint()
    decoder = student.lib("vlcourse.grading.suite.probes.build_module")(
        "vlcourse.mae.MAEDecoder", "vlcourse.mae.MAEConfig", config, part(state, "decoder."), dtype="float64",
        unshuffle_fn=student.ref("unshuffle"))
    for ratio, seed in ((0.75, 58), (0.5, 59)):
        latent, _, ids_restore = model.encoder(images, ratio, rand(len(images), 64, seed=seed))
        assert_close(decoder(latent.detach(), ids_restore), model.decoder(latent, ids_restore).detach(),
                     what=f"the trained decoder's predictions at mask_ratio {ratio}")


@grade(cell="unshuffle", points=0.25, hint="Stay differentiable: gradients must reach x and the mask token (expand or repeat it, no in-place writes into it).")
def test_unshuffle_gradients(student):
    """gradients with respect to x and the mask token equal the reference's"""
    x, token, ids_restore = unshuffle_case(2, 9, 3, 0.5, 60)
    weight = randn(2, 10, 3, seed=61)
    outputs, grads, _ = student.lib("vlcourse.mae.probes.first_output_value_and_grads")(
        student.ref("unshuffle"), [x, token, ids_restore], weight)
    rx, rt = x.clone().requires_grad_(), token.clone().requires_grad_()
    expected = ref.unshuffle(rx, rt, ids_restore)
    (expected * weight).sum().backward()
    assert_close(outputs[0], expected.detach())
    for got, want, name in zip(grads, (rx.grad, rt.grad), ("x", "mask_token")):
        assert got is not None, f"no gradient reached {name}"
        assert_close(got, want, "gradient", what=f"gradient of {name}")


@grade(cell="unshuffle", points=0.25, hint="Do not modify x, mask_token or ids_restore in place (no unsqueeze_); keep x's dtype (float64 and float32) and copy the tokens exactly: no buffer of another dtype.")
def test_unshuffle_keeps_dtype_leaves_inputs(student):
    """float64 and float32 tokens: exactly the reference's sequence (unshuffle only moves tokens) in their dtype; x,
    mask_token and ids_restore unchanged"""
    for dtype, seed in ((torch.float64, 63), (torch.float32, 64)):
        x, token, ids_restore = unshuffle_case(2, 16, 4, 0.75, seed, dtype)
        value, args, _ = call_and_inputs(student, "unshuffle", [x, token, ids_restore])
        expected = ref.unshuffle(x, token, ids_restore)
        assert_dtype(value, expected, f"unshuffle of {dtype} tokens")
        assert_close(value, expected, "float64" if dtype == torch.float64 else "float32", what=f"unshuffle of {dtype} tokens")
        assert torch.equal(value, expected), f"unshuffle of {dtype} tokens changed their values (it only moves tokens)"
        assert_unchanged(args, [x, token, ids_restore], ("x", "mask_token", "ids_restore"))


# --- mae_loss (2 points) ----------------------------------------------------------------------------


def loss_case(B, L, P, seed, removed=0.6):
    pred, target = randn(B, L, P, seed=seed), rand(B, L, P, seed=seed + 1)
    mask = (rand(B, L, seed=seed + 2) < removed).double()
    mask[:, 0] = 1.0  # at least one removed patch per image
    return pred, target, mask


@grade(cell="mae_loss", points=0.5, hint="Mean of the squared errors over each patch's values, then the average over the removed patches: (loss * mask).sum() / mask.sum().")
def test_mae_loss_values(student):
    """mae_loss equals the reference with norm_pix=False and norm_pix=True (as keywords), for several shapes, a float64 scalar"""
    for B, L, P, seed in ((3, 7, 12, 70), (2, 64, 48, 71), (1, 4, 3, 72)):
        pred, target, mask = loss_case(B, L, P, seed)
        for norm_pix in (False, True):
            got, expected = student.mae_loss(pred, target, mask, norm_pix=norm_pix), ref.mae_loss(pred, target, mask, norm_pix)
            what = f"loss with norm_pix={norm_pix}, (B, L, P)={(B, L, P)}"
            assert_dtype(got, expected, what)
            assert_close(got, expected, what=what)


@grade(cell="mae_loss", points=0.25, hint="Only the removed patches count: predictions at visible patches (mask 0) must not change the loss.")
def test_mae_loss_ignores_visible_patches(student):
    """changing the predictions at visible patches leaves the loss unchanged (and it equals the reference)"""
    pred, target, mask = loss_case(2, 9, 6, 73, removed=0.5)
    changed = pred + 50.0 * (1 - mask)[..., None]
    for norm_pix in (False, True):
        expected = ref.mae_loss(pred, target, mask, norm_pix)
        assert_close(student.mae_loss(pred, target, mask, norm_pix), expected, what=f"loss, norm_pix={norm_pix}")
        assert_close(student.mae_loss(changed, target, mask, norm_pix), expected, what=f"loss with other visible predictions, norm_pix={norm_pix}")


@grade(cell="mae_loss", points=0.5, hint="norm_pix: (target - mean) / sqrt(var + 1e-6), mean and the unbiased variance (torch.var's default) over each patch's values; a flat patch must stay finite.")
def test_mae_loss_norm_pix_small_and_flat_patches(student):
    """norm_pix on patches of 2-4 values, low-contrast and perfectly flat ones: the reference's normalisation exactly"""
    target = torch.tensor([[[0.0, 1.0], [0.5, 0.5], [0.2, 0.9]],
                           [[0.3, 0.3], [0.1, 0.1 + 1e-4], [1.0, 0.0]]], dtype=torch.float64)
    pred = randn(2, 3, 2, seed=74)
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    assert_close(student.mae_loss(pred, target, mask, True), ref.mae_loss(pred, target, mask, True), what="two-value patches")
    pred4, target4, mask4 = loss_case(3, 5, 4, 75)
    target4[0, 0] = 0.7  # a flat patch among them
    assert_close(student.mae_loss(pred4, target4, mask4, True), ref.mae_loss(pred4, target4, mask4, True), what="four-value patches")


@grade(cell="mae_loss", points=0.5, hint="Keep the loss differentiable with respect to pred (no .item(), no detach).")
def test_mae_loss_gradients(student):
    """the gradient with respect to the predictions equals the reference's, with and without norm_pix"""
    pred, target, mask = loss_case(2, 6, 5, 76)
    for norm_pix in (False, True):
        value, grads = value_and_grad(student, "mae_loss", [pred, target, mask, norm_pix], [0])
        rp = pred.clone().requires_grad_()
        expected = ref.mae_loss(rp, target, mask, norm_pix)
        expected.backward()
        assert_close(value, expected.detach(), what=f"loss, norm_pix={norm_pix}")
        assert grads[0] is not None, "no gradient reached pred"
        assert_close(grads[0], rp.grad, "gradient", what=f"gradient of pred, norm_pix={norm_pix}")


@grade(cell="mae_loss", points=0.25, hint="Do not modify pred, target or mask in place (target -= mean changes the caller's patches); the default is norm_pix=False; float32 inputs give a float32 loss.")
def test_mae_loss_float32_default_leaves_inputs(student):
    """float32 inputs: the reference's loss, float32, with the default norm_pix=False and with norm_pix=True; inputs unchanged"""
    pred, target, mask = (t.float() for t in loss_case(2, 8, 12, 77))
    value, args, _ = call_and_inputs(student, "mae_loss", [pred, target, mask])
    assert_close(value, ref.mae_loss(pred.double(), target.double(), mask.double(), False), "float32", what="default loss")
    assert value.dtype == torch.float32, "float32 inputs should give a float32 loss"
    assert_unchanged(args, [pred, target, mask], ("pred", "target", "mask"))
    value, args, _ = call_and_inputs(student, "mae_loss", [pred, target, mask, True])
    assert_close(value, ref.mae_loss(pred.double(), target.double(), mask.double(), True), "float32", what="norm_pix loss")
    assert value.dtype == torch.float32, "float32 inputs should give a float32 loss"
    assert_unchanged(args[:3], [pred, target, mask], ("pred", "target", "mask"))


# --- trained_mae (2 points) -------------------------------------------------------------------------

TARGET_MARGIN = 0.1  # full marks within this fraction of the baseline-to-reference gap above the reference
LIMITS = {"embed_dim": 512, "depth": 12, "decoder_embed_dim": 512, "decoder_depth": 12}  # what the grader will run


@functools.cache
def grading_images() -> torch.Tensor:
    """Held-out shapes the notebook never sees (another seed than its own validation images)."""
    import dataclasses

    preset = ref.PRESETS["tiny"]
    return ref.load_images("shapes", "val", 500, dataclasses.replace(preset.shapes, seed=1))


@functools.cache
def reference_losses() -> tuple[float, float]:
    """(the reference checkpoint's loss, the mean-image baseline) on the grading images at 75 % masking."""
    model, _ = ref.load_reference("tiny")
    preset = ref.PRESETS["tiny"]
    train_images = ref.load_images("shapes", "train", preset.num_train, preset.shapes)
    images = grading_images()
    return (ref.reconstruction_loss(model, images, 0.75, seed=7),
            ref.mean_image_loss(train_images, images, model.config))


def load_submitted_mae(path):
    """The submitted MAE, rebuilt on this side from its file (safetensors: no code runs) after checking its config."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = json.loads((handle.metadata() or {})["config"])
        config = ref.MAEConfig(**raw)
    except Exception as exc:  # noqa: BLE001 - any malformed file is the submission's problem
        raise AssertionError(f"mae.safetensors is not a model saved with save_mae ({type(exc).__name__})") from None
    assert (config.image_size, config.patch_size, config.in_chans) == (32, 4, 3), "keep 32x32 images and 4x4 patches"
    assert not config.norm_pix_loss, "keep norm_pix_loss=False: the grader measures pixel reconstructions"
    for name, limit in LIMITS.items():
        assert getattr(config, name) <= limit, f"{name} above {limit}"
    model = ref.MAE(config)
    try:
        model.load_state_dict(load_file(str(path)))
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"the weights in mae.safetensors do not fit its config ({type(exc).__name__})") from None
    return model.eval()


@functools.lru_cache(maxsize=64)
def submitted_mae_loss(content: bytes) -> float:
    """The reconstruction loss of a handed-in MAE file's bytes, measured once per grading process for each
    distinct file (a class's identical hand-ins, and every variant of ``vlcourse verify``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mae.safetensors"
        path.write_bytes(content)
        model = load_submitted_mae(path)
    return ref.reconstruction_loss(model, grading_images(), 0.75, seed=7)


@grade(cell="trained_mae", points=2, hint="Train with your own pieces for the full budget and hand in mae.safetensors (keep 32x32 images, 4x4 patches, norm_pix_loss=False).")
def test_trained_mae_reconstructs_held_out_shapes(student, submitted, credit):
    """the submitted model's reconstruction error at 75 % masking on unseen shapes is well below predicting the mean image"""
    submitted.path("mae.safetensors")  # a clear message when the file was not handed in
    loss = submitted_mae_loss((submitted.folder / "mae.safetensors").read_bytes())
    reference, baseline = reference_losses()
    assert loss == loss and loss < baseline, f"loss {loss:.4f} is not below the mean-image baseline {baseline:.4f}"
    target = reference + TARGET_MARGIN * (baseline - reference)
    credit.award((baseline - loss) / (baseline - target))
