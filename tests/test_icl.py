"""The ICL model's tokenizer, episodes and shipped checkpoint (its effects measured small and fast)."""

import itertools
import random

import pytest

from vlcourse.checkpoints import read_manifest
from vlcourse.icl.episodes import (ATTRIBUTES, NONSENSE, EpisodeConfig, EpisodeSampler, arithmetic_line, chain_of_thought,
                                   digit_tuples, fact_line, few_shot_prompt, final_number, multiplication_facts, random_task,
                                   task_pool)
from vlcourse.icl.tokenizer import VocabTokenizer
from vlcourse.icl.train import CHECKPOINT, encode_segments, icl_tokenizer

shipped = pytest.mark.skipif(CHECKPOINT not in read_manifest(), reason="the icl_tiny checkpoint is not shipped")


def test_tokenizer_is_greedy_longest_match_and_round_trips():
    tok = VocabTokenizer(["a", "ab", "abc", " ", "b", "c"])
    assert tok.encode("abcab c") == [tok.stoi["abc"], tok.stoi["ab"], tok.stoi[" "], tok.stoi["c"]]
    with pytest.raises(KeyError, match="'%'"):
        tok.encode("a%")
    icl = icl_tokenizer()
    text = "red circle -> dax\nblue star -> blicket\n3*4*2*5: 3*4=12, 12*2=24, 24*5=120\nHello World?"
    assert icl.decode(icl.encode(text)) == text
    assert [icl.tokens[i] for i in icl.encode("red circle -> dax\n")] == ["red circle ->", " dax", "\n"]
    assert [icl.tokens[i] for i in icl.encode("a red circle")] == ["a", " red", " circle"]


def test_tasks_have_real_flipped_and_nonsense_labels():
    rng = random.Random(0)
    for _ in range(50):
        real, flipped, nonsense = (random_task(rng, kind) for kind in ("real", "flipped", "nonsense"))
        assert real.labels == ATTRIBUTES[real.attribute]
        assert sorted(flipped.labels) == sorted(ATTRIBUTES[flipped.attribute])
        assert all(a != b for a, b in zip(flipped.labels, ATTRIBUTES[flipped.attribute]))  # none keeps its name
        assert set(nonsense.labels) <= set(NONSENSE) and len(set(nonsense.labels)) == 4
    prompt, label = few_shot_prompt(random_task(rng, "nonsense"), 3, rng)
    assert prompt.count("\n") == 3 and prompt.endswith(" ->") and label in NONSENSE
    assert task_pool(5, seed=1) == task_pool(5, seed=1) and len(task_pool(5)) == 5


def test_arithmetic_split_chain_and_answers():
    train, held = set(digit_tuples("train")), set(digit_tuples("heldout"))
    assert not train & held and len(train) + len(held) == 8 ** 4
    multisets = {tuple(sorted(t)) for t in held}
    assert len(multisets) == 66 and not any(tuple(sorted(t)) in multisets for t in train)  # no reordering leaks
    assert all(t in held for m in multisets for t in itertools.permutations(m))
    facts = set(multiplication_facts())
    assert len(facts) == 792 and fact_line((18, 9)) == [("18*9=", False), ("162\n", True)]
    for digits in held:  # every step of a held-out chain is a fact training shows
        total = digits[0]
        for d in digits[1:]:
            assert (total, d) in facts
            total *= d
    assert chain_of_thought((3, 4, 2, 5)) == "3*4=12, 12*2=24, 24*5=120"
    assert final_number(" 3*4=12, 12*2=24, 24*5=120\nmore") == 120 and final_number("19") == 19
    assert final_number("no answer") is None
    assert "".join(t for t, _ in arithmetic_line((2, 3, 4, 2), False)) == "2*3*4*2=48\n"


def test_training_sequences_tokenize_like_their_text_and_mask_what_is_not_learnt():
    tok = icl_tokenizer()
    sampler = EpisodeSampler(EpisodeConfig(arithmetic_fraction=0.5, fact_fraction=0.3), seed=3)
    for _ in range(40):
        segments = sampler.sequence(60)
        whole = tok.encode("".join(t for t, _ in segments))
        assert whole == sum((tok.encode(t) for t, _ in segments), [])
        x, y = encode_segments(tok, segments, 64)
        assert len(x) == len(y) == 64
        learnt = [t for t, flag in segments if flag]
        assert sum(v != -100 for v in y) == min(sum(len(tok.encode(t)) for t in learnt), 64)
    with pytest.raises(ValueError, match="num_tasks"):
        EpisodeConfig(num_tasks=0)


@shipped
def test_shipped_model_learns_in_context_and_follows_the_labels_it_is_shown():
    """Small samples of what the manifest states for 300 prompts per point (vlcourse.icl.train.measure)."""
    from vlcourse.icl.train import arithmetic_accuracy, label_accuracy, load_icl_model

    model, tok = load_icl_model()
    rng = random.Random(0)
    for kind in ("real", "flipped", "nonsense"):
        tasks = [random_task(rng, kind) for _ in range(60)]
        zero, eight = (label_accuracy(model, tok, tasks, k, seed=9) for k in (0, 8))
        assert eight["accuracy"] > zero["accuracy"] + 0.3, kind
        if kind == "flipped":  # the labels shown win over what the words mean
            assert eight["accuracy"] > 0.8 and eight["real_label_rate"] < 0.1
    assert arithmetic_accuracy(model, tok, cot=True, n=40) >= 0.9


@shipped
def test_served_icl_model_answers_like_the_model_in_process():
    from vlcourse.icl.train import greedy_complete, load_icl_model
    from vlcourse.llm import LLM, LLMConfig
    from vlcourse.serve.config import ServeConfig
    from vlcourse.serve.run import BackgroundServer

    model, tok = load_icl_model()
    rng = random.Random(1)
    prompts = [few_shot_prompt(random_task(rng, "nonsense"), 4, rng)[0] for _ in range(4)] + ["3*4*2*5:"]
    expected = greedy_complete(model, tok, prompts, max_new=40)
    with BackgroundServer(ServeConfig(models=("icl-tiny",), port=0)) as server:
        llm = LLM(LLMConfig(base_url=server.url, api_key="local", model="icl-tiny", cache_dir=None))
        got = [llm.complete_text(p, max_tokens=40, temperature=0, stop=["\n"]) for p in prompts]
        labels = sorted(set(tok.tokens[i].strip() for i in tok.encode(prompts[0]) if tok.tokens[i].strip() in NONSENSE))
        scores = llm.score(prompts[0], [" " + label for label in labels])
        llm.close()
    assert got == expected
    assert len(scores) == len(labels) and all(s < 0 for s in scores)
