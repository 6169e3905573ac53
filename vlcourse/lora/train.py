"""Adapting the Shakespeare GPT to a new text: LoRA at several ranks against full fine-tuning.

The new text is the Python language reference that every CPython carries (``pydoc_data.topics``,
see :func:`vlcourse.data.text.fallback_corpus`), written in the base model's 65 characters: quotes
become apostrophes and the characters Shakespeare never used (digits, brackets, ``_``...) are
dropped. It is English prose, but about programming, far from the plays: the base model starts
at a loss of about 2.75 nats per character on it (1.80 on Shakespeare's held-out tenth).

The functions take the LoRA pieces as arguments (``inject_fn``, ``count_fn``), resolved lazily to
the reference ones, so the notebook runs them with the student's own while the reference is withheld.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from vlcourse.data.text import CharTokenizer, fallback_corpus, train_val_split
from vlcourse.gpt.train import estimate_loss, train_gpt
from vlcourse.lora.config import GPT_ATTENTION, LoRAConfig
from vlcourse.training import History, TrainConfig

QUOTES = {'"': "'", "’": "'", "‘": "'", "“": "'", "”": "'"}


def reference_inject() -> Callable:
    """The reference :func:`~vlcourse.lora.inject.inject_lora`, imported on first use."""
    try:
        from vlcourse.lora.inject import inject_lora
    except ImportError as err:
        raise RuntimeError("the reference inject_lora is unavailable (withheld while grading): "
                           "pass your own, e.g. inject_fn=inject_lora") from err
    return inject_lora


def reference_count() -> Callable:
    """The reference :func:`~vlcourse.lora.inject.count_parameters`, imported on first use."""
    try:
        from vlcourse.lora.inject import count_parameters
    except ImportError as err:
        raise RuntimeError("the reference count_parameters is unavailable (withheld while grading): "
                           "pass your own, e.g. count_fn=count_parameters") from err
    return count_parameters


def restrict_to_vocabulary(text: str, chars: str) -> str:
    """``text`` in the alphabet ``chars``: quotation marks become ``'``, other unknown characters are dropped."""
    known = set(chars)
    return "".join(c for c in (QUOTES.get(c, c) for c in text) if c in known)


def adaptation_data(tokenizer: CharTokenizer, train_fraction: float = 0.9) -> tuple[torch.Tensor, torch.Tensor, str]:
    """The new text (the Python language reference in the tokenizer's characters) as train and validation ids.

    Returns:
        ``(train_ids, val_ids, text)``; ids are 1-D int64, split 90/10 without shuffling.
    """
    text = restrict_to_vocabulary(fallback_corpus().text, tokenizer.chars)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)  # (N,)
    train_ids, val_ids = train_val_split(data, train_fraction)
    return train_ids, val_ids, text


# Learning rates from a small grid on this task: the adapters' parameters
# start at zero (B) and move the output only through the product B A, so they take a larger step.
# At 150 steps (one seed): LoRA r=4 reached 2.22 / 2.18 / 2.15 / 2.13 / 2.18 at lr 5e-3 / 1e-2 / 2e-2 / 4e-2 /
# 8e-2; full fine-tuning 1.81 / 1.69 / 1.67 at 1e-3 / 3e-3 / 6e-3.
LORA_TRAIN = TrainConfig(steps=300, lr=4e-2, min_lr=4e-3, warmup_steps=20, weight_decay=0.0, grad_clip=1.0,
                         eval_every=50, progress=False)
FULL_TRAIN = dataclasses.replace(LORA_TRAIN, lr=6e-3, min_lr=6e-4)


@dataclass
class AdaptResult:
    """One adaptation run: what trained, how well and how fast."""

    name: str
    rank: int | None  # None for full fine-tuning
    seed: int
    trainable: int
    total: int
    val_loss: float
    seconds: float
    history: History = field(repr=False)
    model: nn.Module | None = field(default=None, repr=False)


def adapt(
    model: nn.Module, train_ids: torch.Tensor, val_ids: torch.Tensor, cfg: TrainConfig, batch_size: int = 32,
    *, eval_iters: int = 10, seed: int = 0, desc: str = "adapt", device: str | None = None,
) -> History:
    """Train whatever of ``model`` is trainable on the new text (AdamW, warm-up + cosine, clipping).

    The optimiser gets the parameters with ``requires_grad`` only; a frozen base costs no optimiser state.
    """
    return train_gpt(model, train_ids, val_ids, cfg, batch_size, eval_iters=eval_iters, seed=seed, desc=desc, device=device)


def run_adaptation(
    base: nn.Module, train_ids: torch.Tensor, val_ids: torch.Tensor, rank: int | None, *,
    cfg: TrainConfig | None = None, batch_size: int = 32, alpha: float | None = None,
    target_modules: Sequence[str] = GPT_ATTENTION, seed: int = 0, eval_iters: int = 10, keep_model: bool = False,
    inject_fn: Callable | None = None, count_fn: Callable | None = None, lora_cls: type[nn.Module] | None = None,
    name: str | None = None, device: str | None = None,
) -> AdaptResult:
    """Adapt a copy of ``base``: LoRA at ``rank`` (``alpha`` default ``2 * rank``), or everything when ``rank`` is None.

    ``base`` is never changed. ``inject_fn(model, target_modules, r, alpha, dropout)`` and
    ``count_fn(model) -> (trainable, total)`` default to the reference ones; ``lora_cls`` is passed to the
    reference ``inject_lora`` only. ``name`` labels the run (default ``"full fine-tuning"`` or ``"LoRA r=<rank>"``).
    """
    count_fn = count_fn or reference_count()
    torch.manual_seed(seed)  # the adapters' initial A
    model = copy.deepcopy(base).train()
    if rank is None:
        model.requires_grad_(True)
        cfg = cfg or FULL_TRAIN
        name = name or "full fine-tuning"
    else:
        alpha = 2.0 * rank if alpha is None else alpha
        if inject_fn is None:
            model = reference_inject()(model, tuple(target_modules), rank, alpha, 0.0, lora_cls=lora_cls)
        else:
            model = inject_fn(model, tuple(target_modules), rank, alpha, 0.0)
        cfg = cfg or LORA_TRAIN
        name = name or f"LoRA r={rank}"
    trainable, total = count_fn(model)
    start = time.perf_counter()
    history = adapt(model, train_ids, val_ids, cfg, batch_size, eval_iters=eval_iters, seed=seed, desc=name, device=device)
    seconds = time.perf_counter() - start
    val = estimate_loss(model, val_ids, model.config.block_size, batch_size, eval_iters, seed=2, device=device)
    return AdaptResult(name, rank, seed, int(trainable), int(total), val, seconds, history,
                       model.eval() if keep_model else None)


def rank_sweep(
    base: nn.Module, train_ids: torch.Tensor, val_ids: torch.Tensor, ranks: Sequence[int] = (1, 2, 4, 8, 16), *,
    seeds: Sequence[int] = (0,), full: bool = True, lora_cfg: TrainConfig | None = None,
    full_cfg: TrainConfig | None = None, **kwargs,
) -> list[AdaptResult]:
    """:func:`run_adaptation` for full fine-tuning (if ``full``) and every rank, for every seed."""
    results = []
    for seed in seeds:
        if full:
            results.append(run_adaptation(base, train_ids, val_ids, None, cfg=full_cfg, seed=seed, **kwargs))
        for rank in ranks:
            results.append(run_adaptation(base, train_ids, val_ids, rank, cfg=lora_cfg, seed=seed, **kwargs))
    return results


def summarize(results: Sequence[AdaptResult]) -> list[dict]:
    """One row per configuration: trainable parameters, mean and spread of the validation loss over seeds, mean seconds."""
    rows: dict[str, dict] = {}
    for res in results:
        row = rows.setdefault(res.name, {"name": res.name, "rank": res.rank, "trainable": res.trainable,
                                         "total": res.total, "losses": [], "seconds": []})
        row["losses"].append(res.val_loss)
        row["seconds"].append(res.seconds)
    out = []
    for row in rows.values():
        losses = torch.tensor(row.pop("losses"), dtype=torch.float64)
        seconds = row.pop("seconds")
        out.append({**row, "val_loss": losses.mean().item(), "val_loss_min": losses.min().item(),
                    "val_loss_max": losses.max().item(), "seeds": len(losses), "seconds": sum(seconds) / len(seconds)})
    return out


def format_table(rows: Sequence[dict], base_loss: float | None = None) -> str:
    """A plain-text table of :func:`summarize`'s rows."""
    lines = [f"{'run':<18}{'trainable':>11}{'% of model':>12}{'val loss':>10}{'range':>16}{'seconds':>9}"]
    if base_loss is not None:
        lines.append(f"{'base (no training)':<18}{0:>11,}{0:>11.2f}%{base_loss:>10.3f}{'':>16}{0:>9.0f}")
    for r in rows:
        spread = f"{r['val_loss_min']:.3f}-{r['val_loss_max']:.3f}" if r["seeds"] > 1 else ""
        lines.append(f"{r['name']:<18}{r['trainable']:>11,}{100 * r['trainable'] / r['total']:>11.2f}%"
                     f"{r['val_loss']:>10.3f}{spread:>16}{r['seconds']:>9.1f}")
    return "\n".join(lines)


@torch.no_grad()
def forward_seconds(model: nn.Module, idx: torch.Tensor, repeats: int = 5) -> float:
    """Best wall time of ``model(idx)`` over ``repeats`` (after one warm-up call), in seconds."""
    model.eval()
    model(idx)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model(idx)
        best = min(best, time.perf_counter() - start)
    return best


def captions_data(tokenizer: CharTokenizer, num_samples: int = 4000, train_fraction: float = 0.9, seed: int = 0,
                  ) -> tuple[torch.Tensor, torch.Tensor, str]:
    """A second new text, one of ours: the shapes dataset's captions, one per line.

    ``"a small cyan square right of a large blue cross"``: a tiny grammar, very unlike Shakespeare or
    the Python reference, for showing several adapters on one base model.

    Returns:
        ``(train_ids, val_ids, text)`` like :func:`adaptation_data`.
    """
    from vlcourse.data.shapes import ShapesConfig, generate_shapes

    captions = generate_shapes(ShapesConfig(num_samples=num_samples, seed=seed), "train").captions
    text = restrict_to_vocabulary("\n".join(captions) + "\n", tokenizer.chars)
    data = torch.tensor(tokenizer.encode(text), dtype=torch.long)  # (N,)
    train_ids, val_ids = train_val_split(data, train_fraction)
    return train_ids, val_ids, text


# --- the reference adapter (what a correct submission of 05 hands in) ------------------------------

REFERENCE_ADAPTER = "lora_python_docs_tiny"  # the tiny preset's adapter (train_reference_adapter names each preset's)
REFERENCE_CONFIG = LoRAConfig(r=4, alpha=8.0, target_modules=GPT_ATTENTION)


def reference_train_config(steps: int = 300) -> TrainConfig:
    """The schedule of the notebook's graded adaptation run at its full budget."""
    return dataclasses.replace(LORA_TRAIN, steps=steps, warmup_steps=min(20, steps), eval_every=max(1, steps // 6))


def train_reference_adapter(folder=None, steps: int = 300, preset: str = "tiny"):
    """Adapt the Shakespeare GPT of ``preset`` (``tiny``: the shipped one) to the Python reference with
    :data:`REFERENCE_CONFIG` and save the adapter as ``lora_python_docs_<preset>`` (see vlcourse.checkpoints).
    The ``gpu`` preset adapts the gpu GPT (from ``folder`` where it was trained there) on CUDA."""
    from vlcourse.checkpoints import holding, save_checkpoint
    from vlcourse.distributed import with_device
    from vlcourse.gpt.train import checkpoint_name, load_reference

    run = with_device(PRESETS[preset])
    base, tokenizer, entry = load_reference(preset, holding(checkpoint_name(preset), folder))
    base = base.to(run.device)
    train_ids, val_ids, _ = adaptation_data(tokenizer)
    block, batch = base.config.block_size, run.batch_size
    base_loss = estimate_loss(base, val_ids, block, batch, run.eval_iters, seed=2, device=run.device)
    result = run_adaptation(base, train_ids, val_ids, REFERENCE_CONFIG.r, cfg=reference_train_config(run.steps),
                            alpha=REFERENCE_CONFIG.alpha, target_modules=REFERENCE_CONFIG.target_modules,
                            seed=0, keep_model=True, batch_size=batch, device=run.device,
                            eval_iters=max(1, run.eval_iters // 2))
    from vlcourse.lora.adapter import adapter_state_dict

    state = adapter_state_dict(result.model)
    metrics = {"val_loss": round(estimate_loss(result.model, val_ids, block, batch, run.eval_iters, seed=2, device=run.device), 4),
               "base_val_loss": round(base_loss, 4), "steps": run.steps, "train_seconds": round(result.seconds, 1),
               "trainable": result.trainable, "torch_threads": torch.get_num_threads()}
    config = {"lora": REFERENCE_CONFIG.to_dict(), "base": entry.name, "train": dataclasses.asdict(reference_train_config(run.steps)),
              "batch_size": batch, "seed": 0, "device": run.device, "corpus": "python-docs in the base model's characters"}
    return save_checkpoint(f"lora_python_docs_{preset}", state, preset=preset, config=config,
                           command=f"python -m vlcourse.lora --preset {preset}", metrics=metrics, folder=folder)


@dataclass(frozen=True)
class AdapterRun:
    """A preset of the reference adapter: its steps, batch and device (its base is the GPT of the same preset).

    ``eval_iters`` batches measure the base's and the adapted model's validation loss (half as many the
    curve during training); a dry run shrinks it with the batch (:func:`vlcourse.distributed.with_device`).
    """

    steps: int
    batch_size: int = 32
    device: str = "cpu"
    eval_iters: int = 20


PRESETS = {
    "tiny": AdapterRun(steps=300),  # 2 CPU cores, about a minute
    "gpu": AdapterRun(steps=600, batch_size=64, device="cuda"),  # on the gpu GPT: seconds on one GPU
}


def train_reference(preset: str = "tiny", folder=None):
    """``vlcourse train``'s entry point: :func:`train_reference_adapter` for a preset."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r} for lora; choose one of {sorted(PRESETS)}")
    return train_reference_adapter(folder, steps=PRESETS[preset].steps, preset=preset)


def load_reference_adapter(model: nn.Module, folder=None) -> LoRAConfig:
    """Load the reference adapter's weights into ``model`` (injected with :data:`REFERENCE_CONFIG`)."""
    from vlcourse.checkpoints import load_checkpoint

    state, _ = load_checkpoint(REFERENCE_ADAPTER, folder)
    params = dict(model.named_parameters())
    missing = sorted(set(state) - set(params))
    if missing:
        raise ValueError(f"this model has no parameters {missing}: inject with {REFERENCE_CONFIG}")
    with torch.no_grad():
        for key, value in state.items():
            params[key].copy_(value)
    return REFERENCE_CONFIG


def export_reference_adapter(path, folder=None, untrained: bool = False):
    """Write the reference adapter as :func:`~vlcourse.lora.adapter.save_adapter` would: what a correct
    submission of 05 hands in as ``adapter.safetensors``. ``untrained``: with every ``lora_B`` zero, as
    a freshly injected adapter has it (the file mutant of ``vlcourse verify --mutants``)."""
    import json

    from safetensors.torch import save_file

    from vlcourse.checkpoints import load_checkpoint

    state, entry = load_checkpoint(REFERENCE_ADAPTER, folder)
    if untrained:
        state = {k: torch.zeros_like(v) if "lora_B" in k else v for k, v in state.items()}
    save_file({k: v.contiguous() for k, v in state.items()}, str(path),
              metadata={"lora_config": json.dumps(REFERENCE_CONFIG.to_dict()), "base": entry.config["base"]})
    return path


def export_untrained_adapter(path, folder=None):
    """The reference adapter's shape with no training in it (``lora_B`` zero): a file mutant."""
    return export_reference_adapter(path, folder, untrained=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m vlcourse.lora --preset tiny|gpu`` (``--steps``, ``--out``, ``--threads``; also under torchrun)."""
    from vlcourse.checkpoints import reference_training_main

    reference_training_main("Train the reference LoRA adapter (the preset's GPT -> the Python reference).", PRESETS,
                            train_reference, argv)
