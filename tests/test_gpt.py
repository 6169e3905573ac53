"""Tests of vlcourse.gpt: the model against slow obviously-correct versions, generation, training,
checkpoints. Fast by default; the full tiny-preset training is marked slow."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from vlcourse import gpt
from vlcourse.checkpoints import checkpoint_path, read_manifest
from vlcourse.data.text import Corpus, fallback_corpus, get_batch
from vlcourse.gpt import (
    GPT,
    PRESETS,
    CausalSelfAttention,
    GPTConfig,
    causal_mask,
    generate,
    lm_loss,
    masked_attention,
    perplexity,
)
from vlcourse.training import TrainConfig

SHARED_SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared/data/tinyshakespeare/input.txt"
SMALL = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These models are tiny: intra-op threads only add synchronisation (and on a busy 2-core machine
    they slow the tests several-fold), so run this module on one thread and restore the setting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def small_model(dtype=torch.float32, **overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**SMALL, **overrides})).to(dtype)


def confident_model(**overrides) -> GPT:
    """A random model whose next-token distributions are far from uniform (well separated logits)."""
    model = small_model(**overrides)
    with torch.no_grad():
        model.wte.weight.mul_(40.0)
    return model.eval()


# ------------------------------------------------------------------------------------------ config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(n_embd=30, n_head=4), "not divisible by n_head"),
        (dict(attention="flash"), "attention must be one of"),
        (dict(dropout=1.0), "dropout is a probability"),
        (dict(n_layer=0), "n_layer must be a positive integer"),
    ],
)
def test_config_rejects_bad_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**{**SMALL, **overrides})


def test_presets_are_valid_and_the_gpu_preset_is_nanogpts_baby_gpt():
    for preset in PRESETS.values():
        GPTConfig(**dataclasses.asdict(preset.model))  # re-validates
    baby = PRESETS["gpu"]
    assert (baby.model.n_layer, baby.model.n_head, baby.model.n_embd, baby.model.block_size) == (6, 6, 384, 256)
    assert baby.model.dropout == 0.2 and baby.device == "cuda"
    assert PRESETS["tiny"].device == "cpu"


# --------------------------------------------------------------------------------------- attention


def test_causal_mask_shape_dtype_triangle():
    mask = causal_mask(5)
    assert mask.shape == (5, 5) and mask.dtype == torch.bool
    for i in range(5):
        for j in range(5):
            assert bool(mask[i, j]) == (j <= i)


def loop_attention(q, k, v, mask):
    """Attention one query at a time, in float64, straight from the formula."""
    B, nh, T, hs = q.shape
    out = torch.zeros_like(q)
    for b in range(B):
        for h in range(nh):
            for i in range(T):
                allowed = [j for j in range(T) if mask[i, j]]
                scores = torch.stack([q[b, h, i] @ k[b, h, j] / math.sqrt(hs) for j in allowed])
                weights = torch.exp(scores - scores.max())
                weights = weights / weights.sum()
                out[b, h, i] = sum(w * v[b, h, j] for w, j in zip(weights, allowed))
    return out


@pytest.mark.parametrize("kind", ["causal", "random"])
def test_masked_attention_matches_a_loop(kind):
    gen = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 6, 4, generator=gen, dtype=torch.float64) for _ in range(3))
    if kind == "causal":
        mask = causal_mask(6)
    else:
        mask = torch.rand(6, 6, generator=gen) < 0.5
        mask[torch.arange(6), torch.randint(6, (6,), generator=gen)] = True  # every query sees a key
    torch.testing.assert_close(masked_attention(q, k, v, mask), loop_attention(q, k, v, mask))


def test_masked_attention_matches_sdpa():
    gen = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2, 4, 9, 8, generator=gen, dtype=torch.float64) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(masked_attention(q, k, v, causal_mask(9)), expected)


def test_explicit_and_sdpa_attention_agree_in_values_and_gradients():
    torch.manual_seed(3)
    config = GPTConfig(**{**SMALL, "n_embd": 24, "n_head": 3})
    sdpa = CausalSelfAttention(config).double()
    explicit = CausalSelfAttention(dataclasses.replace(config, attention="explicit")).double()
    explicit.load_state_dict(sdpa.state_dict())
    x1 = torch.randn(3, 7, 24, dtype=torch.float64, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    y1, y2 = sdpa(x1), explicit(x2)
    torch.testing.assert_close(y1, y2)
    weight = torch.randn_like(y1)
    (y1 * weight).sum().backward()
    (y2 * weight).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    for (name, p1), (_, p2) in zip(sdpa.named_parameters(), explicit.named_parameters()):
        torch.testing.assert_close(p1.grad, p2.grad, msg=name)


def test_attention_parameter_names_are_stable():
    names = set(small_model().state_dict())
    assert {"h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight", "h.1.mlp.c_fc.weight",
            "wte.weight", "wpe.weight", "ln_f.weight", "lm_head.weight"} <= names
    assert not any(name.endswith("mask") for name in names)  # the causal mask is not a parameter


# ------------------------------------------------------------------------------------------ model


@pytest.mark.parametrize("attention", ["sdpa", "explicit"])
def test_causality_future_tokens_do_not_change_past_logits(attention):
    model = small_model(dtype=torch.float64, attention=attention).eval()
    gen = torch.Generator().manual_seed(4)
    idx = torch.randint(11, (2, 8), generator=gen)
    logits, _ = model(idx)
    for t in range(7):
        changed = idx.clone()
        changed[:, t + 1] = (changed[:, t + 1] + 1) % 11  # perturb token t+1
        new_logits, _ = model(changed)
        torch.testing.assert_close(new_logits[:, : t + 1], logits[:, : t + 1], rtol=0, atol=1e-12)
        assert not torch.allclose(new_logits[:, t + 1:], logits[:, t + 1:])  # the future does see it


def test_output_shapes_and_context_limit():
    model = small_model()
    logits, loss = model(torch.zeros(3, 5, dtype=torch.long))
    assert logits.shape == (3, 5, 11) and loss is None
    with pytest.raises(ValueError, match="exceeds block_size"):
        model(torch.zeros(1, 9, dtype=torch.long))


def test_weight_tying():
    model = small_model()
    assert model.lm_head.weight is model.wte.weight
    counted = sum(p.numel() for p in model.parameters())
    untied = sum(p.numel() for n, p in model.named_parameters(remove_duplicate=False))
    assert untied - counted == 11 * 16
    state = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    other = small_model()
    with torch.no_grad():
        other.wte.weight.zero_()
    other.load_state_dict(state)  # strict: the tied matrix is filled from wte.weight
    assert other.lm_head.weight is other.wte.weight
    torch.testing.assert_close(other.lm_head.weight, model.wte.weight)


def loop_lm_loss(logits, idx):
    B, T, _ = logits.shape
    total = 0.0
    for b in range(B):
        for t in range(T - 1):
            total += -torch.log_softmax(logits[b, t], dim=-1)[idx[b, t + 1]]
    return total / (B * (T - 1))


def test_lm_loss_matches_a_loop():
    gen = torch.Generator().manual_seed(5)
    logits = torch.randn(3, 6, 11, generator=gen, dtype=torch.float64)
    idx = torch.randint(11, (3, 6), generator=gen)
    torch.testing.assert_close(lm_loss(logits, idx), loop_lm_loss(logits, idx))


def test_forward_loss_with_targets_is_the_shifted_loss():
    model = small_model(dtype=torch.float64)
    data = torch.randint(11, (200,), generator=torch.Generator().manual_seed(6))
    x, y = get_batch(data, 8, 4, torch.Generator().manual_seed(0))
    logits, loss = model(x, y)
    # the same pairs from a 9-token sequence: x = seq[:, :-1], y = seq[:, 1:]
    seq = torch.cat([x, y[:, -1:]], dim=1)  # (B, 9)
    expected = loop_lm_loss(torch.cat([logits, torch.zeros_like(logits[:, :1])], dim=1), seq)
    torch.testing.assert_close(loss, expected)


def test_perplexity():
    assert perplexity(0.0) == 1.0
    assert math.isclose(perplexity(torch.tensor(math.log(65.0))), 65.0, rel_tol=1e-6)


def test_untrained_loss_is_near_uniform():
    model = small_model()
    idx = torch.randint(11, (8, 8), generator=torch.Generator().manual_seed(7))
    loss = lm_loss(model(idx)[0], idx)
    assert abs(loss.item() - math.log(11)) < 0.1  # small init: close to uniform predictions


# ------------------------------------------------------------------------------------- generation


def test_greedy_generation_is_deterministic_and_takes_the_argmax():
    model = confident_model()
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    out = generate(model, prompt, max_new_tokens=12, greedy=True)  # longer than block_size: crops context
    assert out.shape == (2, 15) and torch.equal(out[:, :3], prompt)
    assert torch.equal(out, generate(model, prompt, max_new_tokens=12, greedy=True))
    for t in range(3, 15):
        context = out[:, max(0, t - 8):t]
        assert torch.equal(out[:, t], model(context)[0][:, -1].argmax(-1))


def test_top_k_restricts_the_support():
    model = confident_model()
    gen = torch.Generator().manual_seed(8)
    prompt = torch.zeros(16, 1, dtype=torch.long)
    out = generate(model, prompt, max_new_tokens=6, temperature=5.0, top_k=2, generator=gen)
    for t in range(1, 7):
        top2 = model(out[:, max(0, t - 8):t])[0][:, -1].topk(2).indices  # (B, 2)
        assert (out[:, t:t + 1] == top2).any(dim=1).all()
    wide = generate(model, prompt, max_new_tokens=6, temperature=5.0, generator=gen)
    assert len(wide[:, 1:].unique()) > 2  # without top_k the hot sampler does leave the top 2
    torch.testing.assert_close(
        generate(model, prompt, 6, top_k=1, generator=gen), generate(model, prompt, 6, greedy=True)
    )


def test_low_temperature_approaches_greedy():
    model = confident_model()
    prompt = torch.randint(11, (8, 2), generator=torch.Generator().manual_seed(9))
    greedy = generate(model, prompt, max_new_tokens=10, greedy=True)
    cold = generate(model, prompt, 10, temperature=1e-3, generator=torch.Generator().manual_seed(0))
    hot = generate(model, prompt, 10, temperature=3.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(cold, greedy)
    assert not torch.equal(hot, greedy)
    with pytest.raises(ValueError, match="greedy=True"):
        generate(model, prompt, 1, temperature=0.0)


def test_generation_is_reproducible_with_a_generator_and_restores_training_mode():
    model = small_model().train()
    prompt = torch.zeros(2, 1, dtype=torch.long)
    a = generate(model, prompt, 5, generator=torch.Generator().manual_seed(1))
    b = generate(model, prompt, 5, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and model.training


# --------------------------------------------------------------------------------------- training


def short_corpus() -> Corpus:
    text = fallback_corpus().text[:60_000]
    return Corpus(text=text, name="python-docs", is_fallback=True, note="test slice")


def test_gpu_preset_runs_a_few_steps_on_cpu():
    preset = PRESETS["gpu"]
    preset = dataclasses.replace(
        preset, device="cpu", batch_size=1, eval_iters=1,
        train=dataclasses.replace(preset.train, steps=2, warmup_steps=1, eval_every=2, progress=False),
    )
    result = gpt.train_preset(preset, corpus=short_corpus())
    assert result.model.config.n_layer == 6 and result.model.config.block_size == 256
    assert len(result.history.loss) == 2 and all(math.isfinite(x) for x in result.history.loss)
    assert {"train_loss", "val_loss", "seconds"} <= set(result.history.last_eval())


def test_training_lowers_the_loss_quickly():
    text = "the quick brown fox jumps over the lazy dog. " * 400
    preset = dataclasses.replace(
        PRESETS["tiny"], model=GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=32), batch_size=8,
        eval_iters=2, train=TrainConfig(steps=50, lr=1e-2, warmup_steps=5, eval_every=50, progress=False),
    )
    result = gpt.train_preset(preset, corpus=Corpus(text, "fox", False, "test"))
    start, end = result.history.loss[0], result.history.last_eval()["val_loss"]
    assert start > 0.9 * math.log(result.tokenizer.vocab_size)
    assert end < 0.3 * start, (start, end)  # a repeated sentence is nearly deterministic


def test_checkpoint_round_trip(tmp_path):
    preset = dataclasses.replace(
        PRESETS["tiny"], model=GPTConfig(block_size=16, n_layer=1, n_head=2, n_embd=16), batch_size=4,
        eval_iters=1, train=TrainConfig(steps=2, eval_every=2, progress=False),
    )
    result = gpt.train_preset(preset, corpus=short_corpus())
    entry = gpt.save_reference(result, "test", folder=tmp_path)
    assert entry.name == "gpt_shakespeare_test" and "val_loss" in entry.metrics
    assert entry.config["chars"] == result.tokenizer.chars
    model, tokenizer, loaded_entry = gpt.load_reference("test", folder=tmp_path)
    assert loaded_entry == entry and tokenizer.chars == result.tokenizer.chars
    idx = torch.tensor([tokenizer.encode("def f(x):")])
    result.model.eval()
    torch.testing.assert_close(model(idx)[0], result.model(idx)[0])
    assert model.lm_head.weight is model.wte.weight


def test_shipped_tiny_checkpoint():
    path = checkpoint_path("gpt_shakespeare_tiny")  # checks the manifest's sha256
    assert path.stat().st_size < 2 * 1024 * 1024
    model, tokenizer, entry = gpt.load_reference("tiny")
    assert tokenizer.vocab_size == 65 and entry.preset == "tiny"
    assert entry.metrics["val_loss"] < 0.5 * math.log(65), entry.metrics
    assert "python -m vlcourse.gpt --preset tiny" in entry.command
    if not SHARED_SHAKESPEARE.exists():
        pytest.skip("tiny Shakespeare is not available to re-measure the validation loss")
    text = SHARED_SHAKESPEARE.read_text(encoding="utf-8")
    val = torch.tensor(tokenizer.encode(text[int(0.9 * len(text)):]))
    loss = gpt.estimate_loss(model, val, model.config.block_size, batch_size=32, iters=5, seed=0)
    assert loss < 0.5 * math.log(65) and abs(loss - entry.metrics["val_loss"]) < 0.15, loss
    sample = generate(model, torch.tensor([tokenizer.encode("ROMEO:\n")]), 60, greedy=True)
    assert " the " in tokenizer.decode(sample[0]) or " and " in tokenizer.decode(sample[0])


def test_manifest_entry_is_complete():
    entry = read_manifest()["gpt_shakespeare_tiny"]
    assert {"model", "train", "chars", "batch_size", "corpus"} <= set(entry.config)
    assert entry.config["corpus"] == "tinyshakespeare"
    GPTConfig(**entry.config["model"])


@pytest.mark.slow
def test_tiny_preset_reproduces_the_shipped_checkpoint(request, tmp_path, monkeypatch):
    if not SHARED_SHAKESPEARE.exists():
        pytest.skip("tiny Shakespeare is not available")
    cache = tmp_path / "cache"
    (cache / "tinyshakespeare").mkdir(parents=True)
    (cache / "tinyshakespeare/input.txt").symlink_to(SHARED_SHAKESPEARE)
    monkeypatch.setenv("VLCOURSE_CACHE", str(cache))
    entry = gpt.train_reference("tiny", folder=tmp_path)
    shipped = read_manifest()["gpt_shakespeare_tiny"]
    assert abs(entry.metrics["val_loss"] - shipped.metrics["val_loss"]) < 0.03, (entry.metrics, shipped.metrics)


# ---------------------------------------------------------------------------------------- sampling


def test_next_token_distribution_temperature_and_top_k():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 3.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(gpt.next_token_distribution(logits), torch.softmax(logits, -1))
    torch.testing.assert_close(gpt.next_token_distribution(logits, 2.0), torch.softmax(logits / 2, -1))
    probs = gpt.next_token_distribution(logits, 1.0, top_k=2)
    assert (probs > 0).sum(dim=1).tolist() == [2, 2]
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(probs[0, :2], torch.softmax(logits[0, :2], -1))


def test_sample_next_greedy_and_reproducible():
    logits = torch.randn(5, 9, generator=torch.Generator().manual_seed(0))
    assert torch.equal(gpt.sample_next(logits, 0.0), logits.argmax(-1, keepdim=True))
    a = gpt.sample_next(logits, 1.0, 3, torch.Generator().manual_seed(1))
    b = gpt.sample_next(logits, 1.0, 3, torch.Generator().manual_seed(1))
    assert a.shape == (5, 1) and a.dtype == torch.long and torch.equal(a, b)
    assert (a == logits.topk(3).indices).any(dim=1).all()


def test_generate_uses_a_given_sampler():
    model = confident_model()
    calls = []

    def always_three(logits, temperature, top_k, generator):
        calls.append((temperature, top_k))
        return torch.full((logits.size(0), 1), 3)

    out = generate(model, torch.zeros(2, 1, dtype=torch.long), 4, temperature=0.7, top_k=5, sample_fn=always_three)
    assert (out[:, 1:] == 3).all() and calls == [(0.7, 5)] * 4


# --------------------------------------------------------------------------- a student's own classes


class RenamedAttention(CausalSelfAttention):
    """Stands in for a student's class: same parameters, a different class."""


def test_gpt_takes_its_attention_class_and_loads_the_checkpoint_into_it():
    reference, tokenizer, _ = gpt.load_reference("tiny")
    own, _, _ = gpt.load_reference("tiny", attention_cls=RenamedAttention)
    assert all(type(block.attn) is RenamedAttention for block in own.h)
    idx = torch.tensor([tokenizer.encode("ROMEO:\nWhat")])
    torch.testing.assert_close(own(idx)[0], reference(idx)[0])


def test_train_gpt_with_a_given_loss():
    model = small_model()
    data = torch.randint(11, (400,), generator=torch.Generator().manual_seed(3))
    cfg = TrainConfig(steps=3, eval_every=3, progress=False)
    history = gpt.train_gpt(model, data, data, cfg, batch_size=4, eval_iters=1, loss_fn=lm_loss)
    assert len(history.loss) == 3 and all(math.isfinite(x) for x in history.loss)


# The grading contract: attention.py, loss.py and sampling.py are emptied while a submission runs.


def test_package_works_with_the_withheld_files_emptied(tmp_path):
    """The sandbox replaces the withheld files with empty files; the rest must still import, build a
    GPT around a given attention class, train with a given loss and generate with a given sampler."""
    import shutil
    import subprocess
    import sys

    import vlcourse

    package = tmp_path / "vlcourse"
    shutil.copytree(vlcourse.__path__[0], package, ignore=shutil.ignore_patterns("__pycache__", "*.safetensors"))
    source = Path(gpt.__file__).parent
    attention_source = (source / "attention.py").read_text()
    for withheld in ("attention.py", "loss.py", "sampling.py"):
        (package / "gpt" / withheld).write_text("")
    (tmp_path / "own_attention.py").write_text(attention_source.replace("from vlcourse.gpt.config", "from vlcourse.gpt"))
    script = """
import torch
import vlcourse.gpt as g
for name in ("causal_mask", "masked_attention", "CausalSelfAttention", "lm_loss", "sample_next"):
    assert not hasattr(g, name), name
try:
    g.GPT(g.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16))
except RuntimeError as err:
    assert "attention_cls" in str(err)
else:
    raise AssertionError("the reference attention should be unavailable")
from own_attention import CausalSelfAttention
model = g.GPT(g.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16), CausalSelfAttention)
own_loss = lambda logits, idx: torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 11), idx[:, 1:].reshape(-1))
data = torch.randint(11, (200,))
from vlcourse.training import TrainConfig
g.train_gpt(model, data, data, TrainConfig(steps=2, eval_every=2, progress=False), 4, eval_iters=1, loss_fn=own_loss)
greedy = g.generate(model, torch.zeros(1, 1, dtype=torch.long), 3, greedy=True)
own_sampler = lambda logits, temperature, top_k, generator: logits.argmax(-1, keepdim=True)
sampled = g.generate(model, torch.zeros(1, 1, dtype=torch.long), 3, sample_fn=own_sampler)
assert torch.equal(greedy, sampled)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
