"""The key-value cache path (vlcourse.gpt.kv_cache) against the GPT's own full forward pass.

In float64 every logit it computes must equal the full forward's to rounding, whatever the rows'
lengths, positions, order and membership; in float32 greedy decoding must give the same tokens as
:func:`vlcourse.gpt.generate`, also past ``block_size`` where the context window slides.
"""

from __future__ import annotations

import pytest
import torch

from vlcourse.gpt import GPT, CausalSelfAttention, GPTConfig, generate
from vlcourse.gpt.kv_cache import KVCache, decode_step, empty_cache, generate_cached, prefill

SMALL = dict(vocab_size=13, block_size=12, n_layer=2, n_head=2, n_embd=16)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def model64(**overrides) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**SMALL, **overrides})).double().eval()


def full_logits(model: GPT, ids: list[int]) -> torch.Tensor:
    """(T, V) logits of the plain forward pass over one row."""
    with torch.no_grad():
        return model(torch.tensor([ids]))[0][0]


@pytest.mark.parametrize("overrides", [dict(), dict(bias=False), dict(n_head=4, n_layer=3), dict(attention="explicit")])
def test_prefill_then_steps_give_the_full_forward_logits_in_float64(overrides):
    model = model64(**overrides)
    gen = torch.Generator().manual_seed(1)
    rows = [torch.randint(0, 13, (12,), generator=gen).tolist() for _ in range(4)]
    starts = [1, 5, 3, 12]  # prompt lengths; the last row is full and only prefilled
    cache = empty_cache(model, 4)
    first = prefill(model, cache, [0, 1, 2, 3], [r[:n] for r, n in zip(rows, starts)])  # (4, V)
    for i, (row, n) in enumerate(zip(rows, starts)):
        torch.testing.assert_close(first[i], full_logits(model, row)[n - 1], rtol=0, atol=1e-12)
    cache = cache.select([0, 1, 2])  # the full row leaves
    position = torch.tensor(starts[:3])
    for _ in range(7):  # rows at different positions step together
        logits = decode_step(model, cache, torch.tensor([rows[i][int(position[i])] for i in range(3)]))  # (3, V)
        for i in range(3):
            torch.testing.assert_close(logits[i], full_logits(model, rows[i])[int(position[i])], rtol=0, atol=1e-12)
        position += 1
        assert cache.lengths.tolist() == position.tolist()


def test_rows_can_leave_join_and_be_reordered():
    model = model64()
    gen = torch.Generator().manual_seed(2)
    a, b, c = (torch.randint(0, 13, (12,), generator=gen).tolist() for _ in range(3))
    cache = empty_cache(model, 2)
    prefill(model, cache, [0, 1], [a[:4], b[:2]])
    decode_step(model, cache, torch.tensor([a[4], b[2]]))
    cache = cache.select([1]).extend(1)  # a leaves, c joins in a fresh row
    assert cache.lengths.tolist() == [3, 0] and isinstance(cache, KVCache) and cache.capacity == 12
    prefill(model, cache, [1], [c[:6]])
    logits = decode_step(model, cache, torch.tensor([b[3], c[6]]))
    torch.testing.assert_close(logits[0], full_logits(model, b)[3], rtol=0, atol=1e-12)
    torch.testing.assert_close(logits[1], full_logits(model, c)[6], rtol=0, atol=1e-12)


def test_stepping_some_rows_leaves_the_others_untouched():
    """decode_step(rows=...): the stepped rows get the full-forward logits, the rest keep keys, values and length."""
    model = model64(n_head=4, n_layer=3)
    gen = torch.Generator().manual_seed(4)
    seqs = [torch.randint(0, 13, (12,), generator=gen).tolist() for _ in range(3)]
    cache = empty_cache(model, 3)
    prefill(model, cache, [0, 1, 2], [seqs[0][:2], seqs[1][:6], seqs[2][:3]])
    untouched = ([k[1].clone() for k in cache.keys], [v[1].clone() for v in cache.values])
    logits = decode_step(model, cache, torch.tensor([seqs[2][3], seqs[0][2]]), rows=[2, 0])  # (2, V), in rows' order
    torch.testing.assert_close(logits[0], full_logits(model, seqs[2])[3], rtol=0, atol=1e-12)
    torch.testing.assert_close(logits[1], full_logits(model, seqs[0])[2], rtol=0, atol=1e-12)
    assert cache.lengths.tolist() == [3, 6, 4]
    assert all(torch.equal(a, k[1]) for a, k in zip(untouched[0], cache.keys))
    assert all(torch.equal(a, v[1]) for a, v in zip(untouched[1], cache.values))
    both = decode_step(model, cache, torch.tensor([seqs[0][3], seqs[1][6], seqs[2][4]]))  # then every row again
    for i, n in enumerate([3, 6, 4]):
        torch.testing.assert_close(both[i], full_logits(model, seqs[i])[n], rtol=0, atol=1e-12)


def test_the_cache_path_uses_only_the_weights_not_the_attention_class():
    """A GPT built with another (equivalent) attention class gives the same cached logits."""

    class Renamed(CausalSelfAttention):
        pass

    model = model64()
    other = GPT(model.config, attention_cls=Renamed).double().eval()
    other.load_state_dict(model.state_dict())
    cache_a, cache_b = empty_cache(model, 1), empty_cache(other, 1)
    torch.testing.assert_close(prefill(model, cache_a, [0], [[1, 2, 3]]), prefill(other, cache_b, [0], [[1, 2, 3]]))


def test_bad_uses_are_refused():
    model = model64()
    cache = empty_cache(model, 1)
    with pytest.raises(ValueError, match="prompts must have"):
        prefill(model, cache, [0], [list(range(13))])
    prefill(model, cache, [0], [[1] * 12])
    with pytest.raises(ValueError, match="full"):
        decode_step(model, cache, torch.tensor([1]))


@pytest.mark.parametrize("prompt_length", [1, 5, 12])
def test_greedy_cached_generation_equals_generate_past_the_context(prompt_length):
    torch.manual_seed(3)
    model = GPT(GPTConfig(**SMALL)).eval()
    with torch.no_grad():
        model.wte.weight.mul_(20.0)  # well separated logits: no near ties for rounding to flip
    idx = torch.randint(0, 13, (3, prompt_length), generator=torch.Generator().manual_seed(4))
    assert torch.equal(generate_cached(model, idx, 25), generate(model, idx, 25, greedy=True))


def test_shipped_model_greedy_text_is_unchanged():
    from vlcourse.gpt.train import load_reference

    model, tok, _ = load_reference("tiny")
    idx = torch.tensor([tok.encode("ROMEO:\nWhat"), tok.encode("KING:\nO my ")])
    assert torch.equal(generate_cached(model, idx, 80), generate(model, idx, 80, greedy=True))  # 80 > block 64
