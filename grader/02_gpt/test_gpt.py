"""Hidden tests of assignment 02 (GPT). Run by `vlcourse grade`, never shipped to students.

Every expected value is computed on this (trusted) side with the reference in vlcourse.gpt; the
student's code only ever runs in its own process, reached through the ``student`` fixture.
"""

import functools

import pytest
import torch

import vlcourse.gpt as ref
from vlcourse.checkpoints import load_checkpoint
from vlcourse.grading.suite.contract import assert_unchanged, call_and_inputs
from vlcourse.grading.suite.tolerances import assert_close

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


@grade(cell="causal_mask", points=0.25, hint="Return a tensor of dtype torch.bool (True = may attend), e.g. torch.ones(T, T, dtype=torch.bool).tril().")
def test_causal_mask_is_bool(student):
    """causal_mask returns a bool (T, T) tensor with the causal pattern"""
    for T in (1, 4):
        got = student.causal_mask(T)
        assert type(got) is torch.Tensor and got.dtype == torch.bool, "causal_mask should return a bool tensor"
        assert tuple(got.shape) == (T, T) and torch.equal(got, ref.causal_mask(T)), f"causal_mask({T}) has the wrong shape or pattern"


# --- masked_attention (2 points) --------------------------------------------------------------------


@grade(cell="masked_attention", points=0.5, hint="softmax(q kᵀ / sqrt(hs)) over the keys, masked entries -inf before the softmax.")
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


@grade(cell="masked_attention", points=0.5, hint="Keep everything differentiable: masked_fill and softmax, no in-place edits of q or k.")
def test_masked_attention_gradients(student):
    """gradients with respect to q, k and v match the reference (float64)"""
    q, k, v = qkv(2, 2, 5, 4, seed=4)
    mask = ref.causal_mask(5)
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(
        student.ref("masked_attention"), [q, k, v, mask], {}, [0, 1, 2]
    )
    rq, rk, rv = (t.clone().requires_grad_() for t in (q, k, v))
    expected = ref.masked_attention(rq, rk, rv, mask)
    expected.sum().backward()
    assert_close(value, expected.detach())
    for got, want, name in zip(grads, (rq.grad, rk.grad, rv.grad), "qkv"):
        assert got is not None, f"no gradient reached {name}"
        assert_close(got, want, "gradient", what=f"gradient of {name}")


@grade(cell="masked_attention", points=0.25, hint="A score of exactly 0 is an ordinary score: mask with masked_fill(~mask, -inf), never by looking for zeros; T = 1 must work too.")
def test_masked_attention_zero_scores_and_one_position(student):
    """queries whose scores are exactly 0 weigh their allowed keys equally; T = 1 works"""
    q, k, v = qkv(2, 2, 6, 4, seed=40)
    q[:, :, ::2] = 0  # every score of these queries is exactly 0
    gen = torch.Generator().manual_seed(41)
    mask = torch.rand(6, 6, generator=gen) < 0.5
    mask[torch.arange(6), torch.randint(6, (6,), generator=gen)] = True
    for m, what in ((ref.causal_mask(6), "causal mask"), (mask, "arbitrary mask")):
        assert_close(student.masked_attention(q, k, v, m), ref.masked_attention(q, k, v, m), what=f"output with a {what}")
    q1, k1, v1 = qkv(3, 2, 1, 5, seed=42)
    assert_close(student.masked_attention(q1, k1, v1, ref.causal_mask(1)), v1, what="output for T = 1")


@grade(cell="masked_attention", points=0.25, hint="Do not modify q, k, v or the mask in place (q /= ... changes the caller's tensors); float32 inputs must work.")
def test_masked_attention_float32_leaves_inputs(student):
    """float32 inputs give the reference output, and q, k, v and the mask are unchanged after the call"""
    q, k, v = (t.float() for t in qkv(2, 3, 6, 8, seed=43))
    mask = ref.causal_mask(6)
    value, args, _ = call_and_inputs(student, "masked_attention", [q, k, v, mask])
    assert_close(value, ref.masked_attention(q.double(), k.double(), v.double(), mask), "float32")
    assert_unchanged(args, [q, k, v, mask], ("q", "k", "v", "mask"))


# --- CausalSelfAttention (3 points) -----------------------------------------------------------------


def small_config(**changes) -> dict:
    """SMALL with some fields changed (bias, dropout)."""
    return {**SMALL, **changes}


@functools.cache
def attention_state(seed: int = 5, bias: bool = True) -> dict:
    """Random reference weights for a small attention module (float64)."""
    torch.manual_seed(seed)
    module = ref.CausalSelfAttention(ref.GPTConfig(**small_config(bias=bias)))
    return {k: v.double() for k, v in module.state_dict().items()}


def reference_attention(state: dict, config: dict = SMALL) -> torch.nn.Module:
    module = ref.CausalSelfAttention(ref.GPTConfig(**config)).double().eval()
    module.load_state_dict(state)
    return module


def student_attention(student, state: dict, config: dict = SMALL):
    """The student's CausalSelfAttention built in the runner, in float64, with ``state`` loaded."""
    return student.lib("vlcourse.grading.suite.probes.build_module")(
        student.ref("CausalSelfAttention"), "vlcourse.gpt.GPTConfig", config, state, dtype="float64",
        allow_missing_buffers=True,
    )


@grade(cell="causal_self_attention", points=0.75, hint="Position t may see positions <= t and nothing else: changing position t+1 must leave outputs <= t unchanged and change every output from t+1 on. Check the mask's orientation, its diagonal and where it is applied.")
def test_attention_is_causal(student):
    """perturbing the input at position t+1 leaves every output at positions <= t unchanged and changes every later one"""
    module = student_attention(student, attention_state())
    x = randn(2, 8, SMALL["n_embd"], seed=6)
    y = module(x)
    assert type(y) is torch.Tensor and tuple(y.shape) == tuple(x.shape), "forward should map (B, T, C) to (B, T, C)"
    for t in range(7):
        changed = x.clone()
        changed[:, t + 1] += randn(2, SMALL["n_embd"], seed=100 + t)
        new = module(changed)
        assert type(new) is torch.Tensor and tuple(new.shape) == tuple(x.shape) and torch.isfinite(new).all()
        assert torch.allclose(new[:, : t + 1], y[:, : t + 1], rtol=0, atol=1e-12), f"the output at position {t} saw the future"
        moved = (new[:, t + 1 :] - y[:, t + 1 :]).abs().amax(dim=-1)  # (B, T - t - 1)
        assert (moved > 1e-6).all(), f"an output after position {t} ignored a change at position {t + 1}"


@grade(cell="causal_self_attention", points=0.5, hint="Split c_attn's output into q, k, v in that order; heads: (B, T, C) -> (B, T, nh, hs) -> (B, nh, T, hs); any T up to block_size.")
def test_attention_with_reference_weights(student):
    """the reference's weights loaded into the student's module give the reference outputs (float64)"""
    state = attention_state()
    module = student_attention(student, state)
    for T, seed in ((8, 7), (3, 8), (1, 9)):
        x = randn(2, T, SMALL["n_embd"], seed=seed)
        assert_close(module(x), reference_attention(state)(x), what=f"output for T={T}")


def state_names(module) -> set[str]:
    state = module.state_dict()
    assert isinstance(state, dict), "state_dict() should return a dict of tensors"
    return set(state)


@grade(cell="causal_self_attention", points=0.25, hint="Pass bias=config.bias to both Linear layers, and keep the state_dict to c_attn and c_proj (a mask buffer needs persistent=False).")
def test_attention_without_bias(student):
    """with bias=False the module has no biases and reference weights give the reference outputs; no other state"""
    names = {bias: state_names(student_attention(student, attention_state(bias=bias), small_config(bias=bias)))
             for bias in (True, False)}
    assert names[True] == {"c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias"}, f"state_dict holds {sorted(names[True])}"
    assert names[False] == {"c_attn.weight", "c_proj.weight"}, f"with bias=False, state_dict holds {sorted(names[False])}"
    state = attention_state(bias=False)
    module = student_attention(student, state, small_config(bias=False))
    x = randn(2, 5, SMALL["n_embd"], seed=13)
    assert_close(module(x), reference_attention(state, small_config(bias=False))(x))


@grade(cell="causal_self_attention", points=0.25, hint="If you add dropout, it must be off in eval mode: use nn.Dropout or F.dropout(..., training=self.training).")
def test_attention_dropout_off_in_eval(student):
    """with dropout > 0 in the config, the module in eval mode is deterministic and gives the reference outputs"""
    state = attention_state()
    module = student_attention(student, state, small_config(dropout=0.5))
    module.eval()
    x = randn(2, 6, SMALL["n_embd"], seed=14)
    expected = reference_attention(state)(x)
    for _ in range(2):
        assert_close(module(x), expected, what="output in eval mode")


@grade(cell="causal_self_attention", points=0.5, hint="Put the heads back side by side with transpose(1, 2) before the reshape to (B, T, C).")
def test_attention_gradients(student):
    """gradients with respect to the input and to every parameter match the reference (float64)"""
    state = attention_state(seed=10)
    module = student_attention(student, state)
    x, weight = randn(2, 6, SMALL["n_embd"], seed=11), randn(2, 6, SMALL["n_embd"], seed=12)
    value, arg_grads, param_grads = student.lib("vlcourse.grading.suite.probes.module_value_and_grads")(module, [x], weight)
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
    model = student.lib("vlcourse.grading.suite.probes.build_module")(
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


@grade(cell="causal_self_attention", points=0.25, hint="Greedy generation feeds contexts of every length up to block_size through your attention.")
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


@grade(cell="lm_loss", points=0.75, hint="Pair logits[:, t] with idx[:, t + 1]: drop the last prediction and the first token.")
def test_lm_loss_matches_reference(student):
    """lm_loss matches the reference (float64, B=3, T=9, V=13)"""
    logits, idx = logits_and_idx(3, 9, 13, seed=20)
    assert_close(student.lm_loss(logits, idx), ref.lm_loss(logits, idx))


@grade(cell="lm_loss", points=0.5, hint="Average over all B * (T - 1) predictions, for any batch size and length >= 2.")
def test_lm_loss_other_shapes(student):
    """matches the reference for other shapes, including the shortest sequences (T = 2)"""
    for B, T, V, seed in ((1, 2, 5, 21), (4, 3, 65, 22), (2, 17, 7, 23), (3, 2, 2, 25)):
        logits, idx = logits_and_idx(B, T, V, seed)
        assert_close(student.lm_loss(logits, idx), ref.lm_loss(logits, idx), what=f"loss for (B, T, V)={(B, T, V)}")


@grade(cell="lm_loss", points=0.5, hint="Use a differentiable cross-entropy on the logits (no argmax, no .item()).")
def test_lm_loss_gradients(student):
    """the gradient with respect to the logits matches the reference"""
    logits, idx = logits_and_idx(2, 6, 9, seed=24)
    value, grads = student.lib("vlcourse.grading.suite.probes.value_and_grad")(student.ref("lm_loss"), [logits, idx], {}, [0])
    rl = logits.clone().requires_grad_()
    expected = ref.lm_loss(rl, idx)
    expected.backward()
    assert_close(value, expected.detach())
    assert grads[0] is not None, "no gradient reached the logits"
    assert_close(grads[0], rl.grad, "gradient")


@grade(cell="lm_loss", points=0.25, hint="Do not modify logits or idx in place (e.g. logits -= logits.max(...)); float32 logits must work.")
def test_lm_loss_float32_leaves_inputs(student):
    """float32 logits give the reference loss, and logits and idx are unchanged after the call"""
    logits, idx = logits_and_idx(2, 7, 10, seed=26)
    logits = logits.float() * 5
    value, args, _ = call_and_inputs(student, "lm_loss", [logits, idx])
    assert_close(value, ref.lm_loss(logits.double(), idx), "float32")
    assert_unchanged(args, [logits, idx], ("logits", "idx"))


# --- sampling (2 points) ----------------------------------------------------------------------------


@grade(cell="sampling", points=0.75, hint="Divide the logits by the temperature before the softmax; top-k keeps exactly the k largest logits of each row; keep the defaults temperature=1.0, top_k=None.")
def test_next_token_distribution(student):
    """next_token_distribution matches the reference for several temperatures and top-k values, and with its defaults"""
    logits = randn(4, 17, seed=30) * 3
    for temperature, top_k in ((1.0, None), (0.5, None), (2.0, None), (10.0, None), (1.0, 1), (0.7, 5), (1.3, 16)):
        assert_close(
            student.next_token_distribution(logits, temperature, top_k),
            ref.next_token_distribution(logits, temperature, top_k),
            what=f"distribution at temperature {temperature}, top_k {top_k}",
        )
    assert_close(student.next_token_distribution(logits), ref.next_token_distribution(logits), what="defaults")
    assert_close(student.next_token_distribution(logits, top_k=3), ref.next_token_distribution(logits, 1.0, 3), what="top_k only")


def assert_top_k_distribution(got, logits: torch.Tensor, temperature: float, top_k: int | None, what: str) -> None:
    """``got`` is softmax(logits / temperature) restricted to the top_k largest logits of each row.

    Ties with the k-th largest value may stay or go (the notebook allows both): the support must hold
    every logit above the k-th value, nothing below it and at least k tokens; on it, the softmax.
    """
    assert type(got) is torch.Tensor and tuple(got.shape) == tuple(logits.shape), f"{what}: should be a {tuple(logits.shape)} tensor"
    assert got.is_floating_point() and torch.isfinite(got).all(), f"{what}: should be finite probabilities"
    got = got.double()
    k = logits.size(-1) if top_k is None else min(top_k, logits.size(-1))
    kth = logits.topk(k, dim=-1).values[:, -1:]  # (B, 1)
    support = got > 0
    assert support[logits > kth].all() and not support[logits < kth].any(), f"{what}: keeps the wrong tokens"
    assert (support.sum(dim=-1) >= k).all(), f"{what}: keeps fewer than top_k tokens"
    expected = torch.softmax((logits.double() / temperature).masked_fill(~support, float("-inf")), dim=-1)
    assert_close(got, expected, what=what)


@grade(cell="sampling", points=0.25, hint="top_k may be as large as the vocabulary or larger (keep everything; torch.topk needs k <= V); a logit of exactly 0 is an ordinary logit; low temperatures must not overflow (use torch.softmax).")
def test_next_token_distribution_edges(student):
    """top_k >= vocabulary size, exact zero logits, ties at the k-th value and a very low temperature"""
    logits = randn(3, 6, seed=33) * 2
    for top_k in (6, 7, 100):
        assert_close(student.next_token_distribution(logits, 0.8, top_k), ref.next_token_distribution(logits, 0.8, None),
                     what=f"distribution with top_k {top_k} >= 6 tokens")
    zeros = torch.tensor([[2.0, 0.0, -1.0, -0.5, -2.0, -3.0], [0.0] * 6, [1.0, 0.0, 1.0, -1.0, 0.0, 0.0]], dtype=torch.float64)
    for temperature, top_k in ((1.0, 2), (0.5, 2), (1.0, None), (1.0, 3)):
        assert_top_k_distribution(student.next_token_distribution(zeros, temperature, top_k), zeros, temperature, top_k,
                                  f"zeros and ties, temperature {temperature}, top_k {top_k}")
    cold = randn(2, 9, seed=34, dtype=torch.float32) * 5
    for top_k in (None, 3):
        assert_close(student.next_token_distribution(cold, 0.02, top_k), ref.next_token_distribution(cold.double(), 0.02, top_k),
                     "float32", what=f"float32 distribution at temperature 0.02, top_k {top_k}")


@grade(cell="sampling", points=0.25, hint="Do not modify the logits in place (logits[...] = -inf changes the caller's tensor when no division made a copy): work on a copy.")
def test_next_token_distribution_leaves_logits(student):
    """the distribution is right and the logits are unchanged after the call"""
    logits = randn(3, 10, seed=35) * 2
    for temperature, top_k in ((1.0, 3), (0.5, 4), (2.0, None)):
        value, args, _ = call_and_inputs(student, "next_token_distribution", [logits, temperature, top_k])
        assert_close(value, ref.next_token_distribution(logits, temperature, top_k), what=f"temperature {temperature}, top_k {top_k}")
        assert_unchanged(args[:1], [logits], ("logits",))


@grade(cell="sampling", points=0.25, hint="temperature == 0 means greedy: return the argmax of each row as int64 of shape (B, 1) (keepdim=True), whatever top_k is.")
def test_sample_next_greedy(student):
    """temperature 0 returns the argmax of each row, as (B, 1) int64, with or without top_k"""
    logits = randn(6, 20, seed=31)
    expected = ref.sample_next(logits, 0.0)
    for temperature, top_k in ((0.0, None), (0, None), (0.0, 3)):
        got = student.sample_next(logits, temperature, top_k)
        assert type(got) is torch.Tensor and got.dtype == torch.int64, "sample_next should return int64 token ids"
        assert_close(got, expected, what=f"greedy choice (temperature {temperature!r}, top_k {top_k})")


@grade(cell="sampling", points=0.5, hint="Draw with torch.multinomial(probs, num_samples=1, generator=generator); keep the defaults temperature=1.0, top_k=None.")
def test_sample_next_seeded_draws(student):
    """with the same seeded generator, the draws equal the reference's (temperature and top-k, and the defaults)"""
    logits = randn(8, 12, seed=32) * 2
    for seed, temperature, top_k in ((0, 1.0, None), (1, 0.8, 3), (2, 1.5, 6), (3, None, None)):
        generator = student.lib("torch.Generator")()
        generator.manual_seed(seed)
        if temperature is None:  # the defaults: temperature 1.0, no top-k
            got = student.sample_next(logits, generator=generator)
            expected = ref.sample_next(logits, 1.0, None, torch.Generator().manual_seed(seed))
        else:
            got = student.sample_next(logits, temperature, top_k, generator)
            expected = ref.sample_next(logits, temperature, top_k, torch.Generator().manual_seed(seed))
        assert type(got) is torch.Tensor and got.dtype == torch.int64, "sample_next should return int64 token ids"
        assert_close(got, expected, what=f"draws at temperature {temperature}, top_k {top_k}")
