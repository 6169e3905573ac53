"""Tests of vlcourse.clip: clip_loss against open_clip's ClipLoss and a loop version (float64, values
and gradients), the template-ensembling rule, the registered open_clip configs, the temperature, the
offline pretrained path, retrieval recall, LiT's locked tower and the tiny checkpoint."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from vlcourse import clip
from vlcourse.checkpoints import read_manifest
from vlcourse.clip import clip_loss, zero_shot_classifier
from vlcourse.training import TrainConfig


def randn(*shape, seed, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def loop_clip_loss(img, txt, logit_scale):
    """CLIP's loss written out pair by pair (float64)."""
    n = img.shape[0]
    img = [v / v.norm() for v in img]
    txt = [v / v.norm() for v in txt]
    scale = math.exp(float(logit_scale))
    total = 0.0
    for i in range(n):
        row = [scale * float(img[i] @ txt[j]) for j in range(n)]
        col = [scale * float(txt[i] @ img[j]) for j in range(n)]
        total += -row[i] + math.log(sum(math.exp(r) for r in row))
        total += -col[i] + math.log(sum(math.exp(c) for c in col))
    return total / (2 * n)


# --- clip_loss ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n,d,scale", [(2, 3, 0.0), (8, 16, math.log(1 / 0.07)), (33, 7, 4.2), (64, 512, math.log(100))])
def test_clip_loss_equals_open_clip_value_and_gradients(n, d, scale):
    from open_clip.loss import ClipLoss

    img, txt = randn(n, d, seed=n), randn(n, d, seed=n + 1) * 3
    ls = torch.tensor(scale, dtype=torch.float64)
    ours = [t.clone().requires_grad_() for t in (img, txt, ls)]
    theirs = [t.clone().requires_grad_() for t in (img, txt, ls)]
    value = clip_loss(*ours)
    expected = ClipLoss()(F.normalize(theirs[0], dim=-1), F.normalize(theirs[1], dim=-1), theirs[2].exp())
    torch.testing.assert_close(value, expected, rtol=1e-12, atol=1e-12)
    value.backward()
    expected.backward()
    for mine, ref, name in zip(ours, theirs, ("image_features", "text_features", "logit_scale")):
        torch.testing.assert_close(mine.grad, ref.grad, rtol=1e-10, atol=1e-12, msg=f"gradient of {name}")


def test_clip_loss_equals_loop_version():
    img, txt = randn(6, 5, seed=1), randn(6, 5, seed=2)
    assert clip_loss(img, txt, torch.tensor(2.0, dtype=torch.float64)).item() == pytest.approx(
        loop_clip_loss(img, txt, 2.0), rel=1e-12)


def test_clip_loss_properties():
    img, txt, ls = randn(10, 4, seed=3), randn(10, 4, seed=4), torch.tensor(1.5, dtype=torch.float64)
    base = clip_loss(img, txt, ls)
    torch.testing.assert_close(clip_loss(txt, img, ls), base)  # symmetric in the two modalities
    perm = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(clip_loss(img[perm], txt[perm], ls), base)  # order of the pairs is irrelevant
    torch.testing.assert_close(clip_loss(img * 7, txt * 0.1, ls), base)  # scale of the features is irrelevant
    assert clip_loss(img, img, torch.tensor(math.log(100), dtype=torch.float64)) < 0.05  # aligned pairs: near 0
    torch.testing.assert_close(clip_loss(img, txt, torch.tensor(-50.0, dtype=torch.float64)),
                               torch.tensor(math.log(10), dtype=torch.float64))  # temperature -> inf: ln N
    inputs = [randn(4, 3, seed=5).requires_grad_(), randn(4, 3, seed=6).requires_grad_(),
              torch.tensor(0.7, dtype=torch.float64, requires_grad=True)]
    assert torch.autograd.gradcheck(clip_loss, inputs)


# --- zero-shot classifier -------------------------------------------------------------------------------


def fake_encoder(texts):
    """Deterministic embeddings of different norms for any strings."""
    rows = [randn(5, seed=sum(map(ord, t)) * 31 + len(t)) * (1 + len(t) % 4) for t in texts]
    return torch.stack(rows)


def test_zero_shot_classifier_normalises_each_template_then_the_mean():
    classes, templates = ["circle", "square", "cross"], ["a {}", "a small red {}", "there is a {} here"]
    weights = zero_shot_classifier(fake_encoder, classes, templates)
    assert weights.shape == (3, 5)
    torch.testing.assert_close(weights.norm(dim=-1), torch.ones(3, dtype=torch.float64))
    for c, name in enumerate(classes):
        embs = fake_encoder([t.format(name) for t in templates])
        mean = sum(e / e.norm() for e in embs) / len(templates)
        torch.testing.assert_close(weights[c], mean / mean.norm())
        wrong = embs.mean(0) / embs.mean(0).norm()  # averaged before normalising: a different direction
        assert (weights[c] - wrong).abs().max() > 1e-3
    one = zero_shot_classifier(fake_encoder, classes, ["a {}"])
    torch.testing.assert_close(one, F.normalize(fake_encoder(["a circle", "a square", "a cross"]), dim=-1))


def test_shape_templates_cover_the_nuisance_factors():
    assert len(clip.shape_templates("color")) == 2 * 5 and "a small {} circle" in clip.shape_templates("color")
    assert len(clip.shape_templates("shape")) == 2 * 6 and all(t.count("{}") == 1 for t in clip.shape_templates("size"))
    with pytest.raises(ValueError, match="attribute"):
        clip.shape_templates("count")


# --- retrieval ---------------------------------------------------------------------------------------------


def test_retrieval_recall():
    feats = randn(20, 8, seed=9)
    assert clip.retrieval_recall(feats, feats * 2) == {"image_to_text_R@1": 1.0, "image_to_text_R@5": 1.0,
                                                       "text_to_image_R@1": 1.0, "text_to_image_R@5": 1.0}
    shifted = feats.roll(1, dims=0)  # text i is image i-1's
    assert clip.retrieval_recall(feats, shifted)["image_to_text_R@1"] == 0.0
    groups = torch.zeros(20, dtype=torch.long)  # every caption equally right
    assert clip.retrieval_recall(feats, shifted, groups=groups)["text_to_image_R@1"] == 1.0
    r = clip.retrieval_recall(randn(200, 8, seed=1), randn(200, 8, seed=2), ks=(1, 5))
    assert r["image_to_text_R@1"] < 0.05 and r["image_to_text_R@1"] <= r["image_to_text_R@5"] < 0.1


# --- the open_clip models ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", clip.COURSE_MODELS)
def test_every_course_config_builds_with_open_clip(name):
    import open_clip

    clip.register_configs()
    assert name in open_clip.list_models()
    config = clip.model_config(name)
    model, preprocess, tokenizer = clip.create_clip(name)
    assert type(model) is open_clip.CLIP and type(tokenizer) is open_clip.tokenizer.SimpleTokenizer
    assert model.logit_scale.item() == pytest.approx(math.log(1 / 0.07))
    tokens = tokenizer(["a small red circle", "there is a large blue square left of a small green cross"])
    assert tokens.shape == (2, config["text_cfg"]["context_length"]) and tokens.dtype == torch.long
    x = clip.prepare_images(model, torch.rand(2, 3, 32, 32))
    with torch.no_grad():
        img, txt = model.encode_image(x), model.encode_text(tokens)
    assert img.shape == txt.shape == (2, config["embed_dim"]) and img.dtype == torch.float32


def test_captions_fit_the_tiny_context():
    tokenizer = clip.get_tokenizer("vlc-clip-tiny")
    _, captions = clip.caption_data("train", 2000)
    lengths = [len(tokenizer.encode(c)) + 2 for c in captions]  # + start and end tokens
    assert max(lengths) <= clip.model_config("vlc-clip-tiny")["text_cfg"]["context_length"]


def test_nothing_downloads_by_default(monkeypatch):
    import open_clip.factory
    import open_clip.pretrained

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(open_clip.pretrained, "download_pretrained", refuse)
    monkeypatch.setattr(open_clip.factory, "download_pretrained", refuse, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, _, tokenizer = clip.create_clip("vlc-clip-tiny")
    assert tokenizer(["a red circle"]).shape[0] == 1


@pytest.mark.slow
def test_pretrained_architecture_offline_with_random_weights():
    """ViT-B-32, the pretrained path's architecture, built with pretrained=None: shapes, dtypes, wiring."""
    model, preprocess, tokenizer = clip.create_clip("ViT-B-32", pretrained=None)
    assert model.visual.image_size in (224, (224, 224)) and tokenizer.context_length == 77
    images = torch.rand(2, 3, 32, 32)
    x = clip.prepare_images(model, images)
    assert x.shape == (2, 3, 224, 224)
    feats = clip.encode_images(model, images)
    texts = clip.encode_texts(model, tokenizer, ["a photo of a cat", "a photo of a dog"])
    assert feats.shape == texts.shape == (2, 512) and feats.dtype == torch.float32
    weights = zero_shot_classifier(clip.text_encoder(model, tokenizer), ["cat", "dog"], ["a photo of a {}.", "a {}."])
    assert weights.shape == (2, 512) and clip.classify(feats, weights).shape == (2,)


# --- training ------------------------------------------------------------------------------------------------


def test_training_clamps_the_logit_scale_and_lit_locks_the_image_tower():
    torch.manual_seed(0)
    model, _, tokenizer = clip.create_clip("vlc-clip-tiny")
    images, captions = clip.caption_data("train", 32)
    with torch.no_grad():
        model.logit_scale.fill_(6.0)  # above ln 100
    cfg = TrainConfig(steps=1, lr=1e-3, progress=False)
    clip.train_clip(model, tokenizer, images, captions, cfg, batch_size=8)
    assert model.logit_scale.item() == pytest.approx(math.log(100))

    visual = {k: v.clone() for k, v in model.visual.state_dict().items()}
    text = model.token_embedding.weight.detach().clone()
    model.lock_image_tower(unlocked_groups=0, freeze_bn_stats=False)
    clip.train_clip(model, tokenizer, images, captions, cfg, batch_size=8)
    assert all(torch.equal(v, model.visual.state_dict()[k]) for k, v in visual.items())
    assert not torch.equal(text, model.token_embedding.weight)


def test_fused_optimizer_takes_the_same_steps():
    """The fused AdamW (the lecture's fast path) follows the default one to rounding over a few steps."""
    images, captions = clip.caption_data("train", 32)
    cfg = TrainConfig(steps=3, lr=1e-3, progress=False)
    trained = []
    for fused in (False, True):
        torch.manual_seed(0)
        model, _, tokenizer = clip.create_clip("vlc-clip-tiny")
        start = {k: v.clone() for k, v in model.state_dict().items()}
        history = clip.train_clip(model, tokenizer, images, captions, cfg, batch_size=8, fused_optimizer=fused)
        trained.append((model.state_dict(), history["loss"]))
    (plain, plain_loss), (fused, fused_loss) = trained
    assert fused_loss == pytest.approx(plain_loss, abs=1e-5)
    for name, value in plain.items():
        torch.testing.assert_close(fused[name], value, atol=1e-5, rtol=1e-4, msg=name)
    assert not torch.equal(plain["visual.proj"], start["visual.proj"])  # both really trained
    decay, rest = clip.make_optimizer(clip.create_clip("vlc-clip-tiny")[0], 1e-3, 0.1, fused=True).param_groups
    assert decay["fused"] and decay["weight_decay"] == 0.1 and rest["weight_decay"] == 0.0


@pytest.mark.slow
def test_training_lowers_the_loss_on_a_small_set():
    torch.manual_seed(0)
    model, _, tokenizer = clip.create_clip("vlc-clip-tiny")
    images, captions = clip.caption_data("train", 64)
    history = clip.train_clip(model, tokenizer, images, captions, TrainConfig(steps=40, lr=2e-3, progress=False), 32)
    assert sum(history["loss"][-5:]) / 5 < history["loss"][0] - 0.5


def test_silhouette_pairs_drop_colour_from_image_and_caption():
    images, captions = clip.caption_data("train", 40)
    before = images.clone()
    same_images, same_captions = clip.silhouette_pairs(images, captions, 0.0)
    assert torch.equal(same_images, images) and same_captions == captions
    out, texts = clip.silhouette_pairs(images, captions, 1.0)
    assert torch.equal(images, before), "the input images must not change"
    colours = set(clip.CLIP_SHAPES.colors)
    for caption, text in zip(captions, texts):
        assert not colours & set(text.split()), text
        assert [w for w in caption.split() if w not in colours] == text.split()
    foreground = images.amax(dim=1) > 0  # (N, H, W): the background is black
    assert torch.equal(out, foreground.unsqueeze(1).expand_as(out).float()), "white silhouettes on black"
    half, texts = clip.silhouette_pairs(images, captions, 0.5, seed=3)
    changed = [t != c for t, c in zip(texts, captions)]
    assert 0 < sum(changed) < len(captions)
    assert all(torch.equal(half[i], images[i]) != changed[i] for i in range(len(captions)))


def test_lit_lock_keeps_a_resnet_tower_and_its_batch_norm_statistics():
    torch.manual_seed(0)
    model, _, tokenizer = clip.create_clip(clip.TINY_MODEL)
    images, captions = clip.caption_data("train", 32)
    visual = {k: v.clone() for k, v in model.visual.state_dict().items()}
    assert any("running_mean" in k for k in visual), "the tiny CLIP's image tower is a ResNet with batch norm"
    clip.lock_image_tower(model)
    clip.train_clip(model, tokenizer, images, captions, TrainConfig(steps=2, lr=1e-3, progress=False), batch_size=8)
    after = model.visual.state_dict()  # frozen batch norm keeps no num_batches_tracked counter
    assert set(after) == {k for k in visual if not k.endswith("num_batches_tracked")}
    assert all(torch.equal(v, visual[k]) for k, v in after.items())


def test_tiny_checkpoint_beats_chance():
    entry = read_manifest()["clip_shapes_tiny"]
    assert entry.config["model"] == clip.TINY_MODEL and entry.preset == "tiny"
    model, tokenizer, _ = clip.load_reference("tiny")
    images, labels, vocab = clip.zero_shot_data("heldout", 200)
    feats = clip.encode_images(model, images)
    # Held-out colour x shape pairs: all three attributes well above chance (shape thanks to the ResNet
    # tower and the colour-free silhouette pairs, see vlcourse/clip/train.py).
    for attr, chance in (("shape", 1 / 5), ("color", 1 / 6), ("size", 1 / 2)):
        acc = clip.zero_shot_accuracy(model, tokenizer, images, labels[attr], vocab[attr],
                                      clip.shape_templates(attr, vocab), image_features=feats)
        assert acc > chance + 0.2, f"zero-shot {attr} accuracy {acc:.2f} vs chance {chance:.2f}"
    assert entry.metrics["zero_shot_color"] > 0.9 and entry.metrics["image_to_text_R@5"] > 0.8
