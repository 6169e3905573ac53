"""Cells of lecture 2, "Joining vision and language" (see build_lectures.py)."""

CELLS = [
("md", "slide", r"""
# Joining vision and language
## Contrastive image–text models, language models that see, and what they learn in context

Lecture 2 of 2 · *Self-supervised and vision-language learning*

Every figure is computed live on the course's small models: a tiny CLIP and a character GPT trained on shapes and Shakespeare.
"""),
("code", "skip", r"""
# Setup (hidden in the slides). VLCOURSE_BUDGET=quick makes every demo run in seconds.
import time
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from vlcourse.budget import budget, current_budget
from vlcourse.lectures.plots import flow_diagram, image_text_grid

torch.set_num_threads(1)
torch.manual_seed(0)
plt.rcParams.update({"figure.figsize": (8, 3.4), "figure.dpi": 90, "axes.spines.top": False, "axes.spines.right": False})
DEMO_SECONDS = {}
print("budget:", current_budget())
"""),
("md", "slide", r"""
## Learning outcomes (both lectures)

1. Present and explain the key recent works in large-scale vision-language learning.
2. Say what older and newer vision-language methods share with self-supervised learning, and where they differ.
3. **Describe in-context learning**, and how it is measured.
4. Read a paper that joins a pretrained language model to visual inputs and judge its claims.
5. Call large language models through an API from your own code.
"""),
("md", "slide", r"""
## Why pair images with text?

* Deep learning eats whatever the internet has: images, text, speech, video (frames + audio + transcripts), 3D, …
* Pairs come for free: photos with captions or alt-text, videos with speech.
* Text acts like an **augmentation** of the image — another view of the same content — and it can be very
  detailed (Localized Narratives: 850k images described while pointing, Pont-Tuset et al. 2020).
* Above all, **language is a universal interface**: tasks can be posed and answered in it, humans can read it,
  and language models already learn new tasks from a few examples.
"""),
# ---------------------------------------------------------------- CLIP
("md", "slide", r"""
## CLIP: SimCLR across two modalities

Radford et al., *Learning Transferable Visual Models From Natural Language Supervision*, ICML 2021.

Where SimCLR pairs two augmentations of one image, CLIP pairs **an image with its caption**.
An image tower and a text tower embed a batch of $N$ pairs; with unit vectors $u_i, v_j$ and a learnt temperature,

$$\mathcal{L} = \tfrac{1}{2}\Big[\mathrm{CE}\big(\mathrm{softmax}_j(u_i^\top v_j/\tau),\, i\big) + \mathrm{CE}\big(\mathrm{softmax}_i(u_i^\top v_j/\tau),\, j\big)\Big]$$

The recipe is simple; the strength is in 400M web pairs. (Earlier: VirTex, Desai & Johnson 2021, learnt from captions by generating them.)
"""),
("code", "subslide", r"""
# Demo: the course's tiny CLIP (assignment 4) on 8 shapes images and their captions
from vlcourse.clip import load_reference as load_clip, encode_images, encode_texts
from vlcourse.clip.train import caption_data, zero_shot_data
t0 = time.time()
clip, clip_tok, _ = load_clip("tiny")
imgs, caps = caption_data("val", num=8)
sim = F.normalize(encode_images(clip, imgs), dim=1) @ F.normalize(encode_texts(clip, clip_tok, caps), dim=1).T
fig, ax = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 1.3]})
grid = imgs.permute(0, 2, 3, 1).reshape(2, 4, 32, 32, 3).permute(0, 2, 1, 3, 4).reshape(64, 128, 3)  # 2 rows of 4
ax[0].imshow(grid); ax[0].axis("off"); ax[0].set_title("images 0-3 (top), 4-7 (bottom)")
ax[1].imshow(sim, cmap="viridis"); ax[1].set(xlabel="caption", ylabel="image", title="cosine similarity: the diagonal wins")
print("\n".join(f"{i}: {c}" for i, c in enumerate(caps[:4])))
DEMO_SECONDS["CLIP similarity"] = time.time() - t0
"""),
("md", "subslide", r"""
### Zero-shot classification

No classifier is trained: write one prompt per class ("a small red circle", …), embed the prompts with the
text tower, and give each image the class whose prompt is nearest. Averaging over several prompts per
class (a prompt *ensemble*) helps.

Our test: colour × shape combinations **never seen in training**.
"""),
("code", "fragment", r"""
from vlcourse.clip import shape_templates, zero_shot_accuracy
t0 = time.time()
zs_imgs, zs_labels, vocab = zero_shot_data("heldout", num=budget(full=500, quick=150, grade=50))
accs = {a: zero_shot_accuracy(clip, clip_tok, zs_imgs, zs_labels[a], vocab[a], shape_templates(a, vocab))
        for a in ["color", "size", "shape"]}
plt.bar(list(accs), list(accs.values()), label="tiny CLIP")
plt.scatter(list(accs), [1 / len(vocab[a]) for a in accs], color="k", marker="_", s=2000, label="chance")
plt.ylim(0, 1); plt.ylabel("zero-shot accuracy"); plt.legend(); plt.title("held-out colour x shape pairs")
DEMO_SECONDS["zero-shot"] = time.time() - t0
"""),
("md", "subslide", r"""
Colour and size are easy for this tiny CLIP; shape is much harder (compare its bar with chance). It only learnt shape
at all as a small ResNet trained with colour-free silhouettes among its pairs. A zero-shot classifier is only as good
as what the two towers agree on.
"""),
("md", "slide", r"""
## LiT: which tower should adapt?

Zhai et al., *LiT: Zero-Shot Transfer with Locked-image text Tuning*, CVPR 2022.

Take a strong pretrained image model, **lock** it, and train only the text tower contrastively to match it.
Locking the image side works better than tuning both: the image features stay as good as they were,
the text side learns to read them. Image embeddings can be computed once, so even a 22B-parameter ViT
(Dehghani et al. 2023) is affordable.
"""),
("code", "subslide", r"""
def count(module, trainable_only=False):
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
image_tower, all_params = count(clip.visual), count(clip)
flow_diagram(["image", f"image tower\n{image_tower/1e3:.0f}k params\nLOCKED", "image\nembedding", "contrastive\nloss",
              "text\nembedding", f"text tower\n{(all_params - image_tower)/1e3:.0f}k params\ntrained", "caption"],
             frozen=[1], title="LiT on our tiny CLIP: only the text side receives gradients")
"""),
# ---------------------------------------------------------------- Socratic
("md", "slide", r"""
## Combining a language model with CLIP

CLIP understands images and text; GPT-3 writes text. They can talk **through language**.

* **Socratic Models** (Zeng et al. 2022): the LM proposes candidate captions, CLIP picks the one that fits the image best.
* **Classification by description** (Menon & Vondrick, ICLR 2023): ask the LM what a class looks like
  ("a tiger: orange fur, black stripes"), then let CLIP score those descriptions; TeachText (Croitoru et al. 2021)
  distils several text experts in a similar spirit.
"""),
("code", "subslide", r"""
# Demo: "LM" proposes every caption our grammar allows; CLIP chooses (on held-out colour x shape pairs)
from itertools import product
t0 = time.time()
candidates = [f"a {s} {c} {h}" for s, c, h in product(vocab["size"], vocab["color"], vocab["shape"])]
cand_emb = F.normalize(encode_texts(clip, clip_tok, candidates), dim=1)
img_emb = F.normalize(encode_images(clip, zs_imgs), dim=1)
picked = [candidates[j] for j in (img_emb @ cand_emb.T).argmax(1).tolist()]
truth = [f"a {vocab['size'][s]} {vocab['color'][c]} {vocab['shape'][h]}"
         for s, c, h in zip(zs_labels["size"].tolist(), zs_labels["color"].tolist(), zs_labels["shape"].tolist())]
image_text_grid(zs_imgs[:6], [f"CLIP picks: {p}" for p in picked[:6]],
                title=f"{len(candidates)} candidates; exact caption right for {np.mean([p == t for p, t in zip(picked, truth)]):.0%}")
"""),
("code", "skip", r"""
DEMO_SECONDS["Socratic"] = time.time() - t0
"""),
# ---------------------------------------------------------------- web data
("md", "slide", r"""
## Web data is noisy: ALIGN, Conceptual Captions, LAION

* **ALIGN** (Jia et al., ICML 2021): 1.8B pairs with light filters — drop small images, alt-texts shared by more
  than 10 images ("1920x1080"), texts too short or too long. Trained on 1024 TPU cores, batch 16,384.
* **Conceptual Captions** (Sharma et al. 2018; CC12M, Changpinyo et al. 2021): strict text rules (distinct words,
  little repetition, looks like a sentence, objects detected), ~3 % survives; names replaced by hypernyms ("actor").
* **LAION-5B** (Schuhmann et al., NeurIPS 2022): Common Crawl, kept when **CLIP** scores image and text as similar
  (≈90 % removed), plus NSFW and watermark tags. Stable Diffusion was trained on it.
"""),
("code", "subslide", r"""
# Demo: a deliberately noisy image / alt-text set built from shapes (vlcourse.lectures.webdata)
from vlcourse.lectures.webdata import noisy_alt_text, align_filter, cc_filter, clip_scores, laion_filter, filter_report, NOISE_KINDS
t0 = time.time()
pairs = noisy_alt_text(budget(full=2000, quick=2000, grade=200), clean_fraction=0.25, seed=0)   # 3 in 4 pairs are noise
image_text_grid(pairs.images[:12], [f"[{k}] {t}" for k, t in zip(pairs.kind[:12], pairs.texts[:12])],
                title="only [clean] pairs describe their image")
"""),
("code", "subslide", r"""
scores = clip_scores(encode_images(clip, pairs.images), encode_texts(clip, clip_tok, pairs.texts))
for kind in NOISE_KINDS:
    plt.hist(scores[[k == kind for k in pairs.kind]].numpy(), bins=30, range=(-1, 1), alpha=0.6, label=kind)
plt.axvline(0.5, color="k", ls="--"); plt.text(0.52, plt.ylim()[1] * 0.9, "threshold")
plt.xlabel("CLIP score (cosine of image and its alt-text)"); plt.legend(fontsize=8); plt.title("LAION's filter, with our tiny CLIP")
"""),
("code", "subslide", r"""
from IPython.display import Markdown
rules = {"ALIGN": align_filter(pairs), "CC": cc_filter(pairs), "LAION (CLIP >= 0.5)": laion_filter(scores, 0.5)}
rules["all three"] = rules["ALIGN"] & rules["CC"] & rules["LAION (CLIP >= 0.5)"]
DEMO_SECONDS["web-data filters"] = time.time() - t0
lines = ["| filter | kept | precision (clean among kept) | recall (clean kept) |", "|---|---|---|---|"]
for name, keep in rules.items():
    r = filter_report(keep, pairs.is_clean)
    lines.append(f"| {name} | {r['kept']:.0%} | {r['precision']:.0%} | {r['recall']:.0%} |")
Markdown("\n".join(lines) + f"\n\n{pairs.is_clean.float().mean():.0%} of the {len(pairs)} pairs are clean.")
"""),
("md", "subslide", r"""
### Reading the table

* Each filter catches **different** noise: ALIGN's rules catch boilerplate and tiny images, CC's text rules catch spam,
  only CLIP catches a good caption on the **wrong** image.
* CLIP filtering lets most tiny images through (about two in three here): its score looks at content, not quality.
* Strict rules also throw away good data (recall < 1): CC keeps ~3 % of what it sees.
"""),
("md", "subslide", r"""
### Does filtering help a CLIP learn?

The table says what each filter keeps. What matters is the model trained on it: train a **fresh** small CLIP
(`vlc-clip-tiny`, a ViT that trains fast, with `vlcourse.clip.train_clip`) on each filter's pairs, **the same number of steps**
for every filter and several seeds, then classify held-out colour × shape images zero-shot.

We measure **colour** and **size**, which this small CLIP learns in about a hundred steps; it does not learn shape in
seconds, so shape would show nothing either way. LAION's filter scores the pairs with the course's reference CLIP.
"""),
("code", "fragment", r"""
# Demo: one small CLIP per filter and seed, trained from scratch on the kept pairs (vlcourse.lectures.webdata)
from vlcourse.lectures.webdata import FilterTraining, zero_shot_after_filtering, beyond_seed_noise
t0 = time.time()
subsets = {"no filter": torch.ones(len(pairs), dtype=torch.bool), "ALIGN": rules["ALIGN"], "CC": rules["CC"],
           "LAION": rules["LAION (CLIP >= 0.5)"], "all three": rules["all three"], "clean only": pairs.is_clean}
subsets = {name: subsets[name] for name in budget(full=list(subsets), quick=["no filter", "CC", "LAION"], grade=["no filter", "LAION"])}
train_cfg = FilterTraining(steps=budget(full=100, quick=100, grade=10), batch_size=budget(full=64, quick=32, grade=32),
                           seeds=budget(full=(0, 1, 2, 3, 4), quick=(0, 1, 2), grade=(0, 1)))  # torch's threads: every core unless OMP_NUM_THREADS says fewer
zs_filtered = zero_shot_after_filtering(pairs, subsets, train_cfg)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
for ax, attr in zip(axes, train_cfg.attributes):
    for i, runs in enumerate(zs_filtered[name][attr] for name in subsets):
        ax.bar(i, np.mean(runs), color="C3" if i == 0 else "C0", alpha=0.6)
        ax.scatter([i] * len(runs), runs, color="k", s=12, zorder=3)
    ax.axhline(1 / len(vocab[attr]), color="grey", ls="--", label="chance")
    ax.set_xticks(range(len(subsets)), [f"{n}\n{filter_report(k, pairs.is_clean)['kept']:.0%} kept" for n, k in subsets.items()], fontsize=8)
    ax.set(ylim=(0, 1.02), title=f"zero-shot {attr}: bars the mean, dots the seeds"); ax.legend(fontsize=8)
axes[0].set_ylabel(f"accuracy after {train_cfg.steps} steps")
DEMO_SECONDS["filtering and zero-shot"] = time.time() - t0
"""),
("code", "fragment", r"""
baseline = zs_filtered["no filter"]
lines = ["| trained on | " + " | ".join(f"zero-shot {a}: mean (seeds)" for a in train_cfg.attributes) + " |", "|---|---|---|"]
for name, accs in zs_filtered.items():
    cells = []
    for attr, runs in accs.items():
        verdict = "" if name == "no filter" else (" **beyond seed noise**" if beyond_seed_noise(runs, baseline[attr]) else " within seed noise")
        cells.append(f"{np.mean(runs):.2f} (" + " / ".join(f"{a:.2f}" for a in runs) + ")" + verdict)
    lines.append(f"| {name} | " + " | ".join(cells) + " |")
filters = [n for n in zs_filtered if n != "no filter"]
apart = [f"{a} vs {b} ({attr})" for i, a in enumerate(filters) for b in filters[i + 1:] for attr in train_cfg.attributes
         if beyond_seed_noise(zs_filtered[a][attr], zs_filtered[b][attr])]
Markdown("\n".join(lines) + f"\n\n{len(train_cfg.seeds)} seeds, {train_cfg.steps} steps of {train_cfg.batch_size} pairs each; "
         "compared with no filter by a two-sided t-test at 5 % over the seeds. "
         f"Filter against filter, beyond seed noise: {', '.join(apart) or 'none'}.")
"""),
("md", "subslide", r"""
### What the small CLIPs show

* Colour is learnt in a sudden jump whose timing depends on the seed, so one run per filter would mislead: read the
  seeds and the test. With 40 % clean pairs instead of 25 %, one unfiltered seed in four did learn colour in 100
  steps (0.91): noise slows learning down and makes it unreliable, it does not forbid it.
* No single kind of noise is to blame: dropping only the spam, only the mismatched captions or only the boilerplate
  still leaves colour near chance at 100 steps (measured, two seeds each: 0.21 / 0.19, 0.02 / 0.28, 0.00 / 0.02).
  Each filter removes several kinds at once and lifts the clean share from a quarter to about a half.
* Filtering buys **speed** at our scale: with four times the steps (400), the unfiltered CLIP also reads colour
  (measured, two seeds: 0.96 / 0.94; LAION-filtered 1.00 / 0.99, within noise by the t-test). At web scale compute is the
  limit, and DataComp (Gadre et al. 2023) finds filtered pools win at a fixed compute budget.
"""),
("md", "subslide", r"""
### Privacy and consent

Web-scale sets are scraped without asking the people in the pictures or their authors.
LAION was found to contain private medical photos (Ars Technica, 2022) and personal data; filtering by CLIP score or
NSFW tags does not remove them. Whoever trains on such data inherits the problem.
"""),
# ---------------------------------------------------------------- CoCa
("md", "slide", r"""
## CoCa: contrastive and captioning in one model

Yu et al., *CoCa: Contrastive Captioners are Image-Text Foundation Models*, TMLR 2022.

The text decoder's first half runs **without** the image (unimodal, giving the text embedding for the contrastive loss);
its second half cross-attends to the image tokens and generates the caption autoregressively from a [start] token:

$$\mathcal{L}_{\text{CoCa}} = \lambda_{\text{con}}\,\mathcal{L}_{\text{con}} + \lambda_{\text{cap}}\,\mathcal{L}_{\text{cap}}$$
"""),
("code", "subslide", r"""
# open_clip ships CoCa configurations; read one (no weights are downloaded)
import open_clip
cfg = open_clip.get_model_config("coca_ViT-B-32")
print([m for m in open_clip.list_models() if "coca" in m])
print("image tower:", {k: cfg["vision_cfg"][k] for k in ("layers", "width", "patch_size")})
print("unimodal text layers:", cfg["text_cfg"]["layers"], "| multimodal (cross-attending) layers:", cfg["multimodal_cfg"]["layers"])
"""),
# ---------------------------------------------------------------- ClipCap
("md", "slide", r"""
## ClipCap: CLIP prefix for captioning (recap of assignment 4)

Mokady et al. 2021. A mapping network turns the CLIP image embedding into a few "word embeddings" — a
**prefix** — for GPT-2, which then writes the caption. GPT-2 can be frozen (train only the mapper) or tuned.
"""),
("code", "fragment", r"""
flow_diagram(["image", "CLIP image\nencoder\n(frozen)", "mapping network\n(MLP or\nTransformer)", "prefix:\nk embeddings",
              "GPT-2\n(frozen)", "caption"], frozen=[1, 4])
"""),
("md", "subslide", r"""
### Two questions

**Why not GPT-3?** Training backpropagates through the language model at every step, so its weights must be at hand
and the forward passes affordable; GPT-2 also writes short captions well enough.

**Why is "transformer mapper + frozen GPT-2" attractive?** The language model cannot forget what it knew (no
catastrophic forgetting), only the small mapper is trained, and the mapper's size does not depend on the LM's.
"""),
# ---------------------------------------------------------------- BLIP
("md", "slide", r"""
## BLIP: three losses and a data bootstrap

Li et al., *BLIP: Bootstrapping Language-Image Pre-training for Unified Vision-Language Understanding and Generation*, ICML 2022.

* **ITC** — image–text contrastive: CLIP's loss.
* **ITM** — image–text matching: a binary "do these match?" head. Its negatives are **hard**: for each image, a text
  sampled with probability $\propto \exp(\mathrm{sim})$ among the *other* captions — wrong, but close.
* **LM** — a decoder writes the caption given the image.

One model, three uses: retrieval (ITC), re-ranking (ITM), captioning (LM).
"""),
("code", "subslide", r"""
# Demo: BLIP's hard negatives, chosen by our tiny CLIP in a batch of 64
from vlcourse.lectures.blip import hard_negative_indices, capfilt, attribute_words
t0 = time.time()
b_imgs, b_caps = caption_data("val", num=64)
s = F.normalize(encode_images(clip, b_imgs), dim=1) @ F.normalize(encode_texts(clip, clip_tok, b_caps), dim=1).T  # (64, 64)
gen = torch.Generator().manual_seed(0)
hard = hard_negative_indices(s / 0.05, gen)
rand = (torch.arange(64) + torch.randint(1, 64, (64,), generator=gen)) % 64
image_text_grid(b_imgs[:3], [f"true: {b_caps[i]}\nhard negative: {b_caps[hard[i]]}\nrandom negative: {b_caps[rand[i]]}"
                              for i in range(3)], ncols=3, max_lines=3, width=34)
"""),
("code", "fragment", r"""
print(f"mean similarity to the image: true {s.diag().mean():.2f} | hard negative {s[torch.arange(64), hard].mean():.2f} | random negative {s[torch.arange(64), rand].mean():.2f}")
DEMO_SECONDS["BLIP hard negatives"] = time.time() - t0
"""),
("md", "subslide", r"""
### CapFilt: bootstrap the captions

A **captioner** writes a synthetic caption for every web image; a **filter** (the ITM head) removes web texts
and synthetic captions that do not match. Train the next model on what remains.
"""),
("code", "fragment", r"""
# Captioner: CLIP picks the best caption our grammar allows (the Socratic captioner above); filter: CLIP score >= 0.5
t0 = time.time()
web_ok = torch.tensor([k in ("clean", "small image") for k in pairs.kind])  # the alt-text is a true caption
img_emb = F.normalize(encode_images(clip, pairs.images), dim=1)
synthetic = [candidates[j] for j in (img_emb @ cand_emb.T).argmax(1).tolist()]
syn_scores = (img_emb * F.normalize(encode_texts(clip, clip_tok, synthetic), dim=1)).sum(1)
syn_ok = torch.tensor([t[2:] in c for t, c in zip(synthetic, pairs.canonical)])  # names an object really there
keep_web, keep_syn = capfilt(scores, syn_scores, 0.5)
rows = {"web only": (len(pairs), web_ok.float().mean()),
        "web, filtered": (int(keep_web.sum()), web_ok[keep_web].float().mean()),
        "filtered web + filtered synthetic": (int(keep_web.sum() + keep_syn.sum()),
                                              torch.cat([web_ok[keep_web], syn_ok[keep_syn]]).float().mean())}
fig, ax = plt.subplots(figsize=(9, 2.6))
ax.barh(list(rows), [v[1] for v in rows.values()]); ax.set_xlim(0, 1); ax.set_xlabel("share of correct captions")
ax.set_title(f"our captioner names the right object for only {syn_ok.float().mean():.0%} of images")
for i, (n, acc) in enumerate(rows.values()): ax.text(0.02, i, f"{n} pairs", va="center", color="w")
DEMO_SECONDS["CapFilt"] = time.time() - t0
"""),
("md", "subslide", r"""
### What the CapFilt demo shows

* The filter alone raises the share of correct captions a lot — at the price of discarding many pairs.
* The synthetic captions add pairs, but only as good as the captioner: ours reads shape poorly (see the figure's
  title), and the filter, the same CLIP, cannot catch the mistakes it shares. BLIP's captioner and filter are fine-tuned on human-annotated
  COCO captions, which is what makes the bootstrap work.
"""),
("md", "subslide", r"""
## BLIP-2: query a frozen image encoder

Li et al., *BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image Encoders and Large Language Models*, 2023.

Both the image encoder and the LLM (OPT, Flan-T5) stay frozen. A small **Q-Former** with 32 learnt queries
cross-attends to the image features (stage 1: trained with BLIP's three losses) and its outputs become soft
prompts for the LLM (stage 2: trained to caption). The queries turn any image into a **fixed** number of tokens —
the same trick as Flamingo's resampler (demo below).
"""),
# ---------------------------------------------------------------- VQA
("md", "slide", r"""
## VQA and VisDial: can it answer without looking?

Antol et al., *VQA: Visual Question Answering*, ICCV 2015; Das et al., *Visual Dialog*, CVPR 2017.

Many questions can be answered from the **question alone**: "Is there a …?" is usually "yes" (people ask about what
they see), "What colour are the bananas?" is usually "yellow". Goyal et al. (*Making the V in VQA Matter*, CVPR 2017)
pair each question with a similar image whose answer differs: **VQA v2**, balanced.
"""),
("code", "subslide", r"""
# Demo: a blind baseline (the most common answer to each question text) on shapes questions
from vlcourse.data.shapes import ShapesConfig, generate_shapes
from vlcourse.lectures.vqa import make_questions, BlindBaseline, accuracy_by_kind
t0 = time.time()
scenes = generate_shapes(ShapesConfig(num_samples=2000, seed=1))
results = {}
for name, balanced in [("as people ask (v1-like)", False), ("balanced (v2-like)", True)]:
    train, test = make_questions(scenes, 3000, balanced, seed=0), make_questions(scenes, 1000, balanced, seed=1)
    results[name] = accuracy_by_kind(BlindBaseline().fit(train), test)
print(*[q.text + " -> " + q.answer for q in make_questions(scenes, 3, False, seed=2)], sep="\n")
kinds = list(next(iter(results.values())))
for i, (name, accs) in enumerate(results.items()):
    plt.bar(np.arange(len(kinds)) + 0.4 * i, [accs[k] for k in kinds], width=0.4, label=name)
plt.xticks(np.arange(len(kinds)) + 0.2, kinds); plt.ylim(0, 1); plt.ylabel("accuracy without the image"); plt.legend()
DEMO_SECONDS["VQA blind baseline"] = time.time() - t0
"""),
# ---------------------------------------------------------------- Flamingo
("md", "slide", r"""
## Flamingo: teach a frozen LM to look

Alayrac et al., *Flamingo: a Visual Language Model for Few-Shot Learning*, NeurIPS 2022.

* A frozen LLM (Chinchilla) and a frozen contrastive image encoder.
* New **gated cross-attention** layers between the LM's blocks: $x \leftarrow x + \tanh(\alpha)\,\mathrm{XAttn}(x, \text{visual})$,
  with $\alpha = 0$ at the start — so at initialisation the model **is** the frozen LM.
* A **Perceiver resampler** turns any number of visual features (frames × patches) into a fixed 64 tokens.
* Trained on 43M web pages with interleaved images and text, ALIGN's pairs and 27M videos; very strong few-shot results.
"""),
("code", "subslide", r"""
# Demo: our frozen Shakespeare GPT with a gated cross-attention layer before each block
from vlcourse.gpt import load_reference as load_gpt
from vlcourse.lectures.flamingo import FlamingoGPT, PerceiverResampler
t0 = time.time()
gpt, tok, _ = load_gpt("tiny")
flamingo = FlamingoGPT(gpt).eval()
idx = torch.tensor([tok.encode("ROMEO:\nI pray thee, good friar")])
resampler = PerceiverResampler(gpt.config.n_embd, num_latents=8)
visual = resampler(torch.randn(1, 49, gpt.config.n_embd))            # 49 "patch features" -> 8 tokens
alphas, diffs = np.linspace(0, 1, 11), []
with torch.no_grad():
    frozen_logits = gpt(idx)[0]
    for a in alphas:
        for layer in flamingo.xattn: layer.alpha_attn.fill_(a); layer.alpha_ffw.fill_(a)
        diffs.append((flamingo(idx, visual) - frozen_logits).abs().max().item())
print(f"alpha = 0: max |logits - frozen LM logits| = {diffs[0]}")
plt.plot(alphas, diffs, "o-"); plt.xlabel("gate parameter alpha (tanh(alpha) multiplies the new layers)")
plt.ylabel("max change in the LM's logits"); plt.title("at alpha = 0 the frozen LM is exactly unchanged")
DEMO_SECONDS["Flamingo gates"] = time.time() - t0
"""),
("code", "subslide", r"""
ms = [1, 4, 16, 49, 196, 1000]
outs = [resampler(torch.randn(1, m, gpt.config.n_embd)).shape[1] for m in ms]
plt.plot(ms, ms, "--", color="grey", label="tokens in (frames x patches)"); plt.plot(ms, outs, "o-", label="tokens out of the resampler")
plt.xscale("log"); plt.yscale("log"); plt.legend(); plt.title("the Perceiver resampler always hands the LM 8 tokens")
"""),
# ---------------------------------------------------------------- Frozen / FROMAGe / Kosmos
("md", "slide", r"""
## Frozen: few-shot learning across modalities

Tsimpoukelli et al., *Multimodal Few-Shot Learning with Frozen Language Models*, NeurIPS 2021.

Train only an image encoder whose output is a prefix for a frozen LM (like ClipCap). Then test **open-ended
few-shot** learning: the prompt interleaves images and text ("this is a dax. [img] this is a blicket. [img] this is a"),
and the model must bind a new word to a picture **within one forward pass** (*fast binding*).

Made-up words worked better than real class names for their ImageNet test — the names' prior meaning gets in the way.
(For their VQA, blind baselines again scored well above zero.)
"""),
("code", "subslide", r"""
# Demo: fast binding in its simplest form, nearest support image in tiny-CLIP space (vlcourse.lectures.binding)
from vlcourse.lectures.binding import episode_accuracy
t0 = time.time()
f_imgs, f_labels, _ = zero_shot_data("val", num=300)
feats = encode_images(clip, f_imgs)
episodes = budget(full=500, quick=100, grade=20)
for attr in ["color", "shape"]:
    accs = [episode_accuracy(feats, f_labels[attr], ("dax", "blicket"), shots, episodes) for shots in (1, 2, 4)]
    plt.plot([1, 2, 4], accs, "o-", label=f"dax/blicket = two {attr}s")
plt.axhline(0.5, color="grey", ls="--", label="chance"); plt.ylim(0.4, 1.02); plt.xlabel("support images per word")
plt.ylabel("query named correctly"); plt.legend(); plt.title("binding is only as good as the features")
DEMO_SECONDS["Frozen binding"] = time.time() - t0
"""),
("md", "subslide", r"""
## FROMAGe and Kosmos-1: images in, images out

* **FROMAGe** (Koh et al., *Grounding Language Models to Images for Multimodal Generation*, 2023): a frozen LLM
  learns one new token, **[RET]**, appended to captions. Its hidden state is mapped into CLIP space to **retrieve
  an image**; trained with captioning (like ClipCap) and contrastive retrieval (like BLIP's ITC), and with two
  samples concatenated half of the time so that longer multimodal context helps retrieval.
* **Kosmos-1** (Huang et al. 2023): one LM trained from scratch on **interleaved** web text and images, image
  embeddings placed inline between `<image>` … `</image>` tokens.
"""),
("code", "fragment", r"""
# What FROMAGe adds to our GPT: one token row and two small linear maps; everything else frozen
C, clip_dim = gpt.config.n_embd, clip.text_projection.shape[1]
new = {"[RET] embedding": C, "LM -> retrieval space": C * clip_dim, "image -> LM input": clip_dim * C}
flow_diagram(["text ... [RET]", f"frozen GPT\n{count(gpt)/1e3:.0f}k params", "hidden state\nof [RET]",
              f"linear map\n{C}x{clip_dim}", "nearest CLIP\nimage embedding"], frozen=[1],
             title=f"FROMAGe on our GPT: {sum(new.values()):,} new parameters")
"""),
# ---------------------------------------------------------------- emergence / ICL
("md", "slide", r"""
## In-context learning and "emergence"

Wei et al., *Emergent Abilities of Large Language Models*, TMLR 2022: an ability is **emergent** if it is absent
in smaller models and present in larger ones — a jump, not a trend.

But watch the metric. Many benchmarks use **exact string match** ("a panda" ≠ "a panda bear"). If each of $k$
answer tokens is right with probability $p$, exact match scores $p^k$ (Schaeffer et al. 2023, *Are Emergent Abilities
a Mirage?*).
"""),
("code", "subslide", r"""
from vlcourse.lectures.emergence import per_token_accuracy, exact_match
scale = np.linspace(6, 12, 200)                       # log10 parameters
p = per_token_accuracy(scale)
plt.plot(10 ** scale, p, lw=3, label="per-token accuracy (smooth)")
for k in (3, 10, 30):
    plt.plot(10 ** scale, exact_match(p, k), label=f"exact match, {k}-token answer")
plt.xscale("log"); plt.xlabel("model parameters"); plt.ylabel("score"); plt.legend(fontsize=8)
plt.title("one smooth improvement, two stories")
"""),
("md", "subslide", r"""
### In context: what the experiments say

* Frozen, Flamingo and FROMAGe were not trained *for* in-context learning; much of it comes from the language model
  (and web pages full of example-like text). So studying LMs pays off.
* **Larger LMs do ICL differently** (Wei et al. 2023): only large models follow flipped or nonsense labels given in
  the prompt, overriding what they knew — the authors call it emergent; the same paper counts every GPT-3 as "small".
* **Kirsch et al. 2022** (*General-Purpose In-Context Learning by Meta-Learning Transformers*): train a Transformer on
  many generated tasks (e.g. MNIST with permuted pixels and labels); beyond a certain **number of tasks** it stops
  memorising and learns to learn in context — what matters is task count and state size, not parameter count.
"""),
("code", "subslide", r"""
# Demo (vlcourse.lectures.incontext): a tiny Transformer meta-trained on T digit tasks (3 classes, labels
# shuffled, pixels rotated at random); 4 labelled examples per class in the context, then a query
from vlcourse.data.digits import load_digits_split
from vlcourse.lectures.incontext import task_count_experiment
t0 = time.time()
x, y = load_digits_split("train")
X = x.reshape(len(x), -1); X = (X - X.mean(0)) / (X.std(0) + 1e-3)          # (N, 64), standardised
task_counts = budget(full=[1, 4, 16, 64, 256, 1024, 16384], quick=[1, 1024], grade=[1, 1024])
runs = [task_count_experiment(X, y, T, steps=budget(full=800, quick=250, grade=20)) for T in task_counts]
for key in ("seen tasks", "new tasks"):
    plt.plot(task_counts, [r[key] for r in runs], "o-", label=f"accuracy on {key}")
plt.axhline(1 / 3, color="grey", ls="--", label="chance"); plt.xscale("log"); plt.ylim(0, 1.05)
plt.xlabel("number of tasks in training"); plt.legend(loc="lower right"); plt.title("from memorising tasks to learning in context")
DEMO_SECONDS["Kirsch task count"] = time.time() - t0
"""),
# ---------------------------------------------------------------- CoT
("md", "slide", r"""
## Chain-of-thought

* **Few-shot CoT** (Wei et al., NeurIPS 2022): the examples in the prompt show their working, so the model writes
  its reasoning before the answer.
* **Zero-shot CoT** (Kojima et al., NeurIPS 2022): no examples; append "Let's think step by step."
* **Self-consistency** (Wang et al., ICLR 2023): sample several reasoning chains, answer with the **majority**.
* **Multimodal CoT** (Zhang et al. 2023): fine-tune a smaller model to write a rationale, then the answer, from image and text.

```python
from vlcourse.llm import LLM          # any OpenAI-compatible endpoint; the course's local one by default
llm = LLM()
chains = llm.complete(question + "\nLet's think step by step.", temperature=0.8, n=5)
```
"""),
("md", "subslide", r"""
### Our model: products of four digits

The course's `icl-tiny` (a small GPT, `vlcourse.icl`) saw products of four digits (2 to 9) written two ways: directly,
`3*4*2*5=120`, or with a chain of thought, `3*4*2*5: 3*4=12, 12*2=24, 24*5=120`. We test it on products it **never**
saw, in any order of their digits. It was also shown the times table of every step (`18*9=162`), so a chain only
strings together facts it knows.

* In its format, `=` asks for the answer at once and `:` asks for the working: `:` is its "Let's think step by step"
  (zero-shot CoT). A worked example before the question makes it few-shot.
* Its context is short (96 tokens; a worked chain takes up to 40), so one example is all that fits.
* Every call goes through `vlcourse.llm`: the course's local endpoint here, a real provider with two environment variables.
"""),
("code", "fragment", r"""
# Demo: direct answers vs chains of thought, zero-shot and with one worked example, through vlcourse.llm
import random
from vlcourse.llm import LLM
from vlcourse.icl.episodes import arithmetic_line, arithmetic_prompt, digit_tuples, final_number, product
from vlcourse.lectures.emergence import majority_answer, majority_vote_accuracy, mcnemar_p
t0 = time.time()
llm = LLM()                                    # the local endpoint (started on demand) unless OPENAI_BASE_URL is set
print("model:", llm.model)                     # asks the endpoint which models it serves (starting it here, once)
rng = random.Random(0)
problems = rng.sample(digit_tuples("heldout"), budget(full=300, quick=60, grade=10))
truth = np.array([product(d) for d in problems])
demo = rng.choice(digit_tuples("train"))
right = {}                                     # (shots, way) -> (problems,) bool
for shots in (0, 1):
    for cot in (False, True):
        prefix = "".join(text for text, _ in arithmetic_line(demo, cot)) if shots else ""
        prompts = [prefix + arithmetic_prompt(d, cot) for d in problems]
        replies = llm.batch_complete(prompts, max_tokens=40 if cot else 4, temperature=0, stop=["\n"], progress=False)
        right[(shots, "chain of thought" if cot else "direct")] = np.array([final_number(r.choices[0].text) for r in replies]) == truth
        print(f"{prompts[0]!r} -> {replies[0].choices[0].text!r}")
for i, way in enumerate(["direct", "chain of thought"]):
    plt.bar(np.arange(2) + 0.4 * i, [right[(k, way)].mean() for k in (0, 1)], width=0.4, label=way)
plt.xticks(np.arange(2) + 0.2, ["zero-shot", "one worked example"]); plt.ylim(0, 1.05)
plt.ylabel(f"right on {len(problems)} held-out products"); plt.legend(); plt.title(f"{llm.model}, greedy decoding")
DEMO_SECONDS["chain of thought"] = time.time() - t0
"""),
("code", "fragment", r"""
lines = ["| prompt | direct | chain of thought | difference (McNemar test on the same problems) |", "|---|---|---|---|"]
for shots, name in [(0, "zero-shot"), (1, "one worked example")]:
    d, c = right[(shots, "direct")], right[(shots, "chain of thought")]
    p = mcnemar_p(c, d)
    lines.append(f"| {name} | {d.mean():.2f} | {c.mean():.2f} | {c.mean() - d.mean():+.2f}, p = {p:.2g}: "
                 + ("**beyond chance**" if p < 0.05 else "within noise") + " |")
Markdown("\n".join(lines))
"""),
("md", "subslide", r"""
### Reading the result

* A chain helps when one step is too big for the model and small steps are not: the direct answer must compose the
  whole product at once, the chain does one small multiplication at a time (each of which it has seen in many other
  problems). Whether it helps **this** model is the table's measured answer, with its test.
* A first version of icl-tiny was trained on *sums* of four digits: it added them at once as well as in steps (both
  about 0.99), so there was nothing for a chain to win. Chains pay off only where the direct answer is out of reach.
* Few-shot prompting only helps in formats the model knows: icl-tiny was trained on sequences with two worked
  problems in a row, so a worked example before the question is familiar to it.
"""),
("md", "subslide", r"""
### Self-consistency: sample chains, take the majority

Greedy decoding gives one chain. Sampling at a temperature gives different chains, some wrong; when the right answer
is the most common one, a vote over several chains is right more often than one sampled chain. How much more depends
on how the wrong answers scatter: spread over many values, even a minority of right chains wins the vote.
"""),
("code", "fragment", r"""
# Demo: k chains per held-out product, sampled hot (temperature 1.5), majority of the first k
from concurrent.futures import ThreadPoolExecutor
t0 = time.time()
n_samples = budget(full=[1, 3, 5, 9, 15], quick=[1, 3, 5, 9], grade=[1, 3])

def sample_chains(i, digits):
    # one request per problem, n = k choices, its own seed (choice j uses seed + j): samples are independent across
    # problems too; one shared seed would give every problem the same random draws
    reply = llm.complete(arithmetic_prompt(digits, True), max_tokens=40, temperature=1.5, stop=["\n"], n=max(n_samples), seed=1000 * i)
    return [final_number(c.text) for c in sorted(reply.choices, key=lambda c: c.index)]

with ThreadPoolExecutor(8) as pool:                      # 8 requests in flight; the endpoint batches them
    chains = list(pool.map(sample_chains, range(len(problems)), problems))   # (problems, k) final answers
one_chain = np.mean([a == t for ch, t in zip(chains, truth) for a in ch])
voted = [np.mean([majority_answer(ch[:k]) == t for ch, t in zip(chains, truth)]) for k in n_samples]
plt.plot(n_samples, voted, "o-", label="majority of the sampled chains (measured)")
plt.plot(n_samples, [majority_vote_accuracy(one_chain, k, 3) for k in n_samples], "--", color="grey",
         label="prediction if errors scattered over only 3 wrong answers")
plt.axhline(right[(0, "chain of thought")].mean(), color="C1", ls=":", label="one greedy chain")
plt.xlabel("sampled chains per question"); plt.ylabel("right"); plt.ylim(0, 1.05); plt.legend(fontsize=8)
plt.title(f"one chain sampled at temperature 1.5 is right {one_chain:.0%} of the time")
print("majority vote:", ", ".join(f"{k} chains {a:.2f}" for k, a in zip(n_samples, voted)),
      f"| greedy chain {right[(0, 'chain of thought')].mean():.2f}")
DEMO_SECONDS["self-consistency"] = time.time() - t0
"""),
# ---------------------------------------------------------------- adaptation
("md", "slide", r"""
## Adapting large models: LoRA (recap of assignment 5)

Hu et al., *LoRA: Low-Rank Adaptation of Large Language Models*, ICLR 2022.

Freeze $W$; learn $\Delta W = \frac{\alpha}{r} B A$ with $A \in \mathbb{R}^{r \times d_{in}}$, $B \in \mathbb{R}^{d_{out} \times r}$, $B = 0$ at the start.
A few thousand parameters, an adapter of kilobytes, no cost at inference once merged.
"""),
("code", "subslide", r"""
from vlcourse.lora import LoRALinear
base = gpt.h[0].attn.c_attn
x = torch.randn(2, 5, base.in_features)
ranks = [1, 2, 4, 8, 16]
sizes = [LoRALinear(base, r).lora_A.weight.numel() + LoRALinear(base, r).lora_B.weight.numel() for r in ranks]
print("output unchanged at init:", torch.equal(LoRALinear(base, 4)(x), base(x)))
plt.bar([str(r) for r in ranks], sizes, label="LoRA parameters"); plt.axhline(base.weight.numel(), color="k", ls="--", label="the frozen weight")
plt.yscale("log"); plt.xlabel("rank r"); plt.legend(); plt.title(f"one attention projection, {base.in_features} -> {base.out_features}")
"""),
("md", "slide", r"""
## PGN: prompts generated from the input

Loedeman et al., *Prompt Generation Networks for Input-Space Adaptation of Frozen Vision Transformers*, 2022.

Visual prompting learns **one** pattern added to every input of a frozen model. A **Prompt Generation Network**
learns a small network that **generates** the prompt from the input: $x \mapsto x + g(x)$, the model unchanged.

Demo: freeze a digit classifier, show it **inverted** digits ($1 - x$), adapt it only through its input.
"""),
("code", "subslide", r"""
from vlcourse.data.digits import load_digits_split
from vlcourse.lectures.adaptation import train_classifier, adapt, accuracy, FixedPrompt, PromptGenerator
t0 = time.time()
x, y = load_digits_split("train"); xt, yt = load_digits_split("test")
X, XT = x.reshape(len(x), -1), xt.reshape(len(xt), -1)          # (N, 64)
steps = budget(full=1000, quick=300, grade=30)
frozen_clf = train_classifier(X, y, steps=200)
fixed = adapt(frozen_clf, FixedPrompt(64), 1 - X, y, steps)
pgn = adapt(frozen_clf, PromptGenerator(64, hidden=32), 1 - X, y, steps)
bars = {"normal digits": accuracy(frozen_clf, XT, yt), "inverted, no prompt": accuracy(frozen_clf, 1 - XT, yt),
        "inverted, one prompt": accuracy(lambda v: frozen_clf(fixed(v)), 1 - XT, yt),
        "inverted, PGN": accuracy(lambda v: frozen_clf(pgn(v)), 1 - XT, yt)}
plt.barh(list(bars), list(bars.values()), color=["grey", "C3", "C1", "C0"]); plt.xlim(0, 1); plt.xlabel("test accuracy of the frozen classifier")
plt.title(f"a fixed prompt cannot undo an inversion; an input-dependent one can ({sum(p.numel() for p in pgn.parameters()):,} params)")
DEMO_SECONDS["PGN"] = time.time() - t0
"""),
# ---------------------------------------------------------------- recap
("md", "slide", r"""
## Recap

* **Single-modality pretraining**: SimCLR, MAE, GPT. **Multimodal**: CLIP (+ LiT), ALIGN, CoCa.
* **Beyond contrastive**: ClipCap, BLIP (ITC + ITM + LM, CapFilt), BLIP-2's Q-Former.
* **GPT + X**: Socratic models, classification by description — models talking through language.
* **Longer multimodal context**: Frozen (fast binding), Flamingo (gated cross-attention, resampler), FROMAGe, Kosmos-1.
* **Tasks**: VQA, VisDial — and blind baselines that expose language priors.
* **In-context learning**: what it is, the role of scale, and of the metric; **chain-of-thought** and self-consistency.
* **Data**: CC, LAION — filtering rules, and the privacy problem they do not solve.
* **Adaptation**: LoRA, PGN.
"""),
("code", "skip", r"""
print({name: round(seconds, 1) for name, seconds in DEMO_SECONDS.items()})
"""),
]
