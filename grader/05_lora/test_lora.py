"""Hidden tests of assignment 05 (LoRA). Run by `vlcourse grade`, never shipped to students.

Every expected value is computed on this (trusted) side with the reference in vlcourse.lora; the
student's code only ever runs in its own process, reached through the ``student`` fixture. Adapter
weights are handed to both sides (B is zero at initialisation, which would hide most mistakes).
"""

import copy
import functools
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import vlcourse.lora as ref
from vlcourse.checkpoints import load_checkpoint
from vlcourse.gpt import GPT, GPTConfig, load_reference
from vlcourse.gpt.train import estimate_loss
from vlcourse.grading.suite.tolerances import TOLERANCES, assert_close

grade = pytest.mark.grade
SMALL = {"vocab_size": 11, "block_size": 8, "n_layer": 2, "n_head": 2, "n_embd": 12}
PROBES = "vlcourse.lora.probes."
LORA_KEYS = ("lora_A.weight", "lora_B.weight")


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- LoRALinear (4 points) --------------------------------------------------------------------------

# (in_features, out_features, r, alpha, bias): square and not, r = 1 and r > 1, alpha above and below r.
LAYER_CASES = [(7, 5, 3, 6.0, True), (8, 8, 4, 2.0, True), (6, 10, 1, 1.0, False), (12, 4, 8, 16.0, True)]


def layer_weights(in_f, out_f, r, bias, seed):
    """Base weight and bias, and adapter A and B (B non-zero, as after training)."""
    W, b = randn(out_f, in_f, seed=seed), randn(out_f, seed=seed + 1) if bias else None
    return W, b, randn(r, in_f, seed=seed + 2), randn(out_f, r, seed=seed + 3)


def reference_layer(W, b, A, B, r, alpha, dropout=0.0):
    base = nn.Linear(W.shape[1], W.shape[0], bias=b is not None, dtype=W.dtype)
    layer = ref.LoRALinear(base, r, alpha, dropout)
    with torch.no_grad():
        base.weight.copy_(W)
        if b is not None:
            base.bias.copy_(b)
        layer.lora_A.weight.copy_(A)
        layer.lora_B.weight.copy_(B)
    return layer.eval()


def layer_state(W, b, A, B) -> dict:
    state = {"base_layer.weight": W, "lora_A.weight": A, "lora_B.weight": B}
    if b is not None:
        state["base_layer.bias"] = b
    return state


def student_layer(student, W, b, r, alpha, dropout=0.0, A=None, B=None):
    """The student's LoRALinear around a Linear holding W and b (float64 when W is), adapter A and B loaded."""
    layer = student.lib(PROBES + "build_lora_linear")(student.ref("LoRALinear"), W, b, r, alpha, dropout)
    if A is not None:
        student.lib("vlcourse.grading.suite.probes.load_state")(layer, layer_state(W, b, A, B))
    layer.eval()
    return layer


@grade(cell="lora_linear", points=0.5, hint="lora_B starts at zero, so at first the layer's output is exactly base(x); keep base as self.base_layer.")
def test_initial_output_equals_base(student):
    """freshly built, the layer's output equals the base layer's (float64, 2-D and 3-D inputs) and B is zero"""
    for i, (in_f, out_f, r, alpha, bias) in enumerate(LAYER_CASES):
        W, b, _, _ = layer_weights(in_f, out_f, r, bias, seed=10 * i)
        layer = student_layer(student, W, b, r, alpha)
        for shape in ((4, in_f), (2, 3, in_f)):
            x = randn(*shape, seed=i + 100)
            assert_close(layer(x), F.linear(x, W, b), what=f"initial output, layer {in_f}->{out_f}, r={r}, input {shape}")
        state = student.lib(PROBES + "state_of")(layer)
        B = state.get("lora_B.weight")
        assert type(B) is torch.Tensor and tuple(B.shape) == (out_f, r), "lora_B.weight should be (out_features, r)"
        assert torch.equal(B, torch.zeros_like(B)), "lora_B must be initialised to zero"
        assert torch.equal(state.get("base_layer.weight"), W), "base_layer.weight must be the base layer's weight, unchanged"


@grade(cell="lora_linear", points=0.25, hint="Initialise lora_A with nn.init.kaiming_uniform_(weight, a=math.sqrt(5)): uniform in ±1/sqrt(in_features), never zero.")
def test_a_is_kaiming_uniform(student):
    """lora_A is (r, in_features), uniform in ±1/sqrt(in_features): 8192 draws stay inside, reach both ends and have its mean and spread"""
    in_f, r = 256, 32  # a large fan-in and many draws: another gain or bound is measurable, whatever the draws
    W, b, _, _ = layer_weights(in_f, 8, r, True, seed=5)
    A = student.lib(PROBES + "state_of")(student_layer(student, W, b, r, 2.0 * r)).get("lora_A.weight")
    assert type(A) is torch.Tensor and tuple(A.shape) == (r, in_f), "lora_A.weight should be (r, in_features)"
    A, bound = A.double(), 1 / in_f ** 0.5
    outside = "lora_A is outside ±1/sqrt(in_features): not Kaiming-uniform with a=sqrt(5)"
    assert A.abs().max() <= bound * (1 + 1e-6), outside
    # 8192 uniform draws all below 0.99 of the bound at one end: probability 0.995^8192 < 1e-17
    assert A.max() > 0.99 * bound and A.min() < -0.99 * bound, "lora_A does not fill ±1/sqrt(in_features): another gain (a) or bound?"
    assert abs(A.mean().item()) < 0.05 * bound, "lora_A is not centred on zero"
    assert abs(A.std().item() / (bound / 3 ** 0.5) - 1) < 0.03, "lora_A's spread is not that of a uniform draw in ±1/sqrt(in_features)"


@grade(cell="lora_linear", points=0.75, hint="base(x) + lora_B(lora_A(dropout(x))) * alpha / r: scale by alpha / r, not alpha; A first, then B.")
def test_forward_with_given_adapter(student):
    """with given A and B the output equals the reference's (float64; several sizes, ranks and alphas, with and without bias, 2-D and 3-D)"""
    for i, (in_f, out_f, r, alpha, bias) in enumerate(LAYER_CASES):
        W, b, A, B = layer_weights(in_f, out_f, r, bias, seed=20 + 10 * i)
        layer = student_layer(student, W, b, r, alpha, A=A, B=B)
        reference = reference_layer(W, b, A, B, r, alpha)
        for shape in ((5, in_f), (2, 4, in_f)):
            x = randn(*shape, seed=200 + i)
            assert_close(layer(x), reference(x), what=f"output, layer {in_f}->{out_f}, r={r}, alpha={alpha}, input {shape}")


@grade(cell="lora_linear", points=0.5, hint="Keep base itself as self.base_layer (no copy) and freeze base.weight and base.bias (requires_grad=False); lora_A and lora_B are Linear layers without bias; no other parameters.")
def test_only_the_adapter_trains(student):
    """base_layer is the given layer itself, frozen; the parameters are exactly base_layer.weight/bias, lora_A.weight, lora_B.weight; only A and B require gradients; after backward only they have gradients, equal to the reference's"""
    given = student.lib("torch.nn.Linear")(6, 4)  # a float32 layer that lives in the runner
    wrapped = student.LoRALinear(given, 2, 4.0)
    assert student.lib("operator.is_")(student.lib("builtins.getattr")(wrapped, "base_layer"), given), \
        "self.base_layer must be the layer passed in (not a copy)"
    assert student.lib(PROBES + "trainable_names")(given) == [], "the layer passed in must be frozen itself (requires_grad=False)"
    in_f, out_f, r, alpha, bias = LAYER_CASES[0]
    W, b, A, B = layer_weights(in_f, out_f, r, bias, seed=40)
    layer = student_layer(student, W, b, r, alpha, A=A, B=B)
    state = student.lib(PROBES + "state_of")(layer)
    assert sorted(state) == ["base_layer.bias", "base_layer.weight", "lora_A.weight", "lora_B.weight"], f"the layer holds {sorted(state)}"
    assert student.lib(PROBES + "trainable_names")(layer) == ["lora_A.weight", "lora_B.weight"], "only lora_A.weight and lora_B.weight may require gradients"
    x, weight = randn(3, 2, in_f, seed=41), randn(3, 2, out_f, seed=42)
    out, grads = student.lib(PROBES + "grads_after_backward")(layer, [x], weight)
    reference = reference_layer(W, b, A, B, r, alpha)
    expected = reference(x)
    (expected * weight).sum().backward()
    assert_close(out, expected.detach())
    assert grads.get("base_layer.weight") is None and grads.get("base_layer.bias") is None, "the frozen base layer received a gradient"
    for name, param in (("lora_A.weight", reference.lora_A.weight), ("lora_B.weight", reference.lora_B.weight)):
        assert grads.get(name) is not None, f"no gradient reached {name}"
        assert_close(grads[name], param.grad, "gradient", what=f"gradient of {name}")


@grade(cell="lora_linear", points=0.75, hint="merge(): base_layer.weight += (alpha / r) * lora_B.weight @ lora_A.weight, once; forward then skips the adapter; unmerge() subtracts it again.")
def test_merge_and_unmerge(student):
    """merge() adds (alpha / r) B A to W and leaves the output unchanged; a second merge() does nothing; unmerge() restores W (float64) and the output"""
    for i, (in_f, out_f, r, alpha, bias) in enumerate(LAYER_CASES[:3]):
        W, b, A, B = layer_weights(in_f, out_f, r, bias, seed=60 + 10 * i)
        layer = student_layer(student, W, b, r, alpha, A=A, B=B)
        x = randn(4, in_f, seed=300 + i)
        seen = student.lib(PROBES + "merge_sequence")(layer, x)
        expected_out = reference_layer(W, b, A, B, r, alpha)(x).detach()
        merged_w = W + (alpha / r) * B @ A  # (out, r) @ (r, in)
        what = f"layer {in_f}->{out_f}, r={r}, alpha={alpha}"
        assert type(seen) is dict, "merge_sequence could not drive merge() and unmerge()"
        assert_close(seen["start_out"], expected_out, what=f"output before merging ({what})")
        assert_close(seen["merged_w"], merged_w, what=f"base_layer.weight after merge() ({what})")
        assert_close(seen["merged_out"], expected_out, what=f"output after merge() ({what})")
        assert_close(seen["twice_w"], merged_w, what=f"base_layer.weight after a second merge() ({what})")
        assert_close(seen["twice_out"], expected_out, what=f"output after a second merge() ({what})")
        assert_close(seen["unmerged_w"], W, what=f"base_layer.weight after unmerge() ({what})")
        assert_close(seen["unmerged_out"], expected_out, what=f"output after unmerge() ({what})")
        assert_close(seen["again_w"], W, what=f"base_layer.weight after a second unmerge() ({what})")


@grade(cell="lora_linear", points=0.5, hint="merged starts False, merge() sets it True, unmerge() False again; update the weight inside torch.no_grad() so that merging with gradients on (right after training) records nothing and the base stays frozen.")
def test_merge_with_gradients_on_keeps_state(student):
    """scaling is alpha / r and merged False; merge() called with gradients on (as after training) sets merged True, adds (alpha / r) B A, keeps the base frozen and the output; unmerge() sets merged False and restores W"""
    in_f, out_f, r, alpha, bias = LAYER_CASES[3]
    W, b, A, B = layer_weights(in_f, out_f, r, bias, seed=70)
    layer = student_layer(student, W, b, r, alpha, A=A, B=B)
    attribute = student.lib("builtins.getattr")
    scaling = attribute(layer, "scaling")
    assert type(scaling) in (int, float) and abs(scaling - alpha / r) < 1e-12, f"self.scaling should be alpha / r = {alpha / r}, got {scaling!r}"
    assert attribute(layer, "merged") is False, "a new layer should have self.merged = False"
    x = randn(4, in_f, seed=71)
    expected = reference_layer(W, b, A, B, r, alpha)(x).detach()
    trainable, state_of = student.lib(PROBES + "trainable_names"), student.lib(PROBES + "state_of")
    for step, merged_flag, weight in (("merge", True, W + (alpha / r) * B @ A), ("unmerge", False, W)):
        getattr(layer, step)()  # in the runner, gradients on
        assert attribute(layer, "merged") is merged_flag, f"after {step}() self.merged should be {merged_flag}"
        assert trainable(layer) == ["lora_A.weight", "lora_B.weight"], f"after {step}() with gradients on, the trainable parameters are {trainable(layer)}"
        assert_close(state_of(layer)["base_layer.weight"], weight, what=f"base_layer.weight after {step}() with gradients on")
        assert_close(student.lib(PROBES + "first_output")(layer, [x]), expected, what=f"output after {step}() with gradients on")


def check_adapter_dropout(student, layer, W, b, A, B, r, alpha, p, what):
    """``layer`` (A and B loaded) in training mode with dropout ``p``, on inputs with one non-zero entry per row.

    Dropout on the adapter's input keeps or drops that entry, so each row's output is either ``base(x)`` or
    ``base(x) + (alpha / r) B A x / (1 - p)``; both must occur, about ``1 - p`` of rows kept. Which rows is
    the random draws' business and is not checked. The input must be unchanged after the call.
    """
    n, in_f = 200, W.shape[1]
    x = torch.zeros(n, in_f, dtype=W.dtype)
    x[torch.arange(n), torch.arange(n) % in_f] = 1 + randn(n, seed=17, dtype=W.dtype).abs()
    layer.train()
    out, args, _ = student.lib("vlcourse.grading.suite.probes.call_and_inputs")(layer, [x])
    layer.eval()
    assert type(out) is torch.Tensor and tuple(out.shape) == (n, W.shape[0]), f"{what}: output of shape {getattr(out, 'shape', out)}"
    assert type(args[0]) is torch.Tensor and torch.equal(args[0], x), f"{what}: x was modified in place in training mode"
    dropped = F.linear(x, W, b)
    kept = dropped + (alpha / r) * x @ A.T @ B.T / (1 - p)
    rtol, atol = TOLERANCES["float64"]
    near = lambda target: ((out - target).abs() <= atol + rtol * target.abs()).all(dim=1)  # noqa: E731
    is_kept, is_dropped = near(kept), near(dropped)
    assert bool((is_kept | is_dropped).all()), (
        f"{what}: in training mode with dropout={p} some outputs are neither base(x) nor "
        "base(x) + scaling * B A x / (1 - p): dropout must act on the adapter's input x, as nn.Dropout does")
    share = is_kept.double().mean().item()
    # 200 rows, each kept with probability 1 - p = 0.75: outside [0.55, 0.925] has probability below 1e-8
    assert 0.55 <= share <= 0.925, f"{what}: {share:.0%} of the inputs kept with dropout={p}, expected about {1 - p:.0%}"


@grade(cell="lora_linear", points=0.5, hint="Dropout goes on the adapter's input only (lora_A(dropout(x))), is on in training mode and off in eval mode: use nn.Dropout(dropout), not in place.")
def test_dropout_only_on_the_adapter_and_off_in_eval(student):
    """with dropout=0.5 in eval mode the output is the reference's (deterministic); in training mode the frozen path is never dropped; with dropout=0.25 in training mode each input entry of the adapter is dropped or scaled by 1 / (1 - p), and x is unchanged"""
    in_f, out_f, r, alpha, bias = LAYER_CASES[0]
    W, b, A, B = layer_weights(in_f, out_f, r, bias, seed=80)
    layer = student_layer(student, W, b, r, alpha, dropout=0.5, A=A, B=B)
    x = randn(6, in_f, seed=81)
    expected = reference_layer(W, b, A, B, r, alpha)(x)
    for _ in range(2):
        assert_close(layer(x), expected, what="output in eval mode with dropout=0.5")
    fresh = student_layer(student, W, b, r, alpha, dropout=0.5)  # B = 0: only the frozen path counts
    fresh.train()
    for _ in range(2):
        assert_close(fresh(x), F.linear(x, W, b), what="output in training mode with B = 0 (the frozen path)")
    layer = student_layer(student, W, b, r, alpha, dropout=0.25, A=A, B=B)
    check_adapter_dropout(student, layer, W, b, A, B, r, alpha, 0.25, "LoRALinear(base, r, alpha, dropout=0.25)")


@grade(cell="lora_linear", points=0.25, hint="Do not modify x in place; build lora_A and lora_B with the base layer's dtype, so float32 layers stay float32 and float64 ones float64.")
def test_float32_and_input_unchanged(student):
    """a float32 base layer gives float32 adapters and outputs equal to the reference's, a float64 one float64; x is unchanged after the call"""
    in_f, out_f, r, alpha, bias = LAYER_CASES[1]
    W, b, A, B = layer_weights(in_f, out_f, r, bias, seed=90)
    for dtype, kind in ((torch.float32, "float32"), (torch.float64, "float64")):
        Wd, bd, Ad, Bd = (t.to(dtype) for t in (W, b, A, B))
        layer = student_layer(student, Wd, bd, r, alpha, A=Ad, B=Bd)
        x = randn(5, in_f, seed=91, dtype=dtype)
        value, args, _ = student.lib("vlcourse.grading.suite.probes.call_and_inputs")(layer, [x])
        assert type(value) is torch.Tensor and value.dtype == dtype, f"a {kind} layer should give {kind} outputs"
        expected = reference_layer(Wd.double(), bd.double(), Ad.double(), Bd.double(), r, alpha)(x.double())
        assert_close(value, expected.detach(), kind)
        assert type(args[0]) is torch.Tensor and torch.equal(args[0], x), "x was modified in place"
        fresh = student.lib(PROBES + "state_of")(student_layer(student, Wd, bd, r, alpha))
        for name in LORA_KEYS:
            assert getattr(fresh.get(name), "dtype", None) == dtype, f"{name} should be {kind}, like the base layer"


# --- inject_lora (2 points) -------------------------------------------------------------------------


@functools.cache
def tiny_reference():
    """The tiny GPT checkpoint (float64 state and config), the reference adapter and the reference adapted model."""
    _, tokenizer, entry = load_reference("tiny")
    state, _ = load_checkpoint("gpt_shakespeare_tiny")
    state = {k: v.double() for k, v in state.items()}
    adapter, _ = load_checkpoint(ref.train.REFERENCE_ADAPTER)
    adapter = {k: v.double() for k, v in adapter.items()}
    config = ref.train.REFERENCE_CONFIG
    model = GPT(GPTConfig(**entry.config["model"])).double()
    model.load_state_dict(state)
    model = ref.inject_lora(model, config.target_modules, config.r, config.alpha).eval()
    with torch.no_grad():
        params = dict(model.named_parameters())
        for k, v in adapter.items():
            params[k].copy_(v)
    return state, entry.config["model"], tokenizer, adapter, model


def student_gpt(student, config, state, targets, r, alpha, dropout=0.0):
    return student.lib(PROBES + "injected_gpt")(student.ref("inject_lora"), config, state, list(targets), r, alpha, dropout)


@grade(cell="inject_lora", points=0.5, hint="Replace every nn.Linear whose name ends with a target (both attn.c_attn and attn.c_proj in every block) by your LoRALinear around it, in its parent module.")
def test_reference_adapter_in_student_gpt_gives_reference_logits(student):
    """the course's trained adapter loaded into the tiny GPT injected with the student's inject_lora gives the reference logits (float64)"""
    state, config, tokenizer, adapter, reference = tiny_reference()
    lora = ref.train.REFERENCE_CONFIG
    model = student_gpt(student, config, state, lora.target_modules, lora.r, lora.alpha)
    full_state = {**{k: v for k, v in reference.state_dict().items() if k != "lm_head.weight"}}
    student.lib("vlcourse.grading.suite.probes.load_state")(model, full_state, True)
    for text in ("ROMEO:\n", "The expression is evaluated"):
        idx = torch.tensor([tokenizer.encode(text)])
        assert_close(student.lib(PROBES + "first_output")(model, [idx]), reference(idx)[0],
                     what=f"logits for {text!r}")


# Twelve blocks, so that h.1 and h.11 both exist: "1.attn.c_attn" is h.1's, never h.11's.
DEEP = {"vocab_size": 5, "block_size": 4, "n_layer": 12, "n_head": 1, "n_embd": 4}


def reference_small_gpt(targets, r=2, alpha=4.0, seed=0, config=SMALL):
    torch.manual_seed(seed)
    base = GPT(GPTConfig(**config)).double()
    state = {k: v for k, v in base.state_dict().items() if k != "lm_head.weight"}
    return state, ref.inject_lora(copy.deepcopy(base), targets, r, alpha)


# (config, targets): attention, MLP, a suffix matching both, one full name, two targets naming one layer
# (wrapped once), a dotted suffix at a block number ("1.attn.c_attn" is h.1's, not h.11's).
TARGET_CASES = [(SMALL, ref.GPT_ATTENTION), (SMALL, ("c_fc",)), (SMALL, ("c_proj",)), (SMALL, ("h.1.attn.c_attn",)),
                (SMALL, ("attn.c_proj", "mlp.c_fc")), (SMALL, ("c_proj", "attn.c_proj")),
                (SMALL, ("h.0.attn.c_attn", "c_attn")), (DEEP, ("1.attn.c_attn",))]


@grade(cell="inject_lora", points=0.5, hint="A target matches a module whose full name equals it or ends with '.' + target: 'attn.c_proj' is not 'mlp.c_proj', 'c_proj' is both, '1.attn.c_attn' is h.1's and not h.11's; a layer two targets match is wrapped once.")
def test_exactly_the_targeted_layers(student):
    """the trainable parameters and parameter names after injection are the reference's for several target lists (attention, MLP, a suffix matching both, one full name, two targets for one layer, a suffix at a block number)"""
    for config, targets in TARGET_CASES:
        state, reference = reference_small_gpt(targets, config=config)
        model = student_gpt(student, config, state, targets, 2, 4.0)
        got = student.lib(PROBES + "trainable_names")(model)
        want = sorted(n for n, p in reference.named_parameters() if p.requires_grad)
        assert got == want, f"with target_modules={list(targets)} the trainable parameters are {got}, expected {want}"
        names = set(student.lib(PROBES + "state_of")(model))
        assert names == set(reference.state_dict()), f"with target_modules={list(targets)} the model's parameter names differ from the reference's"


@grade(cell="inject_lora", points=0.5, hint="Freeze every parameter of the model (model.requires_grad_(False)) before adding the adapters; embeddings and LayerNorms must not train.")
def test_after_backward_only_adapters_have_gradients(student):
    """in an injected GPT with trained-looking adapters, a backward pass reaches only lora_A and lora_B, with the reference's gradients"""
    targets = ref.GPT_ATTENTION
    state, reference = reference_small_gpt(targets, seed=3)
    with torch.no_grad():
        for name, param in reference.named_parameters():
            if name.endswith(LORA_KEYS):
                param.copy_(randn(*param.shape, seed=len(name)) * 0.3)
    full_state = {k: v for k, v in reference.state_dict().items() if k != "lm_head.weight"}
    model = student_gpt(student, SMALL, state, targets, 2, 4.0)
    student.lib("vlcourse.grading.suite.probes.load_state")(model, full_state, True)
    idx = torch.randint(SMALL["vocab_size"], (3, 8), generator=torch.Generator().manual_seed(4))
    weight = randn(3, 8, SMALL["vocab_size"], seed=5)
    out, grads = student.lib(PROBES + "grads_after_backward")(model, [idx], weight)
    reference.eval()
    expected = reference(idx)[0]
    (expected * weight).sum().backward()
    assert_close(out, expected.detach(), what="logits")
    with_grad = sorted(n for n, g in grads.items() if g is not None)
    want = sorted(n for n, p in reference.named_parameters() if p.grad is not None)
    assert with_grad == want, f"gradients reached {with_grad}; only the adapters' {want} should get one"
    params = dict(reference.named_parameters())
    for name in want:
        assert_close(grads[name], params[name].grad, "gradient", what=f"gradient of {name}")


@grade(cell="inject_lora", points=0.25, hint="If any target (the first, a later one, or one that is only the end of a name such as 'attn' or 'fc') matches no nn.Linear, raise ValueError naming it; change the model in place and return it.")
def test_unknown_target_raises_and_model_is_returned(student):
    """a target that matches no linear layer raises ValueError, wherever it stands in the list ('attn' and 'fc' end names only without the dot); otherwise inject_lora returns the very model it changed"""
    state, reference = reference_small_gpt(ref.GPT_ATTENTION)
    for targets in (["attn.q_proj"], ["attn.c_attn", "ln_f"], ["c_att"], ["attn"], ["mlp.c_gate", "attn.c_attn"],
                    ["mlp.c_fc", "attn.c_proj", "fc"]):
        got = student.lib(PROBES + "error_name")(student.libref(PROBES + "injected_gpt"),
                                                  [student.ref("inject_lora"), SMALL, state, targets, 2, 4.0])
        assert got == "ValueError", f"target_modules={targets} should raise ValueError, got {got or 'no error'}"
    model = student_gpt(student, SMALL, state, ref.GPT_ATTENTION, 2, 4.0)  # raises if inject_lora returned no module
    want = sorted(n for n, p in reference.named_parameters() if p.requires_grad)
    assert student.lib(PROBES + "trainable_names")(model) == want
    given = student.lib(PROBES + "gpt_for_counting")(SMALL, [])  # a float32 GPT that lives in the runner
    returned = student.inject_lora(given, list(ref.GPT_ATTENTION), 2, 4.0)
    assert student.lib("operator.is_")(returned, given), "inject_lora should change the model in place and return it (not a copy)"
    assert student.lib(PROBES + "trainable_names")(given) == want, "the model passed in was not changed in place"


@grade(cell="inject_lora", points=0.25, hint="Pass dropout on: LoRALinear(layer, r, alpha, dropout).")
def test_dropout_reaches_the_adapters(student):
    """inject_lora(..., dropout=0.25): an injected layer in training mode drops its adapter's input entries with probability 0.25 (scaled by 1 / 0.75)"""
    state, _ = reference_small_gpt(ref.GPT_ATTENTION)
    model = student_gpt(student, SMALL, state, ref.GPT_ATTENTION, 2, 4.0, dropout=0.25)
    layer = model.get_submodule("h.1.attn.c_proj")
    n = SMALL["n_embd"]
    W, b, A, B = layer_weights(n, n, 2, True, seed=95)
    student.lib("vlcourse.grading.suite.probes.load_state")(layer, layer_state(W, b, A, B))
    check_adapter_dropout(student, layer, W, b, A, B, 2, 4.0, 0.25, "h.1.attn.c_proj after inject_lora(..., dropout=0.25)")


# --- count_parameters (1 point) ---------------------------------------------------------------------


@grade(cell="count_parameters", points=0.5, hint="Sum p.numel() over model.parameters() (each tensor once: lm_head.weight is wte.weight), those with requires_grad and all of them; only read the model, change nothing.")
def test_counts_on_gpts(student):
    """(trainable, total) equals the reference's on GPTs with various frozen parts, tied weights counted once; which parameters train is unchanged"""
    for prefixes in ([], ["wte"], ["h.0.attn", "ln_f"], ["h", "wpe", "wte", "ln_f"]):
        model = student.lib(PROBES + "gpt_for_counting")(SMALL, prefixes)
        local = GPT(GPTConfig(**SMALL))
        for name, param in local.named_parameters():
            param.requires_grad_(name.startswith(tuple(prefixes)))
        got = student.count_parameters(model)
        assert type(got) in (tuple, list) and len(got) == 2, "count_parameters should return (trainable, total)"
        assert all(type(v) is int for v in got), "the counts should be Python ints"
        assert tuple(got) == ref.count_parameters(local), f"with {prefixes or 'nothing'} trainable: got {tuple(got)}, expected {ref.count_parameters(local)}"
        trainable = sorted(n for n, p in local.named_parameters() if p.requires_grad)
        assert student.lib(PROBES + "trainable_names")(model) == trainable, "count_parameters changed which parameters require gradients"


@grade(cell="count_parameters", points=0.5, hint="A layer used twice is one set of parameters; frozen parameters count in the total only.")
def test_counts_shared_and_frozen_layers(student):
    """a module that uses one layer twice and has a frozen layer: shared parameters once, frozen ones in the total only"""
    got = student.count_parameters(student.lib(PROBES + "shared_layers_module")())
    shared = nn.Linear(5, 5)
    frozen = nn.Linear(5, 3)
    frozen.requires_grad_(False)
    expected = ref.count_parameters(nn.Sequential(shared, nn.ReLU(), shared, frozen, nn.Linear(3, 2, bias=False)))
    assert expected == (36, 54)
    assert type(got) in (tuple, list) and tuple(got) == expected, f"got {got}, expected {expected}"


# --- adapted_model (2 points) -----------------------------------------------------------------------

TARGET_MARGIN = 0.1  # full marks within this fraction of the base-to-reference gap above the reference
MAX_RANK = 64  # what the grader will load


@functools.cache
def grading_losses():
    """(the base model's, the reference adapter's) loss on held-out Python-reference text, grading batches."""
    _, _, tokenizer, _, _ = tiny_reference()
    model, _, _ = load_reference("tiny")
    _, val_ids, _ = ref.adaptation_data(tokenizer)
    adapted = ref.inject_lora(copy.deepcopy(model), ref.train.REFERENCE_CONFIG.target_modules,
                              ref.train.REFERENCE_CONFIG.r, ref.train.REFERENCE_CONFIG.alpha)
    ref.train.load_reference_adapter(adapted)
    loss = lambda m: estimate_loss(m, val_ids, 64, 32, 30, seed=11)  # noqa: E731
    return val_ids, loss(model), loss(adapted.eval())


def load_submitted_adapter(path):
    """The course's tiny GPT with the submitted adapter (safetensors: no code runs), after checking its config."""
    try:
        _, config, _ = ref.read_adapter(path)
    except Exception as exc:  # noqa: BLE001 - any malformed file is the submission's problem
        raise AssertionError(f"adapter.safetensors is not an adapter saved with save_adapter ({type(exc).__name__}: {exc})") from None
    assert config.r <= MAX_RANK, f"rank {config.r} above {MAX_RANK}"
    model, _, _ = load_reference("tiny")
    try:
        model = ref.inject_lora(model, config.target_modules, config.r, config.alpha)
        ref.load_adapter(model, path)
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"the adapter does not fit the course's GPT ({type(exc).__name__}: {exc})") from None
    return model.eval()


@functools.lru_cache(maxsize=64)
def adapter_loss(content: bytes) -> float:
    """The held-out loss of the course's GPT with an adapter file's bytes (the same file is measured once per
    grading process: a class's identical hand-ins, and every variant of ``vlcourse verify``)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "adapter.safetensors"
        path.write_bytes(content)
        model = load_submitted_adapter(path)
    val_ids, _, _ = grading_losses()
    return estimate_loss(model, val_ids, 64, 32, 30, seed=11)


@grade(cell="adapted_model", points=2, hint="Train your adapters with adapt(...) for the full budget and hand in adapter.safetensors (keep r=4, alpha=8 on the attention projections).")
def test_submitted_adapter_lowers_the_loss(student, submitted, credit):
    """the submitted adapter on the course's GPT predicts held-out Python-reference text much better than the base model"""
    submitted.path("adapter.safetensors")  # a clear message when the file was not handed in
    _, base_loss, reference_loss = grading_losses()
    loss = adapter_loss((submitted.folder / "adapter.safetensors").read_bytes())
    assert loss == loss and loss < base_loss, f"loss {loss:.4f} is not below the base model's {base_loss:.4f}"
    target = reference_loss + TARGET_MARGIN * (base_loss - reference_loss)
    credit.award((base_loss - loss) / (base_loss - target))
