"""Tests of vlcourse.lectures, the small demos behind the lecture notebooks.

Each demo function is compared with an obviously-correct slow version (loops, float64) or checked
for the property the lecture claims for it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vlcourse.data.shapes import ShapesConfig, generate_shapes
from vlcourse.lectures import adaptation, binding, blip, contrastive, emergence, flamingo, language, vqa, webdata


# --- NPID -------------------------------------------------------------------------------------

def test_nonparametric_softmax_matches_loop():
    torch.manual_seed(0)
    feats, bank = torch.randn(4, 6), F.normalize(torch.randn(10, 6), dim=1)
    logits = contrastive.nonparametric_logits(feats, bank, 0.1)
    for b in range(4):
        v = feats[b].double() / feats[b].double().norm()
        for i in range(10):
            assert logits[b, i].item() == pytest.approx((bank[i].double() @ v).item() / 0.1, abs=1e-4)
    idx = torch.tensor([1, 3, 5, 7])
    want = -sum(math.log(torch.softmax(logits[b].double(), 0)[idx[b]].item()) for b in range(4)) / 4
    assert contrastive.npid_loss(feats, idx, bank, 0.1).item() == pytest.approx(want, rel=1e-5)


def test_memory_bank_update_moves_towards_feature_and_stays_unit():
    bank = contrastive.MemoryBank(5, 3, momentum=0.5)
    target = torch.tensor([[0.0, 0.0, 2.0]])
    before = bank.bank[2] @ F.normalize(target, dim=1)[0]
    bank.update(torch.tensor([2]), target)
    assert bank.bank.norm(dim=1).allclose(torch.ones(5))
    assert bank.bank[2] @ F.normalize(target, dim=1)[0] > before
    with pytest.raises(ValueError, match="momentum"):
        contrastive.MemoryBank(5, 3, momentum=1.0)


def test_only_the_diagonal_collapses_and_nt_xent_does_not():
    curves = contrastive.collapse_curves(steps=40)
    assert curves["only the diagonal"][-1] < 0.3 * curves["only the diagonal"][0]
    assert curves["NT-Xent (SimCLR)"][-1] > 0.8 * curves["NT-Xent (SimCLR)"][0]


# --- language modelling -----------------------------------------------------------------------

def test_perplexity_of_uniform_guess_is_vocabulary_size():
    assert language.perplexity_from_logprobs([math.log(1 / 7)] * 5) == pytest.approx(7.0)
    with pytest.raises(ValueError):
        language.perplexity_from_logprobs([])


def test_continuation_logprobs_match_token_by_token_loop():
    from vlcourse.gpt import GPT, GPTConfig
    from vlcourse.data.text import CharTokenizer

    tok = CharTokenizer("abcdefgh ")
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16)).eval()
    fast = language.continuation_logprobs(model, tok, "abc de", "fgh")
    ids = tok.encode("abc de")
    slow = []
    for ch in tok.encode("fgh"):  # one forward pass per token, float64 softmax
        logits, _ = model(torch.tensor([ids]))
        slow.append(torch.log_softmax(logits[0, -1].double(), 0)[ch].item())
        ids.append(ch)
    assert fast.tolist() == pytest.approx(slow, abs=1e-5)


# --- web data and filters ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def pairs():
    return webdata.noisy_alt_text(300, seed=1)


def test_noisy_pairs_are_deterministic_and_labelled(pairs):
    again = webdata.noisy_alt_text(300, seed=1)
    assert again.texts == pairs.texts and torch.equal(again.images, pairs.images)
    assert set(pairs.kind) == set(webdata.NOISE_KINDS)
    small = torch.tensor([k == "small image" for k in pairs.kind])
    assert (pairs.image_size[small] == 8).all() and (pairs.image_size[~small] == 32).all()
    clean = pairs.is_clean
    assert clean.float().mean().item() == pytest.approx(0.4, abs=0.1)


def test_align_filter_rules_one_by_one(pairs):
    keep = webdata.align_filter(pairs)
    counts = {t: pairs.texts.count(t) for t in pairs.texts}
    for i, t in enumerate(pairs.texts):  # the rules, written out
        want = pairs.image_size[i] >= 16 and counts[t] <= 10 and 3 <= len(t.split()) <= 20
        assert bool(keep[i]) == bool(want)
    kinds = [k for k, kept in zip(pairs.kind, keep.tolist()) if kept]
    assert "boilerplate" not in kinds and "small image" not in kinds and "too short" not in kinds


def test_cc_filter_drops_spam_and_boilerplate(pairs):
    keep = webdata.cc_filter(pairs)
    kinds = {k for k, kept in zip(pairs.kind, keep.tolist()) if kept}
    assert not kinds & {"spam", "boilerplate", "too short"}


def test_filter_report_counts():
    keep = torch.tensor([True, True, False, False])
    clean = torch.tensor([True, False, True, False])
    assert webdata.filter_report(keep, clean) == {"kept": 0.5, "precision": 0.5, "recall": 0.5}


def test_clip_scores_are_rowwise_cosines():
    a, b = torch.randn(5, 4), torch.randn(5, 4)
    want = [F.cosine_similarity(a[i:i + 1], b[i:i + 1]).item() for i in range(5)]
    assert webdata.clip_scores(a, b).tolist() == pytest.approx(want, abs=1e-6)


def test_t_statistic_matches_the_textbook_formula():
    a, b = [0.9, 0.7, 0.8], [0.2, 0.4]
    ma, mb = sum(a) / 3, sum(b) / 2
    pooled = (sum((x - ma) ** 2 for x in a) + sum((x - mb) ** 2 for x in b)) / 3
    t, df = webdata.t_statistic(a, b)
    assert df == 3 and t == pytest.approx((ma - mb) / math.sqrt(pooled * (1 / 3 + 1 / 2)))
    with pytest.raises(ValueError, match="two runs"):
        webdata.t_statistic([0.5], [0.1, 0.2])


def test_beyond_seed_noise_is_a_t_test_at_five_percent():
    assert webdata.beyond_seed_noise([0.9, 0.91, 0.89], [0.2, 0.21, 0.19])
    # two seeds that do not overlap are not enough when they scatter (t = 2.9 < 4.30)
    assert not webdata.beyond_seed_noise([0.95, 0.59], [0.25, 0.0])
    assert not webdata.beyond_seed_noise([0.9], [0.1]), "one run per group cannot show a difference"
    assert webdata.beyond_seed_noise([0.5, 0.5], [0.4, 0.4]) and not webdata.beyond_seed_noise([0.5, 0.5], [0.5, 0.5])


def test_filter_training_rejects_bad_budgets():
    with pytest.raises(ValueError, match="batch_size"):
        webdata.FilterTraining(batch_size=1)
    with pytest.raises(ValueError, match="threads"):
        webdata.FilterTraining(threads=0)
    with pytest.raises(ValueError, match="seeds"):
        webdata.FilterTraining(seeds=())


@pytest.fixture
def one_thread():
    """Small CLIPs train fastest on one thread (as the lecture runs them); two oversubscribe a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_zero_shot_after_filtering_is_seeded_and_one_result_per_seed(pairs, one_thread):
    cfg = webdata.FilterTraining(steps=3, batch_size=16, seeds=(0, 1), num_eval=30, threads=2)
    keeps = {"all": torch.ones(len(pairs), dtype=torch.bool), "clean": pairs.is_clean}
    first = webdata.zero_shot_after_filtering(pairs, keeps, cfg)
    assert torch.get_num_threads() == 1  # the caller's setting is restored
    assert set(first) == {"all", "clean"} and all(len(runs) == 2 for accs in first.values() for runs in accs.values())
    assert all(0.0 <= a <= 1.0 for accs in first.values() for runs in accs.values() for a in runs)
    again = webdata.zero_shot_after_filtering(pairs, {"clean": keeps["clean"]}, cfg)
    assert again["clean"] == first["clean"]
    with pytest.raises(ValueError, match="keeps 0 pairs"):
        webdata.zero_shot_after_filtering(pairs, {"nothing": torch.zeros(len(pairs), dtype=torch.bool)}, cfg)


def test_spam_free_pairs_teach_colour_faster_than_the_noisy_set(one_thread):
    """The lecture's setting (2000 pairs, a quarter clean, 100 steps): the clean pairs teach zero-shot colour,
    the unfiltered noisy set does not yet."""
    noisy = webdata.noisy_alt_text(2000, clean_fraction=0.25, seed=0)
    cfg = webdata.FilterTraining(steps=100, seeds=(0, 1), attributes=("color",))
    got = webdata.zero_shot_after_filtering(noisy, {"no filter": torch.ones(len(noisy), dtype=torch.bool),
                                                    "clean only": noisy.is_clean}, cfg)
    assert np.mean(got["clean only"]["color"]) > np.mean(got["no filter"]["color"]) + 0.3, got


# --- BLIP -------------------------------------------------------------------------------------

def test_hard_negatives_never_pick_the_positive_and_follow_the_softmax():
    gen = torch.Generator().manual_seed(0)
    sim = torch.randn(6, 6)
    draws = torch.stack([blip.hard_negative_indices(sim, gen) for _ in range(4000)])  # (4000, 6)
    assert (draws != torch.arange(6)).all()
    row = sim[0].double().clone()
    row[0] = float("-inf")
    want = torch.softmax(row, 0)
    freq = torch.bincount(draws[:, 0], minlength=6).double() / 4000
    assert freq.allclose(want, atol=0.03)
    peaked = torch.zeros(3, 3)
    peaked[0, 2] = peaked[1, 0] = peaked[2, 1] = 100.0
    assert blip.hard_negative_indices(peaked, gen).tolist() == [2, 0, 1]


def test_capfilt_threshold_and_parser():
    keep_web, keep_syn = blip.capfilt(torch.tensor([0.1, 0.5]), torch.tensor([0.5, 0.2]), 0.3)
    assert keep_web.tolist() == [False, True] and keep_syn.tolist() == [True, False]
    assert blip.attribute_words("a small red circle left of a blue cross") == {"a", "small", "red", "circle"}


# --- VQA --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shapes_data():
    return generate_shapes(ShapesConfig(num_samples=500, seed=3))


def test_questions_have_true_answers(shapes_data):
    for q in vqa.make_questions(shapes_data, 300, balanced=False):
        objs = shapes_data.objects[q.image]
        if q.kind == "count":
            assert q.answer == str(len(objs))
        elif q.kind == "color":
            assert q.answer == objs[0]["color"] and objs[0]["shape"] in q.text
        else:
            c, s = q.text.rstrip("?").split()[-2:]
            assert q.answer == ("yes" if any(o["color"] == c and o["shape"] == s for o in objs) else "no")


def test_balancing_removes_the_blind_baselines_advantage(shapes_data):
    def blind(balanced):
        train = vqa.make_questions(shapes_data, 2000, balanced, seed=0)
        test = vqa.make_questions(shapes_data, 1000, balanced, seed=1)
        return vqa.accuracy_by_kind(vqa.BlindBaseline().fit(train), test)

    biased, balanced = blind(False), blind(True)
    assert biased["exists"] > 0.75 and balanced["exists"] < 0.65
    assert biased["color"] > balanced["color"] + 0.2


def test_blind_baseline_falls_back_to_question_kind():
    train = [vqa.Question(0, "exists", "is there a red circle?", "yes"),
             vqa.Question(0, "exists", "is there a red square?", "no"),
             vqa.Question(0, "exists", "is there a blue square?", "no")]
    model = vqa.BlindBaseline().fit(train)
    assert model.predict(train[0]) == "yes"
    assert model.predict(vqa.Question(0, "exists", "is there a green cross?", "?")) == "no"


# --- Flamingo ---------------------------------------------------------------------------------

def test_gated_cross_attention_is_identity_at_init_and_not_after():
    torch.manual_seed(0)
    block = flamingo.GatedCrossAttention(16, heads=2)
    x, v = torch.randn(2, 5, 16), torch.randn(2, 3, 16)
    assert torch.equal(block(x, v), x)
    with torch.no_grad():
        block.alpha_attn.fill_(1.0)
    assert not torch.allclose(block(x, v), x)


def test_flamingo_gpt_equals_frozen_gpt_at_init():
    from vlcourse.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)).eval()
    model = flamingo.FlamingoGPT(gpt, heads=2).eval()
    idx = torch.randint(0, 11, (2, 8))
    assert torch.equal(model(idx, torch.randn(2, 4, 16)), gpt(idx)[0])
    assert not any(p.requires_grad for p in gpt.parameters())


@pytest.mark.parametrize("m", [1, 7, 64])
def test_perceiver_resampler_outputs_fixed_number_of_tokens(m):
    rs = flamingo.PerceiverResampler(16, num_latents=5, depth=1, heads=2)
    assert rs(torch.randn(3, m, 16)).shape == (3, 5, 16)


# --- binding ----------------------------------------------------------------------------------

def test_bind_and_answer_is_nearest_support_and_names_are_arbitrary():
    support = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    queries = torch.tensor([[0.9, 0.1], [0.2, 3.0]])
    assert binding.bind_and_answer(support, ["dax", "blicket"], queries) == ["dax", "blicket"]
    assert binding.bind_and_answer(support, ["blicket", "dax"], queries) == ["blicket", "dax"]


def test_episode_accuracy_perfect_on_separable_features():
    labels = torch.arange(4).repeat_interleave(10)
    feats = F.one_hot(labels, 4).float() + 0.01 * torch.randn(40, 4)
    assert binding.episode_accuracy(feats, labels, ("dax", "blicket"), shots=1, episodes=20) == 1.0


# --- emergence and self-consistency -----------------------------------------------------------

def test_majority_answer_ignores_unparsed_samples():
    assert emergence.majority_answer([3, None, 5, 5, None, None]) == 5
    assert emergence.majority_answer([None, None]) is None
    assert emergence.majority_answer([7, 8]) == 7, "a tie goes to the answer seen first"


def test_mcnemar_p_matches_enumerating_every_sign_pattern():
    a = [True] * 6 + [False] * 2 + [True] * 5 + [False] * 3    # 6 + 2 disagreements, 8 agreements
    b = [False] * 6 + [True] * 2 + [True] * 5 + [False] * 3
    # brute force: all 2**8 ways the 8 disagreements could fall, as likely as each other under the null
    extreme = sum(1 for signs in itertools.product((0, 1), repeat=8) if min(sum(signs), 8 - sum(signs)) <= 2)
    assert emergence.mcnemar_p(a, b) == pytest.approx(extreme / 2 ** 8)
    assert emergence.mcnemar_p(b, a) == emergence.mcnemar_p(a, b)
    assert emergence.mcnemar_p([True, False], [True, False]) == 1.0
    assert emergence.mcnemar_p([True] * 12, [False] * 12) < 0.001
    with pytest.raises(ValueError, match="same questions"):
        emergence.mcnemar_p([True], [True, False])


def test_exact_match_formula_matches_simulation():
    for p, k in [(0.9, 5), (0.5, 3)]:
        assert emergence.simulate_exact_match(p, k, 40000) == pytest.approx(float(emergence.exact_match(p, k)), abs=0.01)


def test_exact_match_is_sharper_than_per_token_accuracy():
    scale = np.linspace(6, 12, 61)
    p = emergence.per_token_accuracy(scale)
    em = emergence.exact_match(p, 10)
    assert np.all(np.diff(p) > 0) and np.all(em <= p)
    assert em[:30].max() < 0.05 < p[:30].max()


@pytest.mark.parametrize("p,n,m", [(0.4, 5, 3), (0.3, 4, 2), (0.6, 1, 2)])
def test_majority_vote_exact_matches_simulation(p, n, m):
    assert emergence.majority_vote_accuracy(p, n, m) == pytest.approx(
        emergence.simulate_majority_vote(p, n, m, 20000), abs=0.015)


def test_majority_vote_single_sample_is_p_and_more_samples_help():
    assert emergence.majority_vote_accuracy(0.37, 1, 4) == pytest.approx(0.37)
    assert emergence.majority_vote_accuracy(0.4, 9, 3) > emergence.majority_vote_accuracy(0.4, 3, 3) > 0.4


# --- adaptation -------------------------------------------------------------------------------

def test_prompts_start_as_identity_and_only_prompter_trains():
    x = torch.randn(4, 6)
    assert torch.equal(adaptation.FixedPrompt(6)(x), x)
    assert torch.equal(adaptation.PromptGenerator(6)(x), x)
    y = torch.randint(0, 10, (32,))
    xs = torch.randn(32, 6)
    frozen = adaptation.train_classifier(xs, y, steps=5)
    before = [p.clone() for p in frozen.parameters()]
    prompter = adaptation.adapt(frozen, adaptation.PromptGenerator(6), xs, y, steps=5)
    assert all(torch.equal(a, b) for a, b in zip(before, frozen.parameters()))
    assert prompter.net[2].weight.abs().sum() > 0


# --- in-context learning and the number of tasks (Kirsch et al.) --------------------------------

def test_episodes_are_rotated_distinct_images_of_the_tasks_classes():
    from vlcourse.lectures import incontext

    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(5).repeat_interleave(6)  # 5 classes, 6 images each
    images = torch.randn(30, 4)
    pool = incontext.random_tasks(3, 4, ways=2, generator=gen, num_classes=5)
    assert torch.allclose(pool.rotations[0] @ pool.rotations[0].T, torch.eye(4), atol=1e-5)
    x, y = incontext.sample_episodes(images, labels, pool, batch=50, shots=2, generator=gen)
    assert x.shape == (50, 6, 4) and y.shape == (50, 6)
    for b in range(50):
        # undo the rotation by finding the task whose rotation maps some images exactly onto x
        matches = []
        for t in range(3):
            raw = x[b] @ pool.rotations[t].T  # (N, P)
            dist = torch.cdist(raw, images, compute_mode="donot_use_mm_for_euclid_dist")  # (N, 30)
            if dist.min(dim=1).values.max() < 1e-4:
                matches.append((t, dist.argmin(dim=1)))
        assert len(matches) == 1
        t, idx = matches[0]
        assert len(set(idx.tolist())) == 6  # distinct images
        for i, lab in zip(idx.tolist(), y[b].tolist()):
            assert labels[i] == pool.classes[t, lab]  # label = position of the image's class in the task
        assert sorted(y[b].tolist()) == [0, 0, 0, 1, 1, 1]


def test_in_context_learner_ignores_the_order_of_the_support_set():
    from vlcourse.lectures import incontext

    torch.manual_seed(0)
    model = incontext.InContextLearner(dim=4, ways=2, width=16, layers=1).eval()
    x, y = torch.randn(3, 5, 4), torch.randint(0, 2, (3, 5))
    perm = torch.tensor([2, 0, 3, 1, 4])  # the query (last) stays last
    with torch.no_grad():
        assert torch.allclose(model(x, y), model(x[:, perm], y[:, perm]), atol=1e-5)
        y2 = y.clone()
        y2[:, -1] = 1 - y2[:, -1]
        assert torch.equal(model(x, y), model(x, y2))  # the query's own label is hidden
