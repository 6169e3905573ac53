"""Hidden tests of assignment 04 (CLIP, LiT and ClipCap). Run by `vlcourse grade`, never shipped to students.

Every expected value is computed on this (trusted) side with the reference in vlcourse.clip and
vlcourse.clipcap; the student's code only runs in its own process, reached through the ``student``
fixture. Models the student's classes are tested inside are built in the runner by
vlcourse.clipcap.probes from plain configs and weights, and their results compared here.
"""

import functools
import math

import pytest
import torch
import torch.nn.functional as F

import vlcourse.clip as refclip
import vlcourse.clipcap as ref
from vlcourse.checkpoints import load_checkpoint
from vlcourse.clip.probes import SeededTextEncoder, reference_text_encoder
from vlcourse.clipcap import probes
from vlcourse.grading.suite.tolerances import assert_close

grade = pytest.mark.grade
F64 = torch.float64


def randn(*shape, seed, dtype=F64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def value_and_grad(student, name, args, wrt):
    return student.lib("vlcourse.grading.suite.probes.value_and_grad")(student.ref(name), list(args), {}, wrt)


def ref_grads(fn, args, wrt):
    args = [a.clone().requires_grad_() if i in wrt else a for i, a in enumerate(args)]
    value = fn(*args)
    grads = torch.autograd.grad(value.sum(), [args[i] for i in wrt])
    return value.detach(), grads


# --- clip_loss (2 points) -------------------------------------------------------------------------------

LOSS_CASES = [(2, 3, 0.0, 1), (8, 16, math.log(1 / 0.07), 2), (33, 7, 4.2, 3), (64, 64, math.log(100), 4), (5, 2, -1.0, 5)]


def loss_case(n, d, scale, seed):
    return randn(n, d, seed=seed), randn(n, d, seed=seed + 100) * 3, torch.tensor(scale, dtype=F64)


@grade(cell="clip_loss", points=0.75, hint="Normalise both feature matrices, logits = logit_scale.exp() * img @ txt.T, average the cross-entropies of the rows and of the columns against the diagonal.")
def test_clip_loss_values(student):
    """equals the reference and open_clip's ClipLoss (on normalised features and exp(logit_scale)) in float64"""
    from open_clip.loss import ClipLoss

    for n, d, scale, seed in LOSS_CASES:
        img, txt, ls = loss_case(n, d, scale, seed)
        got = student.clip_loss(img, txt, ls)
        assert_close(got, refclip.clip_loss(img, txt, ls), what=f"clip_loss with N={n}, D={d}, logit_scale={scale:.2f}")
        assert got.dtype == F64, f"float64 features gave a {got.dtype} loss"
        assert_close(got, ClipLoss()(F.normalize(img, dim=-1), F.normalize(txt, dim=-1), ls.exp()), what="open_clip's ClipLoss")


@grade(cell="clip_loss", points=0.5, hint="Stay differentiable in all three arguments: no .item(), no .detach(), use logit_scale as a tensor.")
def test_clip_loss_gradients(student):
    """gradients with respect to both feature matrices and the logit scale equal the reference's (float64)"""
    for n, d, scale, seed in LOSS_CASES[1:4]:
        args = list(loss_case(n, d, scale, seed))
        value, grads = value_and_grad(student, "clip_loss", args, [0, 1, 2])
        want, want_grads = ref_grads(refclip.clip_loss, args, [0, 1, 2])
        assert_close(value, want)
        for got, expected, name in zip(grads, want_grads, ("image_features", "text_features", "logit_scale")):
            assert got is not None, f"no gradient reached {name}"
            assert_close(got, expected, what=f"gradient of {name}")


@grade(cell="clip_loss", points=0.25, hint="Average both directions: image -> text (rows) and text -> image (columns).")
def test_clip_loss_symmetric(student):
    """swapping the two modalities gives the same loss, the reference's"""
    img, txt, ls = loss_case(12, 5, 2.0, 7)
    swapped = student.clip_loss(txt, img, ls)
    assert_close(swapped, refclip.clip_loss(img, txt, ls), what="clip_loss(text, image)")
    assert_close(student.clip_loss(img, txt, ls), swapped, what="clip_loss(image, text) vs clip_loss(text, image)")


@grade(cell="clip_loss", points=0.25, hint="The features are not normalised when they arrive: L2-normalise each row (F.normalize(x, dim=-1)).")
def test_clip_loss_ignores_feature_norms(student):
    """features of very different norms give the loss of their directions"""
    img, txt, ls = loss_case(10, 6, 1.0, 8)
    scales = torch.linspace(0.1, 20, 10, dtype=F64).view(10, 1)
    assert_close(student.clip_loss(img * scales, txt * scales.flip(0), ls), refclip.clip_loss(img, txt, ls),
                 what="clip_loss of rescaled features")


@grade(cell="clip_loss", points=0.25, hint="Do not modify the features or the scale in place; float32 must work too, and give a float32 loss.")
def test_clip_loss_float32_leaves_inputs(student):
    """float32 inputs give the reference loss (float32 tolerance) as a float32 tensor and are unchanged"""
    img, txt, ls = (t.float() for t in loss_case(16, 8, 2.66, 9))
    value, args, _ = student.lib("vlcourse.grading.suite.probes.call_and_inputs")(student.ref("clip_loss"), [img, txt, ls])
    assert_close(value, refclip.clip_loss(img.double(), txt.double(), ls.double()), "float32")
    assert value.dtype == torch.float32, f"float32 features gave a {value.dtype} loss: keep the features' dtype"
    for got, sent, name in zip(args, (img, txt, ls), ("image_features", "text_features", "logit_scale")):
        assert type(got) is torch.Tensor and torch.equal(got, sent), f"{name} was modified in place"


# --- zero_shot_classifier (1.5 points) -----------------------------------------------------------------

CLASSES = [["circle", "square", "triangle"], ["red", "green", "blue", "yellow", "purple", "cyan"], ["small", "large"]]
TEMPLATES = [["a {}", "a small red {}", "there is a {} here", "an image with a {}"],
             ["a small {} circle", "a large {} cross", "{}"], ["a {} shape"] * 2 + ["one {} thing"]]


def encoder_handle(student, dim=8, seed=0, dtype="float64"):
    return student.lib("vlcourse.clip.probes.SeededTextEncoder").keep(dim, seed, dtype)


@grade(cell="zero_shot_classifier", points=0.75, hint="For each class: fill every template, encode, normalise each embedding, average, normalise the average. Rows in the order of classnames.")
def test_zero_shot_classifier_values(student):
    """the ensembled class embeddings equal the reference's for several class and template lists (float64)"""
    for i, (classes, templates) in enumerate(zip(CLASSES, TEMPLATES)):
        encoder = encoder_handle(student, 8 + i, i)
        got = student.zero_shot_classifier(encoder, classes, templates)
        assert_close(got, refclip.zero_shot_classifier(SeededTextEncoder(8 + i, i), classes, templates),
                     what=f"class embeddings of {classes} with {len(templates)} templates")
        assert got.dtype == F64, f"a float64 encoder gave {got.dtype} rows: keep the encoder's dtype"


@grade(cell="zero_shot_classifier", points=0.25, hint="With one template the class embedding is the normalised embedding of that one prompt; rows have unit norm.")
def test_zero_shot_classifier_one_template(student):
    """one template: each row is the normalised embedding of its prompt"""
    encoder = SeededTextEncoder(5, 3)
    got = student.zero_shot_classifier(encoder_handle(student, 5, 3), ["cross", "diamond"], ["a large {}"])
    assert_close(got, F.normalize(encoder(["a large cross", "a large diamond"]), dim=-1), what="one-template class embeddings")


@grade(cell="zero_shot_classifier", points=0.25, hint="Use the encode_text you are given; it must work with the course's CLIP text tower (float32).")
def test_zero_shot_classifier_with_the_tiny_clip(student):
    """with the tiny CLIP's text tower and the shapes templates, the classifier equals the reference's"""
    encoder = student.lib("vlcourse.clip.probes.reference_text_encoder").keep("tiny")
    vocab = refclip.zero_shot_data("heldout", 1)[2]
    templates = refclip.shape_templates("color", vocab)
    got = student.zero_shot_classifier(encoder, vocab["color"], templates)
    want = computed_once(("tiny clip colour classifier",), lambda: refclip.zero_shot_classifier(
        reference_text_encoder("tiny"), vocab["color"], templates))
    assert_close(got, want, "float32", what="colour classifier of the tiny CLIP")


@grade(cell="zero_shot_classifier", points=0.25, hint="Do not modify classnames or templates; keep the dtype encode_text returns.")
def test_zero_shot_classifier_float32_leaves_inputs(student):
    """a float32 encoder gives float32 rows equal to the reference's; the lists are unchanged"""
    classes, templates = ["circle", "cross"], ["a {}", "a small {}"]
    value, classes_after, templates_after = student.lib("vlcourse.clip.probes.classifier_and_inputs")(
        student.ref("zero_shot_classifier"), encoder_handle(student, 6, 4, "float32"), list(classes), list(templates))
    assert type(value) is torch.Tensor and value.dtype == torch.float32, "keep the encoder's float32 dtype"
    assert_close(value, refclip.zero_shot_classifier(SeededTextEncoder(6, 4), classes, templates), "float32")
    assert classes_after == classes and templates_after == templates, "classnames or templates were modified"


# --- the mappers (1.5 + 2 points) -----------------------------------------------------------------------

MAPPER_CONFIGS = [dict(clip_dim=6, lm_dim=8, prefix_length=3, clip_length=2, num_layers=2, num_heads=2),
                  dict(clip_dim=10, lm_dim=12, prefix_length=5, clip_length=4, num_layers=1, num_heads=3, hidden_dim=7),
                  dict(clip_dim=4, lm_dim=8, prefix_length=1, clip_length=1, num_layers=3, num_heads=4)]
CLASS_OF = {"mlp": "MLPMapper", "transformer": "TransformerMapper"}


def ref_mapper(kind, config, seed):
    torch.manual_seed(seed)
    mapper = getattr(ref, CLASS_OF[kind])(ref.MapperConfig(**config)).double()
    with torch.no_grad():  # biases and constants away from their initial values
        for p in mapper.parameters():
            p.add_(randn(*p.shape, seed=seed + p.numel()) * 0.1)
    return mapper.eval()


def student_mapper(student, kind, config, state, dtype="float64"):
    return student.lib("vlcourse.grading.suite.probes.build_module")(
        student.ref(CLASS_OF[kind]), "vlcourse.clipcap.MapperConfig", config, state, dtype=dtype)


def check_mapper_values(student, kind):
    for i, config in enumerate(MAPPER_CONFIGS):
        mapper = ref_mapper(kind, config, 10 + i)
        handle = student_mapper(student, kind, config, mapper.state_dict())
        x = randn(4, config["clip_dim"], seed=20 + i)
        assert_close(handle(x), mapper(x).detach(), what=f"{CLASS_OF[kind]} with {config}")


def check_mapper_gradients(student, kind):
    config = MAPPER_CONFIGS[0]
    mapper = ref_mapper(kind, config, 30)
    handle = student_mapper(student, kind, config, mapper.state_dict())
    x, weight = randn(3, 6, seed=31), randn(3, 3, 8, seed=32)
    out, arg_grads, param_grads = student.lib("vlcourse.grading.suite.probes.module_value_and_grads")(handle, [x], weight)
    xr = x.clone().requires_grad_()
    (mapper(xr) * weight).sum().backward()
    assert_close(out, mapper(x).detach())
    assert arg_grads[0] is not None, "no gradient reached the CLIP embedding"
    assert_close(arg_grads[0], xr.grad, what="gradient of the CLIP embedding")
    for name, param in mapper.named_parameters():
        assert param_grads.get(name) is not None, f"no gradient reached {name}"
        assert_close(param_grads[name], param.grad, what=f"gradient of {name}")


@functools.lru_cache(maxsize=None)
def trained_pieces():
    """The tiny caption GPT, the CLIP features of 8 validation images, and the tokenizer."""
    lm, tokenizer, entry = ref.load_caption_gpt("tiny")
    clip_model, _, _ = refclip.load_reference("tiny")
    data = ref.caption_data(clip_model, "val", 8, tokenizer=tokenizer)
    return lm, tokenizer, data.features


_computed: dict = {}


def computed_once(key, compute):
    """``compute()``, run once per grading process for each ``key``.

    Reference decoding is the slowest part of grading 04 (beam search without a cache, on the trusted
    side), and the tiny CLIP's classifier the next. Their inputs here are fixed (the course's weights,
    seeded features) or, for the captions of a student's prefix, part of the key (the prefix's bytes):
    a cached answer is the answer.
    """
    if key not in _computed:
        _computed[key] = compute()
    return _computed[key]


def check_trained_mapper_captions(student, kind):
    """The course's trained mapper weights in the student's class: the prefix, and the captions decoded from it."""
    lm, tokenizer, feats = trained_pieces()
    state, entry = load_checkpoint(ref.checkpoint_name(kind, "tiny"))
    mapper, _ = ref.load_mapper(kind, "tiny")
    handle = student_mapper(student, kind, entry.config["mapper"], state, dtype="float32")
    prefix = handle(feats)
    assert_close(prefix, mapper(feats).detach(), "float32", what="prefix of the trained mapper")
    want = computed_once(("trained", kind), lambda: ref.generate_caption(probes.DecodingModel(mapper, lm), feats,
                                                                        tokenizer.eos_id, max_length=20))
    got = computed_once(("prefix", kind, tuple(prefix.shape), str(prefix.dtype), prefix.detach().numpy().tobytes()),
                       lambda: ref.generate_caption(probes.DecodingModel(probes.FixedPrefix(prefix, feats), lm), feats,
                                                    tokenizer.eos_id, max_length=20))
    assert [tokenizer.decode(c) for c in got] == [tokenizer.decode(c) for c in want], "the trained weights give other captions"


@grade(cell="mlp_mapper", points=0.75, hint="fc1 -> tanh -> fc2, then view as (B, prefix_length, lm_dim); fc1 and fc2 are the only parameters.")
def test_mlp_mapper_with_reference_weights(student):
    """reference weights loaded into the student's MLPMapper give the reference prefix (3 configs, float64)"""
    check_mapper_values(student, "mlp")


@grade(cell="mlp_mapper", points=0.5, hint="The course's trained weights must load into your class (names fc1, fc2) and give its prefix.")
def test_mlp_mapper_trained_weights_give_reference_captions(student):
    """the tiny checkpoint's MLP mapper weights in the student's class give the reference captions"""
    check_trained_mapper_captions(student, "mlp")


@grade(cell="mlp_mapper", points=0.25, hint="Stay differentiable: gradients must reach the CLIP embedding and every parameter.")
def test_mlp_mapper_gradients(student):
    """gradients with respect to the input and every parameter equal the reference's"""
    check_mapper_gradients(student, "mlp")


@grade(cell="transformer_mapper", points=0.75, hint="linear -> (B, clip_length, lm_dim); append prefix_const (expanded over the batch) after it; run the blocks; return the last prefix_length positions.")
def test_transformer_mapper_with_reference_weights(student):
    """reference weights loaded into the student's TransformerMapper give the reference prefix (3 configs, float64)"""
    check_mapper_values(student, "transformer")


@grade(cell="transformer_mapper", points=0.5, hint="The course's trained weights must load into your class (linear, prefix_const, blocks) and give its prefix.")
def test_transformer_mapper_trained_weights_give_reference_captions(student):
    """the tiny checkpoint's transformer mapper weights in the student's class give the reference captions"""
    check_trained_mapper_captions(student, "transformer")


@grade(cell="transformer_mapper", points=0.5, hint="Stay differentiable: gradients must reach the CLIP embedding, linear, prefix_const and every block.")
def test_transformer_mapper_gradients(student):
    """gradients with respect to the input and every parameter equal the reference's"""
    check_mapper_gradients(student, "transformer")


INIT_CONFIG = dict(clip_dim=8, lm_dim=128, prefix_length=16, clip_length=2, num_layers=1, num_heads=4)


@grade(cell="transformer_mapper", points=0.25, hint="prefix_const = nn.Parameter(torch.randn(prefix_length, lm_dim)): drawn from a standard normal, not zeros, not uniform, not scaled.")
def test_transformer_mapper_prefix_const_is_standard_normal(student):
    """a freshly built TransformerMapper computes the reference's prefix with its own weights, and its
    prefix_const (16 x 128 values) looks like a standard normal draw: mean ~0, std ~1, ~4.6 % beyond +-2"""
    student.lib("torch.manual_seed")(0)  # the order of the draws is the student's: only the distribution is checked
    handle = student_mapper(student, "transformer", INIT_CONFIG, None)
    state = handle.state_dict()
    assert type(state) is not str and "prefix_const" in state, "the mapper has no prefix_const"
    mapper = ref.TransformerMapper(ref.MapperConfig(**INIT_CONFIG)).double().eval()
    mapper.load_state_dict(state)
    x = randn(3, INIT_CONFIG["clip_dim"], seed=35)
    assert_close(handle(x), mapper(x).detach(), what="a fresh TransformerMapper with its own weights")
    const = state["prefix_const"].double()
    assert tuple(const.shape) == (16, 128), f"prefix_const has shape {tuple(const.shape)}"
    beyond_two = (const.abs() > 2).double().mean().item()
    # 2048 draws: the mean's standard error is 0.022, the std's 0.016, the tail share's 0.0046 (bounds >= 5 of them)
    assert abs(const.mean().item()) < 0.15 and 0.9 < const.std().item() < 1.1 and 0.02 < beyond_two < 0.075, (
        f"prefix_const should be drawn from a standard normal (torch.randn): mean {const.mean().item():.3f}, "
        f"std {const.std().item():.3f}, {beyond_two:.1%} of the values beyond +-2 (a standard normal: 0, 1, 4.6 %)")


# --- ClipCap (2.5 points) -----------------------------------------------------------------------------------

CC_MAPPER = dict(clip_dim=6, lm_dim=8, prefix_length=3)
CC_GPT = dict(vocab_size=12, block_size=24, n_layer=2, n_head=2, n_embd=8)


@functools.lru_cache(maxsize=None)
def clipcap_weights(seed=40):
    torch.manual_seed(seed)
    mapper = probes.LinearMapper(ref.MapperConfig(**CC_MAPPER))
    lm = probes.caption_gpt(CC_GPT, None, "float32")
    return mapper.state_dict(), {k: v for k, v in lm.model.state_dict().items() if k != "lm_head.weight"}


def clipcap_pair(student):
    mapper_state, gpt_state = clipcap_weights()
    handle = student.lib("vlcourse.clipcap.probes.build_clipcap")(student.ref("ClipCap"), CC_MAPPER, mapper_state, CC_GPT, gpt_state, "float64")
    reference = probes.build_clipcap(ref.ClipCap, CC_MAPPER, mapper_state, CC_GPT, gpt_state, "float64")
    return handle, reference


def token_batch():
    tokens = torch.tensor([[5, 6, 7, 8, 2, 0, 0], [9, 2, 0, 0, 0, 0, 0], [3, 4, 5, 6, 7, 8, 2]])
    return tokens, (tokens != 0).long()


def check_outputs(got, want, what):
    assert type(got) in (tuple, list) and len(got) == 2, f"{what}: return (logits, loss)"
    assert_close(got[0], want[0].detach(), what=f"{what}: logits")
    assert_close(got[1], want[1].detach(), what=f"{what}: loss")


@grade(cell="clipcap", points=0.75, hint="Input = cat([prefix, lm.embed(tokens)], dim=1); logits = lm.forward_embeds(input); the logits at P-1 .. P+T-2 predict tokens 0 .. T-1; average the cross-entropy over mask == 1.")
def test_clipcap_logits_and_loss(student):
    """logits and loss equal the reference's with a linear mapper and the course's GPT (float64)"""
    handle, reference = clipcap_pair(student)
    tokens, mask = token_batch()
    for seed in (41, 42):
        feats = randn(3, 6, seed=seed)
        check_outputs(handle(feats, tokens, mask), reference(feats, tokens, mask), "ClipCap forward")
    check_outputs(handle(randn(2, 6, seed=43), tokens[:2, :3], mask[:2, :3]),
                  reference(randn(2, 6, seed=43), tokens[:2, :3], mask[:2, :3]), "ClipCap forward on short captions")


@grade(cell="clipcap", points=0.25, hint="Only tokens with mask == 1 count; what padding holds must not change the loss.")
def test_clipcap_padding_does_not_count(student):
    """changing what padding holds leaves the loss unchanged, and it equals the reference's"""
    handle, reference = clipcap_pair(student)
    tokens, mask = token_batch()
    padded = tokens.clone()
    padded[mask == 0] = 11
    feats = randn(3, 6, seed=44)
    got = handle(feats, padded, mask)
    assert type(got) in (tuple, list) and len(got) == 2, "return (logits, loss)"
    assert_close(got[1], reference(feats, tokens, mask)[1].detach(), what="loss with other padding tokens")


@grade(cell="clipcap", points=0.5, hint="Freeze the language model in __init__ (lm.requires_grad_(False)): a training step must change the mapper only.")
def test_clipcap_step_changes_the_mapper_only(student):
    """one AdamW step over the parameters that require gradients changes the mapper's and nothing else"""
    handle, _ = clipcap_pair(student)
    tokens, mask = token_batch()
    changed = student.lib("vlcourse.clipcap.probes.step_changes")(handle, randn(3, 6, seed=45), tokens, mask)
    assert changed == ["mapper.proj.bias", "mapper.proj.weight"], f"a training step changed {changed}"


@grade(cell="clipcap", points=0.25, hint="In __init__, freeze the language model (lm.requires_grad_(False)) and put it in eval mode (lm.eval()): its dropout must be off.")
def test_clipcap_lm_frozen_and_in_eval_mode(student):
    """given a GPT with dropout in training mode, the new ClipCap's LM has no parameter that requires a
    gradient and no module in training mode, and the forward pass equals the reference's (no dropout)"""
    mapper_state, gpt_state = clipcap_weights()
    gpt_config = dict(CC_GPT, dropout=0.5)
    handle = student.lib("vlcourse.clipcap.probes.build_clipcap")(
        student.ref("ClipCap"), CC_MAPPER, mapper_state, gpt_config, gpt_state, "float64", lm_training=True)
    state = student.lib("vlcourse.clipcap.probes.lm_state")(handle)
    reference = probes.build_clipcap(ref.ClipCap, CC_MAPPER, mapper_state, gpt_config, gpt_state, "float64", lm_training=True)
    tokens, mask = token_batch()
    feats = randn(3, 6, seed=49)
    check_outputs(handle(feats, tokens, mask), reference(feats, tokens, mask), "ClipCap forward (a GPT with dropout 0.5)")
    assert type(state) is dict and state["requires_grad"] == [], f"LM parameters still require a gradient: {state}"
    assert state["training"] == [], f"LM modules left in training mode: {state['training']}"


@grade(cell="clipcap", points=0.5, hint="Use only lm.embed and lm.forward_embeds: the same class must work with Hugging Face's GPT-2.")
def test_clipcap_with_hugging_face_gpt2(student):
    """around a small random Hugging Face GPT-2 the forward pass equals the reference's"""
    config = dict(clip_dim=6, lm_dim=16, prefix_length=2)
    gpt2 = dict(n_layer=2, n_embd=16, n_head=2, vocab_size=12, n_positions=32)
    handle = student.lib("vlcourse.clipcap.probes.gpt2_clipcap")(student.ref("ClipCap"), config, 46, **gpt2)
    reference = probes.gpt2_clipcap(ref.ClipCap, config, 46, **gpt2)
    state = handle.state_dict()
    reference.load_state_dict(state)
    tokens, mask = token_batch()
    feats = randn(3, 6, seed=47)
    check_outputs(handle(feats, tokens, mask), reference(feats, tokens, mask), "ClipCap forward with GPT-2")


@grade(cell="clipcap", points=0.25, hint="Do not modify clip_embed, tokens or mask in place.")
def test_clipcap_leaves_inputs(student):
    """the CLIP embeddings, tokens and mask are unchanged after the forward pass"""
    handle, reference = clipcap_pair(student)
    tokens, mask = token_batch()
    feats = randn(3, 6, seed=48)
    value, args, _ = student.lib("vlcourse.grading.suite.probes.call_and_inputs")(handle, [feats, tokens, mask])
    check_outputs(value, reference(feats, tokens, mask), "ClipCap forward")
    for got, sent, name in zip(args, (feats, tokens, mask), ("clip_embed", "tokens", "mask")):
        assert type(got) is torch.Tensor and torch.equal(got, sent), f"{name} was modified in place"


# --- generate_caption (2.5 points) ---------------------------------------------------------------------------

DEC_MAPPER = dict(clip_dim=6, lm_dim=64, prefix_length=2)


@functools.lru_cache(maxsize=None)
def decoding_weights():
    """A linear mapper (seeded, larger weights so prefixes vary) and the tiny caption GPT's config and weights."""
    torch.manual_seed(50)
    mapper = probes.LinearMapper(ref.MapperConfig(**DEC_MAPPER))
    with torch.no_grad():
        mapper.proj.weight.mul_(20)
    state, entry = load_checkpoint(ref.checkpoint_name("gpt", "tiny"))
    return mapper.state_dict(), entry.config["model"], state


def decoding_pair(student):
    mapper_state, gpt_config, gpt_state = decoding_weights()
    handle = student.lib("vlcourse.clipcap.probes.decoding_model").keep(DEC_MAPPER, mapper_state, gpt_config, gpt_state, "float64")
    return handle, probes.decoding_model(DEC_MAPPER, mapper_state, gpt_config, gpt_state, "float64")


def as_captions(value, what):
    assert type(value) is list and all(type(c) is list for c in value), f"{what}: return a list of lists of token ids"
    return value


@grade(cell="generate_caption", points=0.5, hint="beam_size=1: append the most likely next token (of the logits at the last position) until the end token or max_length; drop the end token.")
def test_generate_greedy_with_the_caption_gpt(student):
    """greedy captions from a linear mapper and the course's caption GPT equal the reference's"""
    handle, reference = decoding_pair(student)
    feats = randn(6, 6, seed=51)
    for max_length in (20, 4):
        got = as_captions(student.generate_caption(handle, feats, 2, max_length=max_length), "greedy")
        want = computed_once(("greedy", max_length), lambda: ref.generate_caption(reference, feats, 2, max_length=max_length))
        assert got == want, f"greedy captions (max_length={max_length})"


@grade(cell="generate_caption", points=0.5, hint="Keep the beam_size best extensions over all live hypotheses by total log-probability; finished ones leave the beam; pick by total / length.")
def test_generate_beam_with_the_caption_gpt(student):
    """beam-search captions (beam 3 and 5) equal the reference's"""
    handle, reference = decoding_pair(student)
    feats = randn(5, 6, seed=52)
    for beam in (3, 5):
        got = as_captions(student.generate_caption(handle, feats, 2, max_length=12, beam_size=beam), f"beam {beam}")
        want = computed_once(("beam", beam), lambda: ref.generate_caption(reference, feats, 2, max_length=12, beam_size=beam))
        assert got == want, f"beam-search captions (beam_size={beam})"


# Ending at once: log 0.45 per token; "a" then the end: (log 0.55 + log 0.7) / 2, better per token, worse in total.
NORMALISED = [[1e-9, 0.45, 0.55, 1e-9], [0.25] * 4, [1e-9, 0.7, 0.3, 1e-9], [0.25] * 4]
# Greedy takes "a" (0.6), which rarely ends; "b" (0.4) then ends with 0.9.
GREEDY_TRAP = [[1e-9, 1e-9, 0.6, 0.4], [0.25] * 4, [1e-9, 0.3, 0.4, 0.3], [1e-9, 0.9, 0.05, 0.05]]


@grade(cell="generate_caption", points=0.5, hint="Rank the final hypotheses by their total log-probability divided by their number of tokens (the end token counted).")
def test_generate_beam_is_length_normalised(student):
    """on a language model with known probabilities, the beam's answer is the best per token, not in total"""
    model = student.lib("vlcourse.clipcap.probes.table_model").keep(NORMALISED)
    got = as_captions(student.generate_caption(model, torch.zeros(2, 1), 1, max_length=5, beam_size=2), "beam")
    assert got == [[2], [2]], f"expected the caption [2] (best per token), got {got}"
    assert got == ref.generate_caption(probes.table_model(NORMALISED), torch.zeros(2, 1), 1, max_length=5, beam_size=2)


# A chain: the start leads to "a" (0.7) or ends (0.3); a -> b -> c -> d -> end, each 0.9, with a 0.06 chance of
# ending early. Per token, the longer the chain the better, so max_length decides the answer, and the early
# endings finish with worse scores than the hypothesis still live when the limit stops the search.
CHAIN = [[1e-9, 0.3, 0.7, 1e-9, 1e-9, 1e-9], [1 / 6] * 6, [1e-9, 0.06, 1e-9, 0.9, 0.04, 1e-9],
         [1e-9, 0.06, 0.04, 1e-9, 0.9, 1e-9], [1e-9, 0.06, 0.04, 1e-9, 1e-9, 0.9], [0.04, 0.9, 0.06, 1e-9, 1e-9, 1e-9]]


@grade(cell="generate_caption", points=0.5, hint="Both modes stop after max_length tokens (the end token counts as one) or when no hypothesis is live; the answer is chosen among the finished AND the live hypotheses.")
def test_generate_stops_at_max_length_in_both_modes(student):
    """greedy and beam search (2, 3) stop after max_length tokens on a known language model and on the caption
    GPT, and the beam's answer may be a hypothesis still live at the limit"""
    model = student.lib("vlcourse.clipcap.probes.table_model").keep(CHAIN)
    reference = probes.table_model(CHAIN)
    for max_length, beam in ((3, 1), (3, 2), (3, 3), (2, 2), (5, 2), (8, 2)):
        got = as_captions(student.generate_caption(model, torch.zeros(1, 1), 1, max_length=max_length, beam_size=beam),
                          f"beam {beam}")
        want = ref.generate_caption(reference, torch.zeros(1, 1), 1, max_length=max_length, beam_size=beam)
        assert got == want, f"max_length={max_length}, beam_size={beam}: expected {want}, got {got}"
    handle, gpt = decoding_pair(student)
    feats = randn(4, 6, seed=54)
    for max_length, beam in ((3, 3), (5, 2)):
        got = as_captions(student.generate_caption(handle, feats, 2, max_length=max_length, beam_size=beam), f"beam {beam}")
        want = computed_once(("chain gpt", max_length, beam),
                            lambda: ref.generate_caption(gpt, feats, 2, max_length=max_length, beam_size=beam))
        assert got == want, (
            f"caption GPT, max_length={max_length}, beam_size={beam}")


@grade(cell="generate_caption", points=0.25, hint="Greedy stops after max_length tokens without an end token; a beam keeps looking past a likely first token; the end token is not part of the caption.")
def test_generate_on_a_known_language_model(student):
    """greedy falls into the trap and stops at max_length; a beam of 2 finds the better caption"""
    model = student.lib("vlcourse.clipcap.probes.table_model").keep(GREEDY_TRAP)
    assert student.generate_caption(model, torch.zeros(1, 1), 1, max_length=3) == [[2, 2, 2]]
    assert student.generate_caption(model, torch.zeros(1, 1), 1, max_length=3, beam_size=2) == [[3]]


@grade(cell="generate_caption", points=0.25, hint="Do not modify clip_embed in place; return plain Python ints.")
def test_generate_leaves_inputs(student):
    """clip_embed is unchanged and the captions are lists of ints equal to the reference's (greedy and beam 2)"""
    handle, reference = decoding_pair(student)
    feats = randn(3, 6, seed=53)
    for beam in (1, 2):
        value, after = student.lib("vlcourse.clipcap.probes.generate_and_inputs")(
            student.ref("generate_caption"), handle, feats, 2, max_length=8, beam_size=beam)
        want = computed_once(("leaves inputs", beam), lambda: ref.generate_caption(reference, feats, 2, max_length=8, beam_size=beam))
        assert value == want, f"captions: {value}"
        assert type(after) is torch.Tensor and torch.equal(after, feats), f"clip_embed was modified in place (beam_size={beam})"
