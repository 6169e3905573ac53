"""A small GPT: the decoder-only Transformer language model of assignment 02.

The model is GPT-2's (Radford et al. 2018, "Improving Language Understanding by Generative
Pre-Training"; Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"): token and
position embeddings, a stack of pre-LayerNorm Transformer blocks (Vaswani et al. 2017, "Attention Is
All You Need") whose self-attention is *causal* (position t sees positions <= t only), a final
LayerNorm and a linear read-out tied to the token embedding. It is trained to predict every next
token of a text at once.

Reading order: :class:`GPTConfig`, :func:`causal_mask`, :func:`masked_attention`,
:class:`CausalSelfAttention`, :class:`MLP`, :class:`Block`, :class:`GPT`, :func:`lm_loss`,
:func:`generate`, then training (:data:`PRESETS`, :func:`train_gpt`, :func:`train_reference`).

Parameter names (``h.0.attn.c_attn.weight``, ...) follow GPT-2's and are kept stable: the grader
loads reference weights into students' modules by name.

Train the shipped checkpoint with ``python -m vlcourse.gpt --preset tiny``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from vlcourse.checkpoints import CheckpointEntry, load_checkpoint, save_checkpoint
from vlcourse.data.text import CharTokenizer, Corpus, get_batch, load_corpus, train_val_split
from vlcourse.training import History, TrainConfig, train

ATTENTION_KINDS = ("sdpa", "explicit")


@dataclass
class GPTConfig:
    """Size and behaviour of a :class:`GPT`.

    Attributes:
        vocab_size: number of token ids (65 for character-level tiny Shakespeare).
        block_size: longest context the model reads (the number of position embeddings).
        n_layer: number of Transformer blocks.
        n_head: attention heads per block; each head has ``n_embd // n_head`` dimensions.
        n_embd: width of the residual stream.
        dropout: dropout probability on embeddings, attention weights and residual branches.
        bias: whether Linear and LayerNorm layers have biases.
        attention: ``"sdpa"`` (PyTorch's fused ``scaled_dot_product_attention``) or ``"explicit"``
            (:func:`masked_attention`, the formula written out). Both compute the same function.
    """

    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    attention: str = "sdpa"

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}: each head gets n_embd // n_head "
                f"dimensions; pick n_embd as a multiple of n_head (e.g. n_embd={self.n_head * max(1, round(self.n_embd / self.n_head))})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {self.dropout}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Which keys each query may attend to in causal self-attention.

    Returns:
        Bool tensor (T, T), ``mask[i, j]`` True where query position i may attend to key position j,
        i.e. where ``j <= i`` (lower triangle including the diagonal).
    """
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def masked_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, dropout_p: float = 0.0
) -> torch.Tensor:
    """Scaled dot-product attention with a mask, written out (Vaswani et al. 2017, eq. 1).

    ``softmax(q kᵀ / sqrt(hs))`` over the keys, with disallowed keys set to -inf before the softmax,
    then a weighted average of the values.

    Args:
        q, k, v: (B, nh, T, hs) queries, keys and values.
        mask: bool (T, T), True where attention is allowed (see :func:`causal_mask`); broadcast over
            batch and heads.
        dropout_p: dropout on the attention weights (pass 0 when evaluating).

    Returns:
        (B, nh, T, hs) the attended values.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (B, nh, T, T)
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # each row sums to 1 over the allowed keys
    if dropout_p > 0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v  # (B, nh, T, hs)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention: every position attends to itself and earlier positions.

    One fused Linear ``c_attn`` makes queries, keys and values for all heads; ``c_proj`` mixes the
    heads' outputs back into the residual stream. ``self.attention`` selects the implementation
    (``"sdpa"`` or ``"explicit"``) and may be changed on a built module.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.attention = config.attention
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        # Not persistent: derived from block_size, so it stays out of state_dict and checkpoints.
        self.register_buffer("mask", causal_mask(config.block_size), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # each (B, T, C)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        if self.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, nh, T, hs)
        elif self.attention == "explicit":
            y = masked_attention(q, k, v, self.mask[:T, :T], dropout_p=p)  # (B, nh, T, hs)
        else:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, nh * hs) = (B, T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward network: C -> 4C -> GELU -> C (GELU as in GPT, Radford et al. 2018)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """One Transformer block with LayerNorm before each sub-layer (GPT-2's pre-norm arrangement):
    ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, C) -> (B, T, C)."""
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only Transformer language model (Radford et al. 2018, 2019).

    ``forward(idx)`` maps token ids (B, T) to next-token logits (B, T, vocab_size): ``logits[:, t]``
    scores the token that follows ``idx[:, :t + 1]``. The output layer shares its weight with the
    token embedding (weight tying, Press & Wolf 2017, used by GPT-2): ``lm_head.weight is wte.weight``.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one (vocab_size, C) matrix, two uses
        self.apply(self._init_weights)
        # GPT-2: scale the initial weights of the layers that write into the residual stream by
        # 1/sqrt(number of residual additions), so the stream's variance does not grow with depth.
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))
        # Checkpoints store the tied matrix once (safetensors refuses shared tensors), as wte.weight.
        self.register_load_state_dict_pre_hook(self._fill_tied_weight)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    @staticmethod
    def _fill_tied_weight(module, state_dict, prefix, *args) -> None:
        if prefix + "lm_head.weight" not in state_dict and prefix + "wte.weight" in state_dict:
            state_dict[prefix + "lm_head.weight"] = state_dict[prefix + "wte.weight"]

    def num_params(self, non_embedding: bool = True) -> int:
        """Parameter count (tied weights once); without position embeddings if ``non_embedding``."""
        n = sum(p.numel() for p in self.parameters())  # parameters() yields a tied tensor once
        return n - self.wpe.weight.numel() if non_embedding else n

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits, and the cross-entropy against ``targets`` when given.

        Args:
            idx: (B, T) int64 token ids, T <= block_size.
            targets: optional (B, T) int64, ``targets[:, t]`` the token that follows ``idx[:, t]``
                (the ``y`` of :func:`~vlcourse.data.text.get_batch`).

        Returns:
            ``(logits, loss)``: logits (B, T, vocab_size); loss a scalar (mean over all B*T
            positions) or None without targets. For a loss from ``idx`` alone see :func:`lm_loss`.
        """
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"sequence length {T} exceeds block_size={self.config.block_size}; crop the context")
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C) + (T, C) -> (B, T, C)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        V = logits.size(-1)
        loss = F.cross_entropy(logits.view(B * T, V), targets.reshape(B * T))  # (B*T, V) vs (B*T,)
        return logits, loss


def lm_loss(logits: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Language-modelling loss of a sequence on itself: predict ``idx[:, t + 1]`` from ``logits[:, t]``.

    The last position has no next token and the first token is never predicted, so the loss averages
    the cross-entropy over the B * (T - 1) pairs ``(logits[:, :-1], idx[:, 1:])``.

    Args:
        logits: (B, T, V) output of the model on ``idx``.
        idx: (B, T) int64 token ids, T >= 2.

    Returns:
        Scalar mean cross-entropy in nats.
    """
    B, T, V = logits.shape
    pred = logits[:, :-1].reshape(B * (T - 1), V)  # (B*(T-1), V)
    target = idx[:, 1:].reshape(B * (T - 1))  # (B*(T-1),)
    return F.cross_entropy(pred, target)


def perplexity(loss: float | torch.Tensor) -> float:
    """``exp(loss)`` of a mean cross-entropy in nats: the effective number of equally likely next tokens."""
    return math.exp(float(loss))


@torch.no_grad()
def generate(
    model: nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Extend ``idx`` by ``max_new_tokens`` tokens, one at a time, each fed back as input.

    Each step reads the last ``block_size`` tokens, takes the logits of the last position, and
    either picks the most likely token (``greedy``) or samples from ``softmax(logits / temperature)``,
    restricted to the ``top_k`` most likely tokens when ``top_k`` is given.

    Args:
        model: a :class:`GPT` (anything with ``config.block_size`` returning ``(logits, _)``).
        idx: (B, T0) int64 prompt token ids.
        max_new_tokens: tokens to append.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it (ignored if greedy).
        top_k: sample only among the k most likely tokens.
        greedy: argmax decoding (deterministic).
        generator: random generator for sampling (on the model's device), for reproducible samples.

    Returns:
        (B, T0 + max_new_tokens) int64: the prompt followed by the generated tokens.
    """
    if not greedy and temperature <= 0:
        raise ValueError(f"temperature must be > 0 (got {temperature}); use greedy=True for argmax decoding")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    was_training = model.training
    model.eval()
    block_size = model.config.block_size
    for _ in range(max_new_tokens):
        logits, _ = model(idx[:, -block_size:])  # (B, min(T, block_size), V)
        logits = logits[:, -1, :]  # (B, V): the next-token scores
        if greedy:
            next_id = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
        else:
            logits = logits / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[:, -1:]  # (B, 1)
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = torch.softmax(logits, dim=-1)  # (B, V)
            next_id = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
        idx = torch.cat([idx, next_id], dim=1)  # (B, T + 1)
    model.train(was_training)
    return idx


# ----------------------------------------------------------------------------------------- training


@dataclass
class GPTPreset:
    """A named training recipe: model size, schedule, batch and where to run.

    ``model.vocab_size`` is replaced by the tokenizer's at training time.
    """

    model: GPTConfig
    train: TrainConfig
    batch_size: int
    eval_iters: int = 20  # validation batches per evaluation
    beta2: float = 0.99  # AdamW's second-moment decay; 0.99 suits few tokens per step
    device: str = "cpu"
    seed: int = 1337
    threads: int | None = None  # torch.set_num_threads for CPU runs; None keeps torch's default
    description: str = ""


PRESETS: dict[str, GPTPreset] = {
    # Trains on 2 CPU cores in a couple of minutes and ships with the package (413k parameters, 1.7 MB).
    # Chosen for time to a validation loss of 1.88 (benchmarks/gpt_shakespeare): two wide layers
    # and a high learning rate get there in ~1.2M tokens, sooner than deeper, narrower models.
    "tiny": GPTPreset(
        model=GPTConfig(block_size=64, n_layer=2, n_head=4, n_embd=128, dropout=0.0),
        train=TrainConfig(steps=600, lr=8e-3, min_lr=8e-4, warmup_steps=50, weight_decay=0.1,
                          grad_clip=1.0, eval_every=100, progress=True),
        batch_size=32,
        description="2 layers x 128 wide, block 64, 600 steps of 32 windows: a couple of minutes on 2 CPU cores",
    ),
    # nanoGPT's "baby GPT" for character-level Shakespeare, for an instructor's GPU.
    "gpu": GPTPreset(
        model=GPTConfig(block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2),
        train=TrainConfig(steps=5000, lr=1e-3, min_lr=1e-4, warmup_steps=100, weight_decay=0.1,
                          grad_clip=1.0, eval_every=250, progress=True),
        batch_size=64,
        eval_iters=200,
        device="cuda",
        description="6 layers x 384 wide, block 256, dropout 0.2 (nanoGPT's baby GPT): minutes on one GPU",
    ),
}


def make_optimizer(model: nn.Module, lr: float, weight_decay: float, beta2: float = 0.99) -> torch.optim.AdamW:
    """AdamW that decays the weight matrices and embeddings only, not biases and LayerNorm gains."""
    params = [p for p in model.parameters() if p.requires_grad]  # a tied tensor appears once
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, beta2))


@torch.no_grad()
def estimate_loss(
    model: nn.Module, data: torch.Tensor, block_size: int, batch_size: int, iters: int, seed: int = 0,
    device: str | torch.device = "cpu",
) -> float:
    """Mean loss over ``iters`` random batches of ``data``; the same batches for the same ``seed``."""
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    total = 0.0
    for _ in range(iters):
        x, y = get_batch(data, block_size, batch_size, gen)
        total += model(x.to(device), y.to(device))[1].item()
    model.train(was_training)
    return total / iters


def train_gpt(
    model: GPT,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    cfg: TrainConfig,
    batch_size: int,
    *,
    eval_iters: int = 20,
    beta2: float = 0.99,
    seed: int = 0,
    device: str | torch.device = "cpu",
    desc: str = "gpt",
) -> History:
    """Train ``model`` on random windows of ``train_data`` with :func:`vlcourse.training.train`.

    Warm-up + cosine learning rate, AdamW (:func:`make_optimizer`), a progress bar, and every
    ``cfg.eval_every`` steps ``{"train_loss", "val_loss", "seconds", "cpu_seconds"}``: the losses
    estimated on ``eval_iters`` fixed batches of each split, the wall time and this process's CPU
    time (all threads) since the start of training.

    Args:
        model: the GPT, already on ``device``.
        train_data, val_data: 1-D int64 token ids (see :func:`~vlcourse.data.text.train_val_split`).
        cfg: steps, learning-rate schedule, weight decay, clipping, evaluation interval.
        batch_size: windows per step; each window is ``model.config.block_size`` tokens.
        eval_iters: batches per loss estimate.
        beta2: AdamW's beta2.
        seed: seed of the training batch sampler.
        device: where batches go.

    Returns:
        The :class:`~vlcourse.training.History` (per-step loss and lr, evaluations).
    """
    block_size = model.config.block_size
    gen = torch.Generator().manual_seed(seed)

    def batches():
        while True:
            x, y = get_batch(train_data, block_size, batch_size, gen)  # (B, T), (B, T)
            yield x.to(device), y.to(device)

    start, cpu_start = time.perf_counter(), time.process_time()

    def evaluate() -> dict:
        metrics = {
            "train_loss": estimate_loss(model, train_data, block_size, batch_size, eval_iters, seed=1, device=device),
            "val_loss": estimate_loss(model, val_data, block_size, batch_size, eval_iters, seed=2, device=device),
            "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu_start,
        }
        if cfg.progress:
            tqdm.write(f"{desc}: train loss {metrics['train_loss']:.4f}, val loss {metrics['val_loss']:.4f} "
                       f"after {metrics['seconds']:.0f} s")
        return metrics

    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay, beta2)
    return train(model, batches(), lambda m, batch: m(*batch)[1], cfg, evaluate=evaluate,
                 optimizer=optimizer, desc=desc)


@dataclass
class TrainedGPT:
    """What :func:`train_preset` returns."""

    model: GPT
    tokenizer: CharTokenizer
    history: History
    corpus: Corpus
    seconds: float
    preset: GPTPreset = field(repr=False)


def prepare_data(corpus: Corpus, train_fraction: float = 0.9) -> tuple[CharTokenizer, torch.Tensor, torch.Tensor]:
    """Character tokenizer of the corpus and its 90/10 train/validation token sequences (int64)."""
    tokenizer = CharTokenizer(corpus.text)
    data = torch.tensor(tokenizer.encode(corpus.text), dtype=torch.long)  # (N,)
    train_data, val_data = train_val_split(data, train_fraction)
    return tokenizer, train_data, val_data


def train_preset(preset: str | GPTPreset, corpus: Corpus | None = None) -> TrainedGPT:
    """Build and train the GPT of a preset (a name in :data:`PRESETS` or a :class:`GPTPreset`).

    Adjust a preset with ``dataclasses.replace``, e.g. a few CPU steps of the GPU recipe::

        p = PRESETS["gpu"]
        p = dataclasses.replace(p, device="cpu", batch_size=2, train=dataclasses.replace(p.train, steps=3))
    """
    preset = PRESETS[preset] if isinstance(preset, str) else preset
    if preset.device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(
            f"this preset runs on {preset.device!r} but no CUDA device is available; "
            "use the 'tiny' preset, or dataclasses.replace(preset, device='cpu') (slow)"
        )
    if preset.threads is not None:
        torch.set_num_threads(preset.threads)
    corpus = corpus or load_corpus()
    tokenizer, train_data, val_data = prepare_data(corpus)
    torch.manual_seed(preset.seed)
    model = GPT(dataclasses.replace(preset.model, vocab_size=tokenizer.vocab_size)).to(preset.device)
    start = time.perf_counter()
    history = train_gpt(
        model, train_data, val_data, preset.train, preset.batch_size, eval_iters=preset.eval_iters,
        beta2=preset.beta2, seed=preset.seed, device=preset.device, desc=f"gpt {corpus.name}",
    )
    return TrainedGPT(model, tokenizer, history, corpus, time.perf_counter() - start, preset)


def checkpoint_name(preset: str) -> str:
    return f"gpt_shakespeare_{preset}"


def save_reference(result: TrainedGPT, preset_name: str, folder=None, command: str | None = None) -> CheckpointEntry:
    """Write ``gpt_shakespeare_<preset>.safetensors`` and its manifest entry (see vlcourse.checkpoints)."""
    state = {k: v for k, v in result.model.state_dict().items() if k != "lm_head.weight"}  # tied to wte
    last = result.history.last_eval()
    metrics = {
        "val_loss": round(last["val_loss"], 4),
        "train_loss": round(last["train_loss"], 4),
        "val_perplexity": round(perplexity(last["val_loss"]), 3),
        "steps": result.preset.train.steps,
        "train_seconds": round(result.seconds, 1),
        "train_cpu_seconds": round(result.history.last_eval()["cpu_seconds"], 1),
        "torch_threads": torch.get_num_threads(),
        "params": result.model.num_params(non_embedding=False),
    }
    config = {
        "model": asdict(result.model.config),
        "train": asdict(result.preset.train),
        "batch_size": result.preset.batch_size,
        "eval_iters": result.preset.eval_iters,
        "beta2": result.preset.beta2,
        "seed": result.preset.seed,
        "device": result.preset.device,
        "corpus": result.corpus.name,
        "chars": result.tokenizer.chars,
    }
    return save_checkpoint(
        checkpoint_name(preset_name), state, preset=preset_name, config=config,
        command=command or f"python -m vlcourse.gpt --preset {preset_name}", metrics=metrics, folder=folder,
    )


def train_reference(preset: str = "tiny", folder=None) -> CheckpointEntry:
    """Train a preset on tiny Shakespeare and save it as the reference checkpoint.

    Refuses to run on the offline fallback corpus: the reference checkpoints are Shakespeare's.
    """
    corpus = load_corpus()
    if corpus.is_fallback:
        raise RuntimeError(f"reference checkpoints are trained on tiny Shakespeare, but: {corpus.note}")
    return save_reference(train_preset(preset, corpus), preset, folder=folder)


def load_reference(preset: str = "tiny", folder=None) -> tuple[GPT, CharTokenizer, CheckpointEntry]:
    """The reference GPT of a preset (eval mode, CPU), its tokenizer and its manifest entry."""
    state, entry = load_checkpoint(checkpoint_name(preset), folder)
    model = GPT(GPTConfig(**entry.config["model"]))
    model.load_state_dict(state)
    return model.eval(), CharTokenizer(entry.config["chars"]), entry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train a reference GPT on tiny Shakespeare.")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    entry = train_reference(args.preset)
    print(f"wrote {entry.file}: {entry.metrics}")


if __name__ == "__main__":
    main()
