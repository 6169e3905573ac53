"""Hidden tests of assignment 02 (GPT). Run by `vlcourse grade`, never shipped to students.

Every expected value is computed on this (trusted) side with the reference in vlcourse.gpt; the
student's code only ever runs in its own process, reached through the ``student`` fixture.
"""

import functools

import pytest
import torch

import vlcourse.gpt as ref
from vlcourse.checkpoints import load_checkpoint
from vlcourse.grading.tolerances import assert_close

grade = pytest.mark.grade
SMALL = {"vocab_size": 11, "block_size": 8, "n_layer": 1, "n_head": 3, "n_embd": 12}
PROMPTS = ["ROMEO:\n", "First Citizen:\nWe are"]


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def qkv(B, nh, T, hs, seed):
    return [randn(B, nh, T, hs, seed=seed + i) for i in range(3)]


# --- causal_mask (1 point) --------------------------------------------------------------------------


@grade(cell="causal_mask", points=0.75, hint="True on and below the diagonal: query i may see keys j <= i.")
def test_causal_mask_values(student):
    """causal_mask(T) has the reference's True/False pattern for several T"""
    for T in (1, 2, 5, 16):
        got = student.causal_mask(T)
        assert type(got) is torch.Tensor and tuple(got.shape) == (T, T), f"causal_mask({T}) should have shape ({T}, {T})"
        assert torch.equal(got.bool(), ref.causal_mask(T)), f"causal_mask({T}) has the wrong pattern"


@grade(cell="causal_mask", points=0.25, hint="Return a tensor of dtype torch.bool.")
def test_causal_mask_is_bool(student):
    """causal_mask returns a bool tensor"""
    assert student.causal_mask(4).dtype == torch.bool


# --- masked_attention (2 points) --------------------------------------------------------------------


@grade(cell="masked_attention", points=0.75, hint="softmax(q kᵀ / sqrt(hs)) over the keys, masked entries -inf before the softmax.")
def test_masked_attention_causal(student):
    """matches the reference with a causal mask (float64, B=2, nh=3, T=7, hs=5)"""
    q, k, v = qkv(2, 3, 7, 5, seed=1)
    mask = ref.causal_mask(7)
    assert_close(student.masked_attention(q, k, v, mask), ref.masked_attention(q, k, v, mask))


@grade(cell="masked_attention", points=0.5, hint="Use the mask you are given (True = allowed); do not assume it is causal.")
def test_masked_attention_any_mask(student):
    """matches the reference with an arbitrary mask and another head size"""
    gen = torch.Generator().manual_seed(2)
    q, k, v = qkv(1, 2, 6, 16, seed=3)
    mask = torch.rand(6, 6, generator=gen) < 0.5
    mask[torch.arange(6), torch.randint(6, (6,), generator=gen)] = True  # every query sees some key
    assert_close(student.masked_attention(q, k, v, mask), ref.masked_attention(q, k, v, mask))


@grade(cell="masked_attention", points=0.75, hint="Keep everything differentiable: masked_fill and softmax, no in-place edits of q or k.")
def test_masked_attention_gradients(student):
    """gradients with respect to q, k and v match the reference (float64)"""
    q, k, v = qkv(2, 2, 5, 4, seed=4)
    mask = ref.causal_mask(5)
    value, grads = student.lib("vlcourse.grading.probes.value_and_grad")(
        student.ref("masked_attention"), [q, k, v, mask], {}, [0, 1, 2]
    )
    rq, rk, rv = (t.clone().requires_grad_() for t in (q, k, v))
    expected = ref.masked_attention(rq, rk, rv, mask)
    expected.sum().backward()
    assert_close(value, expected.detach())
    for got, want, name in zip(grads, (rq.grad, rk.grad, rv.grad), "qkv"):
        assert got is not None, f"no gradient reached {name}"
        assert_close(got, want, "gradient", what=f"gradient of {name}")


# --- CausalSelfAttention (3 points) -----------------------------------------------------------------


@functools.cache
def attention_state(seed: int = 5) -> dict:
    """Random reference weights for a small attention module (float64)."""
    torch.manual_seed(seed)
    return {k: v.double() for k, v in ref.CausalSelfAttention(ref.GPTConfig(**SMALL)).state_dict().items()}


def reference_attention(state: dict, config: dict = SMALL) -> torch.nn.Module:
    module = ref.CausalSelfAttention(ref.GPTConfig(**config)).double().eval()
    module.load_state_dict(state)
    return module


def student_attention(student, state: dict, config: dict = SMALL):
    """The student's CausalSelfAttention built in the runner, in float64, with ``state`` loaded."""
    return student.lib("vlcourse.grading.probes.build_module")(
        student.ref("CausalSelfAttention"), "vlcourse.gpt.GPTConfig", config, state, dtype="float64",
        allow_missing_buffers=True,
    )


@grade(cell="causal_self_attention", points=0.75, hint="Changing the input at position t+1 must not change any output at positions <= t: check the mask's orientation and where it is applied.")
def test_attention_is_causal(student):
    """perturbing the input at position t+1 leaves every output at positions <= t unchanged"""
    module = student_attention(student, attention_state())
    x = randn(2, 8, SMALL["n_embd"], seed=6)
    y = module(x)
    assert type(y) is torch.Tensor and tuple(y.shape) == tuple(x.shape), "forward should map (B, T, C) to (B, T, C)"
    for t in range(7):
        changed = x.clone()
        changed[:, t + 1] += randn(2, SMALL["n_embd"], seed=100 + t)
        new = module(changed)
        assert torch.isfinite(new).all()
        assert torch.allclose(new[:, : t + 1], y[:, : t + 1], rtol=0, atol=1e-12), f"the output at position {t} saw the future"


@grade(cell="causal_self_attention", points=0.75, hint="Split c_attn's output into q, k, v in that order; heads: (B, T, C) -> (B, T, nh, hs) -> (B, nh, T, hs).")
def test_attention_with_reference_weights(student):
    """the reference's weights loaded into the student's module give the reference outputs (float64)"""
    state = attention_state()
    module = student_attention(student, state)
    for T, seed in ((8, 7), (3, 8), (1, 9)):
        x = randn(2, T, SMALL["n_embd"], seed=seed)
        assert_close(module(x), reference_attention(state)(x), what=f"output for T={T}")


@grade(cell="causal_self_attention", points=0.5, hint="Put the heads back side by side with transpose(1, 2) before the reshape to (B, T, C).")
def test_attention_gradients(student):
    """gradients with respect to the input and to every parameter match the reference (float64)"""
    state = attention_state(seed=10)
    module = student_attention(student, state)
    x, weight = randn(2, 6, SMALL["n_embd"], seed=11), randn(2, 6, SMALL["n_embd"], seed=12)
    value, arg_grads, param_grads = student.lib("vlcourse.grading.probes.module_value_and_grads")(module, [x], weight)
    reference = reference_attention(state)
    rx = x.clone().requires_grad_()
    expected = reference(rx)
    (expected * weight).sum().backward()
    assert_close(value, expected.detach())
    assert arg_grads[0] is not None, "no gradient reached the input"
    assert_close(arg_grads[0], rx.grad, "gradient", what="gradient of the input")
    for name, param in reference.named_parameters():
        assert param_grads.get(name) is not None, f"no gradient reached {name}"
        assert_close(param_grads[name], param.grad, "gradient", what=f"gradient of {name}")


@functools.cache
def tiny_reference():
    """The shipped tiny checkpoint: its state, config, tokenizer and the reference model in float64."""
    model, tokenizer, entry = ref.load_reference("tiny")
    state, _ = load_checkpoint(ref.checkpoint_name("tiny"))
    return {k: v.double() for k, v in state.items()}, entry.config["model"], tokenizer, model.double().eval()


def student_gpt(student):
    """A reference GPT around the student's attention class, with the tiny checkpoint's weights (float64)."""
    state, config, _, _ = tiny_reference()
    model = student.lib("vlcourse.grading.probes.build_module")(
        "vlcourse.gpt.GPT", "vlcourse.gpt.GPTConfig", config, state, dtype="float64",
        allow_missing_buffers=True, attention_cls=student.ref("CausalSelfAttention"),
    )
    model.eval()
    return model


@grade(cell="causal_self_attention", points=0.5, hint="Your module must work inside the GPT: parameters named c_attn and c_proj, any T up to block_size.")
def test_gpt_with_student_attention_gives_reference_logits(student):
    """a GPT built with the student's attention and the tiny checkpoint gives the reference logits"""
    _, _, tokenizer, reference = tiny_reference()
    model = student_gpt(student)
    for text in PROMPTS:
        idx = torch.tensor([tokenizer.encode(text)])
        logits, _ = model(idx)
        assert_close(logits, reference(idx)[0], what=f"logits for a {len(text)}-character prompt")


@grade(cell="causal_self_attention", points=0.5, hint="Greedy generation feeds contexts of every length up to block_size through your attention.")
def test_gpt_with_student_attention_generates_reference_text(student):
    """greedy generation from that GPT gives the reference text (contexts up to block_size and beyond)"""
    _, _, tokenizer, reference = tiny_reference()
    model = student_gpt(student)
    prompt = torch.tensor([tokenizer.encode(PROMPTS[0])])
    got = student.lib("vlcourse.gpt.generate")(model, prompt, 80, greedy=True)
    expected = ref.generate(reference, prompt, 80, greedy=True)
    assert type(got) is torch.Tensor and tuple(got.shape) == tuple(expected.shape)
    assert torch.equal(got, expected), "greedy generation differs from the reference model's"


# --- lm_loss (2 points) -----------------------------------------------------------------------------


def logits_and_idx(B, T, V, seed):
    return randn(B, T, V, seed=seed), torch.randint(V, (B, T), generator=torch.Generator().manual_seed(seed + 1))


@grade(cell="lm_loss", points=1, hint="Pair logits[:, t] with idx[:, t + 1]: drop the last prediction and the first token.")
def test_lm_loss_matches_reference(student):
    """lm_loss matches the reference (float64, B=3, T=9, V=13)"""
    logits, idx = logits_and_idx(3, 9, 13, seed=20)
    assert_close(student.lm_loss(logits, idx), ref.lm_loss(logits, idx))


@grade(cell="lm_loss", points=0.5, hint="Average over all B * (T - 1) predictions, for any batch size and length >= 2.")
def test_lm_loss_other_shapes(student):
    """matches the reference for other shapes, including the shortest sequences (T = 2)"""
    for B, T, V, seed in ((1, 2, 5, 21), (4, 3, 65, 22), (2, 17, 7, 23)):
        logits, idx = logits_and_idx(B, T, V, seed)
        assert_close(student.lm_loss(logits, idx), ref.lm_loss(logits, idx), what=f"loss for (B, T, V)={(B, T, V)}")


@grade(cell="lm_loss", points=0.5, hint="Use a differentiable cross-entropy on the logits (no argmax, no .item()).")
def test_lm_loss_gradients(student):
    """the gradient with respect to the logits matches the reference"""
    logits, idx = logits_and_idx(2, 6, 9, seed=24)
    value, grads = student.lib("vlcourse.grading.probes.value_and_grad")(student.ref("lm_loss"), [logits, idx], {}, [0])
    rl = logits.clone().requires_grad_()
    expected = ref.lm_loss(rl, idx)
    expected.backward()
    assert_close(value, expected.detach())
    assert grads[0] is not None, "no gradient reached the logits"
    assert_close(grads[0], rl.grad, "gradient")


# --- sampling (2 points) ----------------------------------------------------------------------------


@grade(cell="sampling", points=1, hint="Divide the logits by the temperature before the softmax; top-k keeps exactly the k largest logits of each row.")
def test_next_token_distribution(student):
    """next_token_distribution matches the reference for several temperatures and top-k values"""
    logits = randn(4, 17, seed=30) * 3
    for temperature, top_k in ((1.0, None), (0.5, None), (2.0, None), (1.0, 1), (0.7, 5), (1.3, 16)):
        assert_close(
            student.next_token_distribution(logits, temperature, top_k),
            ref.next_token_distribution(logits, temperature, top_k),
            what=f"distribution at temperature {temperature}, top_k {top_k}",
        )


@grade(cell="sampling", points=0.5, hint="temperature == 0 means greedy: return the argmax of each row, shape (B, 1).")
def test_sample_next_greedy(student):
    """temperature 0 returns the argmax of each row, as (B, 1) int64"""
    logits = randn(6, 20, seed=31)
    assert_close(student.sample_next(logits, 0.0), ref.sample_next(logits, 0.0), what="greedy choice")


@grade(cell="sampling", points=0.5, hint="Draw with torch.multinomial(probs, num_samples=1, generator=generator).")
def test_sample_next_seeded_draws(student):
    """with the same seeded generator, the draws equal the reference's (temperature and top-k)"""
    logits = randn(8, 12, seed=32) * 2
    for seed, temperature, top_k in ((0, 1.0, None), (1, 0.8, 3), (2, 1.5, 6)):
        generator = student.lib("torch.Generator")()
        generator.manual_seed(seed)
        got = student.sample_next(logits, temperature, top_k, generator)
        expected = ref.sample_next(logits, temperature, top_k, torch.Generator().manual_seed(seed))
        assert_close(got, expected, what=f"draws at temperature {temperature}, top_k {top_k}")
