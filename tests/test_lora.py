"""Tests of vlcourse.lora: the LoRA layer against its formula written out (float64) and gradchecks,
merging, injection into the GPT, the parameter count, adapter files, and the same model adapted by
peft (outputs, merged weights, parameter names and counts). Fast by default."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from vlcourse.gpt import GPT, GPTConfig
from vlcourse.lora import (
    GPT_ATTENTION,
    LoRAConfig,
    LoRALinear,
    adapter_state_dict,
    count_parameters,
    inject_lora,
    load_adapter,
    lora_layers,
    merge_and_unload,
    merge_lora,
    read_adapter,
    resolve_targets,
    restrict_to_vocabulary,
    save_adapter,
    unmerge_lora,
)

SMALL = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=12)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randomize_adapters(model: nn.Module, seed: int = 0) -> None:
    """Give every B a random value (at initialisation it is zero and the adapter does nothing)."""
    g = gen(seed)
    with torch.no_grad():
        for layer in lora_layers(model).values():
            layer.lora_B.weight.copy_(torch.randn(layer.lora_B.weight.shape, generator=g, dtype=layer.lora_B.weight.dtype))


def layer64(in_f=7, out_f=5, r=3, alpha=6.0, dropout=0.0, seed=0, bias=True) -> LoRALinear:
    torch.manual_seed(seed)
    layer = LoRALinear(nn.Linear(in_f, out_f, bias=bias).double(), r, alpha, dropout)
    randomize_adapters(layer, seed + 1)
    return layer


def small_gpt(seed: int = 0, dtype=torch.float64) -> GPT:
    torch.manual_seed(seed)
    return GPT(SMALL).to(dtype).eval()


def tokens(B=3, T=8, seed=0) -> torch.Tensor:
    return torch.randint(SMALL.vocab_size, (B, T), generator=gen(seed))


# --- config ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("r", [0, -2, 1.5, True])
def test_config_rejects_bad_rank(r):
    with pytest.raises(ValueError, match="positive integer.*try r=4"):
        LoRAConfig(r=r)


@pytest.mark.parametrize("changes, message", [
    ({"alpha": 0}, "alpha must be a positive number"),
    ({"dropout": 1.0}, r"dropout is a probability in \[0, 1\)"),
    ({"target_modules": "attn.c_attn"}, r"write target_modules=\('attn.c_attn',\)"),
    ({"target_modules": ()}, "must name at least one layer"),
])
def test_config_rejects_bad_values_and_says_how_to_fix(changes, message):
    with pytest.raises(ValueError, match=message):
        LoRAConfig(**changes)


def test_unknown_target_names_the_layers_that_would_work():
    with pytest.raises(ValueError) as err:
        LoRAConfig(target_modules=("attn.q_proj",)).check_targets(small_gpt())
    assert "attn.q_proj" in str(err.value) and "'attn.c_attn'" in str(err.value) and "'mlp.c_fc'" in str(err.value)
    with pytest.raises(ValueError):
        resolve_targets(small_gpt(), ["ln_f"])  # a LayerNorm is not linear


def test_targets_match_whole_dotted_parts():
    found = resolve_targets(small_gpt(), ("attn.c_proj", "c_fc"))
    assert found["attn.c_proj"] == ["h.0.attn.c_proj", "h.1.attn.c_proj"]  # not the MLP's c_proj
    assert found["c_fc"] == ["h.0.mlp.c_fc", "h.1.mlp.c_fc"]
    assert LoRAConfig().to_dict() == {"r": 4, "alpha": 8.0, "dropout": 0.0, "target_modules": list(GPT_ATTENTION)}


# --- the layer ------------------------------------------------------------------------------------


def test_initialisation_b_zero_a_kaiming_and_output_equals_base():
    torch.manual_seed(0)
    base = nn.Linear(64, 32).double()
    layer = LoRALinear(base, r=8, alpha=16)
    assert layer.base_layer is base and layer.scaling == 2.0 and not layer.merged
    assert torch.equal(layer.lora_B.weight, torch.zeros(32, 8, dtype=torch.float64))
    A = layer.lora_A.weight
    assert A.shape == (8, 64) and A.dtype == torch.float64
    bound = 1 / math.sqrt(64)  # Kaiming uniform with a = sqrt(5): gain sqrt(1/3), bound gain * sqrt(3 / fan_in)
    assert A.abs().max() <= bound and A.abs().max() > 0.9 * bound  # 512 draws fill the interval
    assert abs(A.std().item() - bound / math.sqrt(3)) < 0.15 * bound
    x = torch.randn(4, 5, 64, dtype=torch.float64)
    assert torch.equal(layer(x), base(x))


def test_forward_is_the_formula_written_out():
    layer = layer64()
    x = torch.randn(2, 4, 7, dtype=torch.float64, generator=gen(3))
    W, b = layer.base_layer.weight, layer.base_layer.bias
    A, B = layer.lora_A.weight, layer.lora_B.weight
    expected = torch.empty(2, 4, 5, dtype=torch.float64)
    for i in range(2):
        for t in range(4):
            expected[i, t] = W @ x[i, t] + b + (6.0 / 3) * (B @ (A @ x[i, t]))
    torch.testing.assert_close(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_base_is_frozen_and_only_adapters_train():
    layer = layer64()
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["lora_A.weight", "lora_B.weight"]
    assert set(layer.state_dict()) == {"base_layer.weight", "base_layer.bias", "lora_A.weight", "lora_B.weight"}
    layer(torch.randn(3, 7, dtype=torch.float64)).sum().backward()
    assert layer.base_layer.weight.grad is None and layer.base_layer.bias.grad is None
    assert layer.lora_A.weight.grad is not None and layer.lora_B.weight.grad is not None


def test_gradcheck_float64():
    layer = layer64(in_f=4, out_f=3, r=2)
    x = torch.randn(2, 4, dtype=torch.float64, requires_grad=True, generator=gen(4))
    A, B = layer.lora_A.weight, layer.lora_B.weight

    def f(x, A_, B_):
        return layer.base_layer(x) + x @ A_.T @ B_.T * layer.scaling

    assert torch.autograd.gradcheck(f, (x, A.detach().clone().requires_grad_(), B.detach().clone().requires_grad_()))
    out = layer(x)
    grads = torch.autograd.grad(out.pow(2).sum(), [x, A, B])
    expected = torch.autograd.grad(f(x, A, B).pow(2).sum(), [x, A, B])
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_merge_equals_unmerged_and_unmerge_restores_w():
    layer = layer64()
    W0 = layer.base_layer.weight.clone()
    x = torch.randn(6, 7, dtype=torch.float64, generator=gen(5))
    before = layer(x)
    layer.merge()
    assert layer.merged
    torch.testing.assert_close(layer.base_layer.weight, W0 + layer.delta_weight(), rtol=0, atol=0)
    torch.testing.assert_close(layer(x), before, rtol=1e-12, atol=1e-12)
    layer.merge()  # a second merge changes nothing
    torch.testing.assert_close(layer(x), before, rtol=1e-12, atol=1e-12)
    layer.unmerge()
    torch.testing.assert_close(layer.base_layer.weight, W0, rtol=0, atol=1e-14)
    layer.unmerge()
    torch.testing.assert_close(layer.base_layer.weight, W0, rtol=0, atol=1e-14)
    torch.testing.assert_close(layer(x), before, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("r", [1, 2, 4, 8])
def test_update_has_rank_at_most_r(r):
    layer = layer64(in_f=24, out_f=16, r=r, seed=r)
    W0 = layer.base_layer.weight.clone()
    layer.merge()
    delta = layer.base_layer.weight - W0
    assert torch.linalg.matrix_rank(delta).item() == r  # generic A and B: exactly r
    torch.testing.assert_close(delta, (layer.lora_B.weight @ layer.lora_A.weight) * layer.scaling)


def test_scaling_is_alpha_over_r():
    a, b = layer64(r=3, alpha=6.0, seed=1), layer64(r=3, alpha=12.0, seed=1)
    x = torch.randn(4, 7, dtype=torch.float64)
    base = a.base_layer(x)
    torch.testing.assert_close(b(x) - base, 2 * (a(x) - base))
    assert a.scaling == 2.0 and b.scaling == 4.0


def test_dropout_only_on_the_adapter_path_and_off_in_eval():
    layer = layer64(dropout=0.5)
    x = torch.randn(50, 7, dtype=torch.float64, generator=gen(6))
    layer.eval()
    expected = layer.base_layer(x) + layer.lora_B(layer.lora_A(x)) * layer.scaling
    torch.testing.assert_close(layer(x), expected)
    layer.train()
    torch.manual_seed(0)
    out = layer(x)
    assert not torch.allclose(out, expected)
    torch.manual_seed(0)
    dropped = nn.functional.dropout(x, 0.5, training=True)
    torch.testing.assert_close(out, layer.base_layer(x) + layer.lora_B(layer.lora_A(dropped)) * layer.scaling)


def test_input_not_modified_and_float32_works():
    layer = LoRALinear(nn.Linear(7, 5), 2, 4.0)
    x = torch.randn(3, 7)
    x0 = x.clone()
    assert layer(x).dtype == torch.float32 and torch.equal(x, x0)


def test_rejects_non_linear_and_bad_rank():
    with pytest.raises(TypeError):
        LoRALinear(nn.Conv1d(3, 3, 1), 2, 1.0)
    with pytest.raises(ValueError):
        LoRALinear(nn.Linear(3, 3), 0, 1.0)


# --- injection, counts --------------------------------------------------------------------------------


def injected(r=2, alpha=4.0, seed=0, targets=GPT_ATTENTION) -> tuple[GPT, GPT]:
    base = small_gpt(seed)
    torch.manual_seed(seed + 100)
    model = inject_lora(copy.deepcopy(base), targets, r, alpha)
    return base, model


def test_injection_replaces_exactly_the_attention_projections():
    base, model = injected()
    assert sorted(lora_layers(model)) == ["h.0.attn.c_attn", "h.0.attn.c_proj", "h.1.attn.c_attn", "h.1.attn.c_proj"]
    assert isinstance(model.h[0].mlp.c_proj, nn.Linear)
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == sorted(f"h.{i}.attn.{m}.lora_{x}.weight" for i in range(2) for m in ("c_attn", "c_proj") for x in "AB")
    idx = tokens()
    torch.testing.assert_close(model(idx)[0], base(idx)[0], rtol=0, atol=0)  # B = 0: the base model exactly
    with pytest.raises(ValueError, match="match no nn.Linear"):
        inject_lora(small_gpt(), ("attn.query",), 2, 4.0)


def test_after_backward_only_adapters_have_gradients():
    _, model = injected()
    randomize_adapters(model)
    model.train()
    idx = tokens()
    model(idx, idx)[1].backward()
    with_grad = sorted(n for n, p in model.named_parameters() if p.grad is not None)
    assert with_grad == sorted(n for n, p in model.named_parameters() if p.requires_grad) and len(with_grad) == 8


def test_count_parameters_counts_tied_weights_once():
    base, model = injected(r=3)
    trainable, total = count_parameters(model)
    C = SMALL.n_embd
    per_layer = 3 * (C + 3 * C) + 3 * (C + C)  # c_attn: r (in + out), c_proj: r (in + out)
    assert trainable == SMALL.n_layer * per_layer
    assert total == base.num_params(non_embedding=False) + trainable
    assert count_parameters(base) == (total - trainable, total - trainable)


def test_merged_model_equals_unmerged_and_unmerge_restores_every_weight():
    _, model = injected()
    randomize_adapters(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    idx = tokens(seed=1)
    before = model(idx)[0]
    merge_lora(model)
    torch.testing.assert_close(model(idx)[0], before, rtol=1e-10, atol=1e-10)
    unmerge_lora(model)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=1e-14)
    plain = merge_and_unload(model)
    assert not lora_layers(plain) and not any(isinstance(m, LoRALinear) for m in plain.modules())
    assert [type(m) for m in plain.modules()] == [type(m) for m in small_gpt().modules()]
    torch.testing.assert_close(plain(idx)[0], before, rtol=1e-10, atol=1e-10)
    assert not any(layer.merged for layer in lora_layers(model).values())  # the original stays unmerged


def test_adapter_file_roundtrip_is_small_and_swappable(tmp_path):
    base, model = injected(r=2)
    randomize_adapters(model, seed=1)
    config = LoRAConfig(r=2, alpha=4.0)
    size = save_adapter(model, tmp_path / "a.safetensors", config)
    assert size < 5_000
    state, read_config, base_name = read_adapter(tmp_path / "a.safetensors")
    assert read_config == config and base_name == "gpt_shakespeare_tiny"
    assert set(state) == set(adapter_state_dict(model)) and len(state) == 8
    other = copy.deepcopy(model)
    randomize_adapters(other, seed=2)
    save_adapter(other, tmp_path / "b.safetensors", config)
    idx = tokens(seed=2)
    want_a, want_b = model(idx)[0], other(idx)[0]
    _, fresh = injected(r=2)
    fresh.load_state_dict(base.state_dict(), strict=False)
    merge_lora(fresh)  # loading unmerges first
    for name, want in (("a", want_a), ("b", want_b), ("a", want_a)):
        assert load_adapter(fresh, tmp_path / f"{name}.safetensors") == config
        torch.testing.assert_close(fresh(idx)[0], want, rtol=1e-12, atol=1e-12)
    _, wrong_rank = injected(r=3)
    with pytest.raises(ValueError, match="r=2"):
        load_adapter(wrong_rank, tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="no LoRA layers"):
        save_adapter(small_gpt(), tmp_path / "c.safetensors", config)


def test_restrict_to_vocabulary():
    assert restrict_to_vocabulary('say "hi" (x_1)', " 'ahisy") == "say 'hi' "


# --- against peft ------------------------------------------------------------------------------------


def peft_twin(r=4, alpha=8.0, seed=0):
    """Our injected GPT and peft's LoRA model of the same base, with our adapter weights copied into peft's."""
    peft = pytest.importorskip("peft")
    base, ours = injected(r=r, alpha=alpha, seed=seed)
    randomize_adapters(ours, seed=seed + 1)
    config = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=list(GPT_ATTENTION), bias="none")
    theirs = peft.get_peft_model(copy.deepcopy(base), config)
    with torch.no_grad():
        params = dict(theirs.named_parameters())
        for key, value in adapter_state_dict(ours).items():
            name = "base_model.model." + key.replace(".weight", ".default.weight")
            params[name].copy_(value)
    return peft, base, ours, theirs.eval()


def test_against_peft_names_counts_and_initialisation():
    peft = pytest.importorskip("peft")
    base, ours = injected(r=4, alpha=8.0)
    theirs = peft.get_peft_model(copy.deepcopy(base), peft.LoraConfig(r=4, lora_alpha=8.0, target_modules=list(GPT_ATTENTION)))
    saved = peft.get_peft_model_state_dict(theirs)
    assert sorted(saved) == sorted("base_model.model." + k for k in adapter_state_dict(ours))
    assert tuple(theirs.get_nb_trainable_parameters()) == count_parameters(ours)
    for key, value in adapter_state_dict(ours).items():
        theirs_value = saved["base_model.model." + key]
        assert theirs_value.shape == value.shape
        if "lora_B" in key:
            assert torch.equal(theirs_value, value)  # both zero
        else:  # both Kaiming-uniform with the same bound
            bound = 1 / math.sqrt(value.shape[1])
            assert value.abs().max() <= bound and theirs_value.abs().max() <= bound


def test_against_peft_outputs_gradients_and_merged_weights():
    peft, base, ours, theirs = peft_twin()
    assert torch.autograd.gradcheck is not None and theirs.peft_config["default"].r == 4
    idx = tokens(seed=3)
    torch.testing.assert_close(ours(idx)[0], theirs(idx)[0], rtol=1e-12, atol=1e-12)
    ours.train(), theirs.train()
    ours(idx, idx)[1].backward()
    theirs(idx, idx)[1].backward()
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        if param.requires_grad:
            twin = theirs_params["base_model.model." + name.replace(".weight", ".default.weight")]
            torch.testing.assert_close(param.grad, twin.grad, rtol=1e-10, atol=1e-12)
    merged_ours = merge_and_unload(ours)
    merged_theirs = theirs.merge_and_unload()
    theirs_state = merged_theirs.state_dict()
    for key, value in merged_ours.state_dict().items():
        torch.testing.assert_close(value, theirs_state[key], rtol=1e-12, atol=1e-12, msg=key)
    torch.testing.assert_close(merged_ours.eval()(idx)[0], merged_theirs.eval()(idx)[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("r, alpha", [(1, 1.0), (8, 16.0), (16, 4.0)])
def test_against_peft_other_ranks(r, alpha):
    _, _, ours, theirs = peft_twin(r=r, alpha=alpha, seed=r)
    idx = tokens(seed=r)
    torch.testing.assert_close(ours(idx)[0], theirs(idx)[0], rtol=1e-12, atol=1e-12)


# --- the new texts and the shipped reference adapter -------------------------------------------------


def test_adaptation_texts_use_the_base_vocabulary():
    from vlcourse.gpt import load_reference
    from vlcourse.lora import adaptation_data, captions_data

    _, tokenizer, _ = load_reference("tiny")
    train_ids, val_ids, text = adaptation_data(tokenizer)
    assert set(text) <= set(tokenizer.chars) and len(text) > 300_000
    assert len(train_ids) + len(val_ids) == len(text) and train_ids.dtype == torch.long
    assert "the expression" in text.lower()
    cap_train, cap_val, captions = captions_data(tokenizer, num_samples=200)
    assert set(captions) <= set(tokenizer.chars) and captions.count("\n") == 200
    assert len(cap_train) + len(cap_val) == len(captions)


def test_reference_adapter_loads_and_lowers_the_loss(tmp_path):
    from vlcourse.checkpoints import checkpoint_path
    from vlcourse.gpt import load_reference
    from vlcourse.gpt.train import estimate_loss
    from vlcourse.lora import adaptation_data, export_reference_adapter, load_reference_adapter
    from vlcourse.lora.train import REFERENCE_ADAPTER, REFERENCE_CONFIG

    assert checkpoint_path(REFERENCE_ADAPTER).stat().st_size < 30_000
    base, tokenizer, _ = load_reference("tiny")
    _, val_ids, _ = adaptation_data(tokenizer)
    adapted = inject_lora(copy.deepcopy(base), REFERENCE_CONFIG.target_modules, REFERENCE_CONFIG.r, REFERENCE_CONFIG.alpha)
    load_reference_adapter(adapted)
    losses = [estimate_loss(m.eval(), val_ids, 64, 16, 4, seed=3) for m in (base, adapted)]
    assert losses[1] < losses[0] - 0.4, losses  # 2.75 -> 2.11 over 20 batches when it was trained
    exported = export_reference_adapter(tmp_path / "adapter.safetensors")
    other = inject_lora(copy.deepcopy(base), REFERENCE_CONFIG.target_modules, REFERENCE_CONFIG.r, REFERENCE_CONFIG.alpha)
    assert load_adapter(other, exported) == REFERENCE_CONFIG
    idx = torch.tensor([tokenizer.encode("The expression is")])
    torch.testing.assert_close(other(idx)[0], adapted(idx)[0])
