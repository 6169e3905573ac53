"""Training the GPT: presets, the optimiser, loss estimates, the reference checkpoints.

Train the shipped checkpoint with ``python -m vlcourse.gpt --preset tiny``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from vlcourse.checkpoints import CheckpointEntry, load_checkpoint, save_checkpoint, reference_training_main
from vlcourse.data.text import CharTokenizer, Corpus, get_batch, load_corpus, train_val_split
from vlcourse.gpt.config import GPTConfig
from vlcourse.gpt.model import GPT
from vlcourse.distributed import with_device
from vlcourse.training import History, TrainConfig, train


def perplexity(loss: float | torch.Tensor) -> float:
    """``exp(loss)`` of a mean cross-entropy in nats: the effective number of equally likely next tokens."""
    return math.exp(float(loss))



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
    # nanoGPT's "baby GPT" for character-level Shakespeare, for an instructor's GPU; 2000 steps fit the GPU
    # day's budget (vlcourse.gpu_day: all gpu presets in 6 minutes on one H100).
    "gpu": GPTPreset(
        model=GPTConfig(block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2),
        train=TrainConfig(steps=2000, lr=1e-3, min_lr=1e-4, warmup_steps=100, weight_decay=0.1,
                          grad_clip=1.0, eval_every=500, progress=True),
        batch_size=64,
        eval_iters=50,
        device="cuda",
        description="6 layers x 384 wide, block 256, dropout 0.2 (nanoGPT's baby GPT), 2000 steps: about a minute on one GPU",
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
    device: str | torch.device | None = None,
) -> float:
    """Mean loss over ``iters`` random batches of ``data``; the same batches for the same ``seed``
    (on ``device``, by default the model's)."""
    device = device or next(model.parameters()).device
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
    device: str | torch.device | None = None,
    desc: str = "gpt",
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
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
        device: where batches go (default: the model's device).
        loss_fn: ``(logits (B, T, V), idx (B, T)) -> scalar``, e.g. your own ``lm_loss``, applied to
            the model's logits on each window (T - 1 predictions per window); None uses the model's
            own loss on the window and its shifted targets (T predictions).

    Returns:
        The :class:`~vlcourse.training.History` (per-step loss and lr, evaluations).
    """
    block_size = model.config.block_size
    device = device or next(model.parameters()).device
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
    if loss_fn is None:
        step_loss = lambda m, batch: m(*batch)[1]  # noqa: E731  (x, y): the model's shifted loss
    else:
        step_loss = lambda m, batch: loss_fn(m(batch[0])[0], batch[0])  # noqa: E731  logits (B, T, V) on x (B, T)
    return train(model, batches(), step_loss, cfg, evaluate=evaluate, optimizer=optimizer, desc=desc)


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
    preset = with_device(PRESETS[preset] if isinstance(preset, str) else preset)
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


def load_reference(
    preset: str = "tiny", folder=None, attention_cls: type[nn.Module] | None = None
) -> tuple[GPT, CharTokenizer, CheckpointEntry]:
    """The reference GPT of a preset (eval mode, CPU), its tokenizer and its manifest entry.

    ``attention_cls``: build the model with this attention class instead of the reference one (its
    parameters must be named like the reference's, ``c_attn`` and ``c_proj``).
    """
    state, entry = load_checkpoint(checkpoint_name(preset), folder)
    model = GPT(GPTConfig(**entry.config["model"]), attention_cls)
    model.load_state_dict(state)
    return model.eval(), CharTokenizer(entry.config["chars"]), entry


def main(argv: list[str] | None = None) -> None:
    reference_training_main("Train a reference GPT on tiny Shakespeare.", PRESETS, train_reference, argv)
