"""Cells of lecture 1, "Learning without labels": self-supervised pretraining (see build_lectures.py)."""

CELLS = [
("md", "slide", r"""
# Learning without labels
## Self-supervised pretraining: contrastive learning, language modelling, masked images

Lecture 1 of 2 · *Self-supervised and vision-language learning*

Every figure in this deck is computed live by the cell under it, on the course's own small models.
"""),
("code", "skip", r"""
# Setup (hidden in the slides). VLCOURSE_BUDGET=quick makes every demo run in seconds.
import time
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from vlcourse.budget import budget, current_budget

torch.set_num_threads(1)
torch.manual_seed(0)
plt.rcParams.update({"figure.figsize": (8, 3.4), "figure.dpi": 90, "axes.spines.top": False, "axes.spines.right": False})
DEMO_SECONDS = {}  # demo name -> seconds, printed at the end (lectures/README.md quotes them)
print("budget:", current_budget())
"""),
("md", "slide", r"""
## Learning outcomes: after the two lectures you can

1. present and explain the key recent works in large-scale vision-language learning;
2. say what older and newer vision-language methods share with self-supervised learning, and where they differ;
3. describe in-context learning, and how it is measured;
4. read a paper that joins a pretrained language model to visual inputs and judge its claims;
5. call large language models through an API from your own code.
"""),
("md", "subslide", r"""
## The map

| lecture 1 (today) | lecture 2 |
|---|---|
| contrastive: NPID, SimCLR | CLIP, LiT, ALIGN, CoCa |
| language modelling: GPT-1/2/3, RLHF | ClipCap, BLIP, BLIP-2, Socratic models |
| masked image modelling: MAE | Flamingo, Frozen, FROMAGe, Kosmos-1 |
| | VQA, emergence, in-context learning, chain of thought |
| | web data: LAION, CC; adaptation: LoRA, PGN |

Not a complete list: a tour of representative ideas, chosen so that you leave with ideas of your own.
"""),
("md", "slide", r"""
## How can a model learn without labels?

Gradient descent needs a loss. Without labels, we **make the loss out of the data itself**:

* **uniqueness + invariance**: two augmented views of one image should agree, and differ from
  every other image (*contrastive learning*);
* **reconstruction**: hide part of the input and predict it (*language modelling*, *masked image modelling*).
"""),
# ---------------------------------------------------------------- NPID
("md", "slide", r"""
## NPID: every image is its own class

**Problem.** A classifier with one output per training image would need a weight vector per image:
millions of parameters that see one example each.

**Idea** (Wu et al., *Unsupervised Feature Learning via Non-Parametric Instance Discrimination*, CVPR 2018):
keep a **memory bank** $V$ of one unit-length feature per image and use the features themselves as
the class weights — a *non-parametric* softmax:

$$P(i \mid v) = \frac{\exp(v_i^\top v / \tau)}{\sum_{j=1}^{N} \exp(v_j^\top v / \tau)}$$

After each step, the bank rows of the batch move towards their new features: $v_i \leftarrow \mathrm{normalise}(m\, v_i + (1-m)\, f(x_i))$.
"""),
("code", "subslide", r"""
# Demo: NPID on 8x8 digits with a small MLP (vlcourse.lectures.contrastive)
from vlcourse.data.digits import load_digits_split
from vlcourse.lectures.contrastive import train_npid, nonparametric_logits

t0 = time.time()
x, y = load_digits_split("train"); xt, yt = load_digits_split("test")
X, XT = x.reshape(len(x), -1), xt.reshape(len(xt), -1)      # (N, 64)
steps = budget(full=1500, quick=150, grade=20)
encoder, bank, losses = train_npid(X, steps=steps)
random_encoder, _, _ = train_npid(X, steps=0)

def instance_acc(enc):  # does a noisy view of image i find image i among all N clean images?
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        views = X + 0.3 * torch.randn(X.shape, generator=g)
        sim = F.normalize(enc(views), dim=1) @ F.normalize(enc(X), dim=1).T   # (N, N)
    return (sim.argmax(1) == torch.arange(len(X))).float().mean().item()

fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(losses); ax[0].set(xlabel="step", ylabel="NPID loss", title="training: no labels anywhere")
ax[1].bar(["random encoder", "NPID encoder"], [instance_acc(random_encoder), instance_acc(encoder)], color=["grey", "C0"])
ax[1].set(ylabel="top-1 instance retrieval", ylim=(0, 1), title=f"find the right one of {len(X)} images from a noisy view")
DEMO_SECONDS["NPID"] = time.time() - t0
"""),
("md", "subslide", r"""
### What the non-parametric softmax sees

For a test digit, the bank rows with the highest $P(i \mid v)$ are its nearest training images — usually the same digit,
although no label was ever used.
"""),
("code", "fragment", r"""
with torch.no_grad():
    probs = nonparametric_logits(encoder(XT[:4]), bank.bank, 0.1).softmax(1)   # (4, N)
top = probs.topk(5, dim=1)
fig, axes = plt.subplots(4, 6, figsize=(6, 4))
for r in range(4):
    axes[r, 0].imshow(xt[r, 0], cmap="gray_r"); axes[r, 0].set_title("query" if r == 0 else "", fontsize=8)
    for c in range(5):
        i = top.indices[r, c]
        axes[r, c + 1].imshow(x[i, 0], cmap="gray_r"); axes[r, c + 1].set_title(f"P={top.values[r, c]:.2f}", fontsize=7)
for a in axes.flat: a.axis("off")
"""),
# ---------------------------------------------------------------- SimCLR
("md", "slide", r"""
## SimCLR: drop the bank, use the batch

Chen et al., *A Simple Framework for Contrastive Learning of Visual Representations*, ICML 2020.

1. Two random augmentations of each image → encoder $f$ → projection head $g$ → $z$.
2. Cosine similarity of every pair of the $2N$ views, divided by a temperature $\tau$ (it stretches the range $[-1, 1]$).
3. For a positive pair $(i, j)$:

$$\ell_{i,j} = -\log \frac{\exp(\mathrm{sim}(z_i, z_j)/\tau)}{\sum_{k \ne i} \exp(\mathrm{sim}(z_i, z_k)/\tau)}$$

The same non-parametric softmax as NPID — the other images in the batch play the bank.
You built it in assignment 1 (`vlcourse.simclr.nt_xent_loss`).
"""),
("md", "subslide", r"""
### Question: why not only raise the diagonal?

The positives sit on the diagonal of the similarity matrix. Why not just maximise those similarities
and forget the denominator?
"""),
("code", "fragment", r"""
# Demo: the same network trained with NT-Xent and with the "only the diagonal" loss
from vlcourse.lectures.contrastive import collapse_curves
t0 = time.time()
curves = collapse_curves(steps=budget(full=300, quick=60, grade=20))
for name, stds in curves.items():
    plt.plot(stds, label=name)
plt.xlabel("step"); plt.ylabel("spread of embeddings (std)"); plt.legend()
plt.title("without negatives, every image maps to the same point: collapse")
DEMO_SECONDS["SimCLR collapse"] = time.time() - t0
"""),
# ---------------------------------------------------------------- language modelling
("md", "slide", r"""
## Language modelling: predict the next word

Factor the probability of a text into next-token predictions:

$$p(u_1, \dots, u_T) = \prod_{t=1}^{T} p(u_t \mid u_1, \dots, u_{t-1})$$

Train by maximising $\sum_t \log p(u_t \mid u_{<t})$ on raw text — the labels are the text itself.

**Perplexity** is how it is reported: $\mathrm{PPL} = \exp\!\big(-\tfrac{1}{T}\sum_t \log p(u_t \mid u_{<t})\big)$,
the number of equally likely choices the model is as unsure as. Lower is better; a uniform guess over
$V$ tokens scores $V$.
"""),
("md", "subslide", r"""
### Why is a rare, plausible word a bad guess?

"I pray thee, good friar, tell me of my ___" — *lord*, *love* and *erudite* all make grammatical sense.
The loss does not ask for a *possible* word; it asks for a high probability on the word that is
actually there. A word that is rarely used in this context costs many nats even when it fits.
"""),
("code", "fragment", r"""
# Demo: the course's character-level GPT (assignment 2), trained on Shakespeare
from vlcourse.gpt import load_reference
from vlcourse.lectures.language import continuation_logprobs, perplexity_from_logprobs
t0 = time.time()
gpt, tok, _ = load_reference("tiny")
context = "ROMEO:\nI pray thee, good friar, tell me of my"
words = [" lord", " love", " father", " erudite", " qzxv"]
nats = [-continuation_logprobs(gpt, tok, context, w).sum().item() for w in words]
plt.bar([w.strip() for w in words], nats, color=["C0", "C0", "C0", "C1", "grey"])
plt.ylabel("-log p(word | context)  [nats]"); plt.title("surprise of each candidate next word")
DEMO_SECONDS["perplexity"] = time.time() - t0
"""),
("md", "slide", r"""
## GPT: language modelling with a Transformer decoder

Radford et al., *Improving Language Understanding by Generative Pre-Training*, 2018.

$$h_0 = U W_e + W_p, \qquad h_l = \mathrm{block}(h_{l-1}),\ l = 1..n, \qquad P(u) = \mathrm{softmax}(h_n W_e^\top)$$

$U$: the context tokens, $W_e$: token embeddings, $W_p$: position embeddings, $n$ layers.
A **causal mask** lets position $t$ attend only to positions $\le t$, so one forward pass trains every
next-token prediction of the sequence at once.
"""),
("code", "subslide", r"""
# GPT-1, 2, 3: the same loss; more parameters and more data (numbers from the papers)
models = ["GPT-1 (2018)", "GPT-2 (2019)", "GPT-3 (2020)", "our tiny GPT"]
params = [117e6, 1.5e9, 175e9, sum(p.numel() for p in gpt.parameters())]
data = ["BooksCorpus, ~7k books", "WebText, 40 GB", "~300B tokens (Common Crawl, books, Wikipedia)", "tiny Shakespeare, 1 MB"]
plt.barh(models, params, color=["C0", "C0", "C0", "C1"]); plt.xscale("log")
for i, d in enumerate(data): plt.text(params[i] * 1.3, i, d, va="center", fontsize=9)
plt.xlabel("parameters (log scale)"); plt.xlim(1e5, 1e14); plt.title("same objective, ~6 orders of magnitude")
"""),
("md", "subslide", r"""
### GPT-3: language models are few-shot learners

Brown et al., NeurIPS 2020. Put a task description and a few solved examples in the **context**,
and the model continues the pattern for a new input — in one forward pass, without a gradient step:

```
English: cheese  -> French: fromage
English: house   -> French: maison
English: dog     -> French:
```

This *in-context learning* improves with more examples in the prompt and with model size.
We come back to it in lecture 2.
"""),
("md", "subslide", r"""
### From GPT-3 to ChatGPT: learning from human preferences (RLHF)

Ouyang et al., *Training language models to follow instructions with human feedback*, NeurIPS 2022.
"""),
("code", "fragment", r"""
from vlcourse.lectures.plots import flow_diagram
flow_diagram(["pretrained\nGPT-3", "1. fine-tune on\nhuman-written\nanswers", "2. humans rank\nanswers; fit a\nreward model",
              "3. RL (PPO):\nmaximise reward,\nstay near step 1", "InstructGPT /\nChatGPT"], frozen=[0],
             title="RLHF: supervised fine-tuning, then a learnt reward, then reinforcement learning")
"""),
("md", "subslide", r"""
### And many more

GPT-4 (bigger and better, few details published), and open models you can run yourself:
LLaMA (up to 65B parameters), T5 / Flan-T5, OPT, … Same recipe: a Transformer, next-token prediction, a lot of text.
"""),
# ---------------------------------------------------------------- MAE
("md", "slide", r"""
## Masked image modelling: MAE

He et al., *Masked Autoencoders Are Scalable Vision Learners*, CVPR 2022 (also SimMIM, Xie et al. 2022).

Masked language modelling with image **patches** as the words (the ViT's 16×16 "words", Dosovitskiy et al. 2021):

1. cut the image into patches; hide a random 75 %;
2. encode **only the visible** patches with a ViT (cheap: a quarter of the tokens);
3. a small decoder paints the hidden patches back; the loss is on the hidden patches only:

$$\mathcal{L} = \frac{1}{|M|} \sum_{p \in M} \lVert \hat{x}_p - x_p \rVert^2$$
"""),
("code", "subslide", r"""
# Demo: the course's tiny MAE (assignment 3) at four mask ratios
from vlcourse.mae import load_reference as load_mae, load_images, reconstructions
t0 = time.time()
mae, _ = load_mae("tiny")
imgs = load_images("shapes", "val", num=budget(full=6, quick=4, grade=2))
ratios = [0.25, 0.5, 0.75, 0.9]
fig, axes = plt.subplots(2 * len(ratios), len(imgs), figsize=(1.2 * len(imgs) + 1, 9))
for r, ratio in enumerate(ratios):
    rows = reconstructions(mae, imgs, ratio, seed=0)
    for c in range(len(imgs)):
        for k, name in enumerate(["masked", "pasted"]):
            ax = axes[2 * r + k, c]; ax.imshow(rows[name][c].permute(1, 2, 0)); ax.set_xticks([]); ax.set_yticks([])
        axes[2 * r, 0].set_ylabel(f"input\n{ratio:.0%} hidden", fontsize=8); axes[2 * r + 1, 0].set_ylabel("output", fontsize=8)
DEMO_SECONDS["MAE"] = time.time() - t0
"""),
("md", "subslide", r"""
### Something to think about: what is missing for vision?

* A word has a meaning on its own; an image patch usually does not.
* A language model's output can be anything — a joke, a proof, your assignment. An image model "only" outputs pixels.
* So what would a vision model need to be as general as a language model?

One answer, next lecture: **attach language to vision.**
"""),
# ---------------------------------------------------------------- recap
("md", "slide", r"""
## Recap

* Without labels, we build the loss from the data: **invariance + uniqueness** (NPID, SimCLR) or **reconstruction** (GPT, MAE).
* NPID's memory bank and SimCLR's batch both feed a **non-parametric softmax**; without the negatives in its denominator, training **collapses**.
* A language model is scored by **perplexity**: a plausible but rare word is still a costly guess.
* GPT-1 → 3: the **same objective**, scaled; few-shot **in-context learning** appears; RLHF turns it into an assistant.
* MAE: hide 75 % of the patches, reconstruct them; what vision lacks is language's generality — lecture 2.
"""),
("code", "skip", r"""
print({name: round(seconds, 1) for name, seconds in DEMO_SECONDS.items()})
"""),
]
