"""Training the ICL model on synthetic episodes, measuring its in-context effects, its checkpoint.

Train and ship the checkpoint with ``python -m vlcourse.icl --preset tiny`` (a few minutes on two
CPU cores); show Kirsch et al.'s transition with ``python -m vlcourse.icl --tasks-sweep 8,0`` (0: a
fresh task per episode; 5000 steps per model by default, about 10 minutes each on one core; last run,
with the previous preset's 64-token context, 8-shot accuracy on seen / unseen tasks: 8 tasks 1.00 /
0.50, a fresh task per episode 0.73 / 0.72).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from pathlib import Path
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from vlcourse.checkpoints import CheckpointEntry, load_checkpoint, save_checkpoint
from vlcourse.gpt.config import GPTConfig
from vlcourse.gpt.model import GPT
from vlcourse.gpt.train import make_optimizer
from vlcourse.icl.episodes import (ATTRIBUTES, LABEL_KINDS, PHRASES, WORDS, EpisodeConfig, EpisodeSampler, Task, arithmetic_prompt,
                                   digit_tuples, few_shot_prompt, final_number, product, random_task, task_pool)
from vlcourse.icl.tokenizer import VocabTokenizer, episode_vocabulary
from vlcourse.gpt.logits import last_logits
from vlcourse.training import TrainConfig, train

CHECKPOINT = "icl_tiny"
SHOTS = (0, 1, 2, 4, 8)
IGNORE = -100  # F.cross_entropy's ignore_index: positions the loss skips


def icl_tokenizer() -> VocabTokenizer:
    return VocabTokenizer(episode_vocabulary(WORDS, PHRASES))


@dataclass
class ICLPreset:
    """A training recipe: model size, schedule, batch, episode distribution, evaluation size."""

    model: GPTConfig
    train: TrainConfig
    batch_size: int = 64
    episodes: EpisodeConfig = field(default_factory=EpisodeConfig)
    seed: int = 0
    eval_episodes: int = 300  # prompts per measured point
    threads: int | None = 1  # torch CPU threads; one avoids oversubscription on a shared 2-core machine
    finetune: TrainConfig | None = None  # a second phase, fresh optimiser, on ``finetune_episodes``
    finetune_episodes: EpisodeConfig | None = None
    description: str = ""


PRESETS: dict[str, ICLPreset] = {
    "tiny": ICLPreset(
        model=GPTConfig(block_size=96, n_layer=3, n_head=4, n_embd=96, dropout=0.0),
        train=TrainConfig(steps=6000, lr=3e-3, min_lr=3e-4, warmup_steps=200, weight_decay=0.1, grad_clip=1.0,
                          eval_every=500, progress=True),
        batch_size=32,
        # few arithmetic lines at first: their long chains would outweigh the labels in the loss, and
        # in-context copying emerges (abruptly, after ~3500 steps) only with enough label episodes
        episodes=EpisodeConfig(lines=16, arithmetic_fraction=0.15, fact_fraction=0.4, label_weights=(0.5, 1.0, 1.0),
                               bursty_fraction=0.5),
        # the second phase, at a lower learning rate and with more arithmetic, lets the copying settle
        # and teaches the products and their chains
        finetune=TrainConfig(steps=3000, lr=1e-3, min_lr=1e-4, warmup_steps=50, weight_decay=0.1, grad_clip=1.0,
                             eval_every=500, progress=True),
        finetune_episodes=EpisodeConfig(lines=16, arithmetic_fraction=0.4, fact_fraction=0.4,
                                        label_weights=(0.5, 1.0, 1.0), bursty_fraction=0.5),
        threads=2,
        description="3 layers x 96 wide, block 96 (two worked products fit), 6000 + 3000 steps of 32 episodes: "
                    "about 10 minutes on two CPU cores",
    ),
}


def encode_segments(tok: VocabTokenizer, segments: list[tuple[str, bool]], length: int) -> tuple[list[int], list[int]]:
    """Input ids and targets of one sequence, ``length + 1`` tokens cut into (x, y); y is IGNORE where not learnt."""
    ids, learn = [], []
    for text, learnt in segments:
        piece = tok.encode(text)
        ids += piece
        learn += [learnt] * len(piece)
    ids, learn = ids[: length + 1], learn[: length + 1]
    x = ids[:-1] + [0] * (length + 1 - len(ids))
    y = [t if flag else IGNORE for t, flag in zip(ids[1:], learn[1:])] + [IGNORE] * (length + 1 - len(ids))
    return x, y


def batches(tok: VocabTokenizer, sampler: EpisodeSampler, batch_size: int, block_size: int):
    """Endless (x, y) batches of (B, T) int64 from ``sampler``, T the longest sequence's length (<= block_size)."""
    while True:
        pairs = [encode_segments(tok, sampler.sequence(block_size - 4), block_size) for _ in range(batch_size)]
        x, y = torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])  # (B, block), (B, block)
        used = int((y != IGNORE).any(0).nonzero().max()) + 1  # columns after the last target are padding
        yield x[:, :used], y[:, :used]  # (B, T), (B, T)


@torch.no_grad()
def greedy_complete(model: nn.Module, tok: VocabTokenizer, prompts: list[str], max_new: int, stop: str = "\n") -> list[str]:
    """Greedy continuations of many prompts at once, each up to ``stop`` or ``max_new`` tokens."""
    was_training = model.training
    model.eval()
    rows = [tok.encode(p) for p in prompts]
    outs = [""] * len(prompts)
    done = [False] * len(prompts)
    block = model.config.block_size
    for _ in range(max_new):
        live = [i for i in range(len(rows)) if not done[i]]
        if not live:
            break
        nxt = last_logits(model, [rows[i][-block:] for i in live]).argmax(-1)  # (B,)
        for i, t in zip(live, nxt.tolist()):
            rows[i].append(t)
            outs[i] += tok.tokens[t]
            done[i] = stop in outs[i]
    model.train(was_training)
    return [o.split(stop)[0] for o in outs]


def label_accuracy(model: nn.Module, tok: VocabTokenizer, tasks: list[Task], shots: int, seed: int) -> dict:
    """Accuracy of the greedy label for one query per task after ``shots`` examples, and how often the
    model answered with the value's real name instead (the prior that flipped labels must override)."""
    rng = random.Random(seed)
    prompts, answers, real = [], [], []
    for task in tasks:
        prompt, label = few_shot_prompt(task, shots, rng)
        prompts.append(prompt)
        answers.append(label)
        query = tuple(prompt.split("\n")[-1].removesuffix(" ->").split(" "))
        real.append(Task(task.attribute, "real", ATTRIBUTES[task.attribute]).label(query))
    predicted = [p.strip() for p in greedy_complete(model, tok, prompts, max_new=2)]
    n = len(tasks)
    return {"accuracy": round(sum(p == a for p, a in zip(predicted, answers)) / n, 3),
            "real_label_rate": round(sum(p == r for p, r in zip(predicted, real)) / n, 3)}


def shots_curve(model: nn.Module, tok: VocabTokenizer, n: int = 300, seed: int = 1) -> dict:
    """Accuracy against the number of shots for each label kind, on fresh (held-out) random tasks."""
    curve = {}
    for kind in LABEL_KINDS:
        rng = random.Random(seed + LABEL_KINDS.index(kind))
        tasks = [random_task(rng, kind) for _ in range(n)]
        curve[kind] = {str(k): label_accuracy(model, tok, tasks, k, seed=seed * 100 + k) for k in SHOTS}
    return curve


def arithmetic_accuracy(model: nn.Module, tok: VocabTokenizer, cot: bool, n: int = 300, seed: int = 2) -> float:
    """Exact-answer accuracy on ``n`` held-out digit tuples, answered directly or with a chain of thought."""
    problems = random.Random(seed).sample(digit_tuples("heldout"), n)
    texts = greedy_complete(model, tok, [arithmetic_prompt(d, cot) for d in problems], max_new=40 if cot else 4)
    return round(sum(final_number(t) == product(d) for t, d in zip(texts, problems)) / n, 3)


def measure(model: nn.Module, tok: VocabTokenizer, n: int = 300) -> dict:
    """The three effects, measured: accuracy vs shots per label kind, CoT vs direct on held-out products."""
    return {"shots": shots_curve(model, tok, n),
            "arithmetic_heldout": {"direct": arithmetic_accuracy(model, tok, False, n),
                                   "chain_of_thought": arithmetic_accuracy(model, tok, True, n)}}


def seen_vs_unseen(model: nn.Module, tok: VocabTokenizer, cfg: EpisodeConfig, shots: int = 8, n: int = 300) -> dict:
    """Kirsch et al.'s two measures: accuracy on tasks from the training pool and on fresh tasks."""
    rng = random.Random(5)
    unseen = [random_task(rng) for _ in range(n)]
    seen = [rng.choice(task_pool(cfg.num_tasks, cfg.task_seed)) for _ in range(n)] if cfg.num_tasks else unseen
    return {"seen": label_accuracy(model, tok, seen, shots, 7)["accuracy"],
            "unseen": label_accuracy(model, tok, unseen, shots, 8)["accuracy"]}


@dataclass
class TrainedICL:
    model: GPT
    tokenizer: VocabTokenizer
    preset: ICLPreset
    seconds: float
    final_loss: float


def train_icl(preset: ICLPreset) -> TrainedICL:
    """Build and train the GPT of ``preset`` on its episode distribution (then its fine-tuning phase, if any)."""
    tok = icl_tokenizer()
    if preset.threads:
        torch.set_num_threads(preset.threads)
    torch.manual_seed(preset.seed)
    model = GPT(dataclasses.replace(preset.model, vocab_size=tok.vocab_size))
    start = time.perf_counter()
    final = train_phase(model, tok, preset.train, preset.episodes, preset, seed=preset.seed)
    if preset.finetune is not None:
        final = finetune_icl(model, tok, preset)
    return TrainedICL(model.eval(), tok, preset, time.perf_counter() - start, final)


def finetune_icl(model: GPT, tok: VocabTokenizer, preset: ICLPreset) -> float:
    """The second phase of ``preset`` on an already trained model (fresh optimiser and sampler)."""
    return train_phase(model, tok, preset.finetune, preset.finetune_episodes or preset.episodes, preset,
                       seed=preset.seed + 1)


def train_phase(model: GPT, tok: VocabTokenizer, cfg: TrainConfig, episodes: EpisodeConfig, preset: ICLPreset,
                seed: int) -> float:
    """One phase of training; returns the mean loss of its last 50 steps."""
    sampler = EpisodeSampler(episodes, seed=seed)
    data = batches(tok, sampler, preset.batch_size, preset.model.block_size)
    start = time.perf_counter()

    def evaluate() -> dict:  # the emergence of in-context learning, watched as it trains
        rng = random.Random(3)
        tasks = [random_task(rng, "nonsense") for _ in range(100)]
        metrics = {"nonsense_8_shot": label_accuracy(model, tok, tasks, 8, seed=4)["accuracy"],
                   "seconds": round(time.perf_counter() - start, 1)}
        if cfg.progress:
            print(f"icl: {metrics}", flush=True)
        return metrics

    history = train(model, data, lambda m, b: m(*b)[1], cfg, evaluate=evaluate if cfg.eval_every else None,
                    optimizer=make_optimizer(model, cfg.lr, cfg.weight_decay, 0.99), desc="icl")
    losses = history.loss[-50:]
    return sum(losses) / len(losses) if losses else float("nan")


def save_icl(result: TrainedICL, metrics: dict, command: str, folder=None) -> CheckpointEntry:
    state = {k: v for k, v in result.model.state_dict().items() if k != "lm_head.weight"}  # tied to wte
    config = {"model": asdict(result.model.config), "train": asdict(result.preset.train),
              "batch_size": result.preset.batch_size, "episodes": asdict(result.preset.episodes),
              "seed": result.preset.seed, "tokens": result.tokenizer.tokens,
              "finetune": asdict(result.preset.finetune) if result.preset.finetune else None,
              "finetune_episodes": asdict(result.preset.finetune_episodes) if result.preset.finetune_episodes else None}
    return save_checkpoint(CHECKPOINT, state, preset="tiny", config=config, command=command, metrics=metrics, folder=folder)


def load_icl_model(folder=None) -> tuple[GPT, VocabTokenizer]:
    """The shipped ICL model (eval mode, CPU) and its tokenizer."""
    state, entry = load_checkpoint(CHECKPOINT, folder)
    model = GPT(GPTConfig(**entry.config["model"]))
    model.load_state_dict(state)
    return model.eval(), VocabTokenizer(entry.config["tokens"])


def train_reference(preset: str = "tiny", folder=None) -> CheckpointEntry:
    """Train, measure and save the reference ICL checkpoint (``vlcourse train``'s entry point)."""
    result = train_icl(PRESETS[preset])
    metrics = {"train_seconds": round(result.seconds, 1), "torch_threads": torch.get_num_threads(),
               "params": result.model.num_params(non_embedding=False), **measure(result.model, result.tokenizer,
                                                                                   PRESETS[preset].eval_episodes)}
    return save_icl(result, metrics, f"python -m vlcourse.icl --preset {preset}", folder)


def tasks_sweep(counts: list[int], steps: int, n: int = 300) -> dict:
    """Train one model per number of distinct tasks (0: unbounded) and measure seen vs unseen accuracy."""
    base = PRESETS["tiny"]
    results = {}
    for count in counts:
        preset = dataclasses.replace(base, train=dataclasses.replace(base.train, steps=steps), finetune=None,
                                     episodes=dataclasses.replace(base.episodes, num_tasks=count or None,
                                                                  arithmetic_fraction=0.0))
        trained = train_icl(preset)
        results[str(count or "unbounded")] = seen_vs_unseen(trained.model, trained.tokenizer, preset.episodes, n=n)
        print(f"tasks={count or 'unbounded'}: {results[str(count or 'unbounded')]}", flush=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the ICL model on synthetic few-shot episodes.")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--tasks-sweep", help="comma-separated task counts (0: unbounded): show the "
                        "memorisation -> in-context learning transition instead of training the checkpoint")
    parser.add_argument("--steps", type=int, default=5000, help="training steps per sweep model (with a fresh "
                        "task per episode, in-context copying had not emerged after a 3000-step run, it had after 5000)")
    parser.add_argument("--out", help="write the sweep's results as JSON here")
    parser.add_argument("--folder", help="write the checkpoint and its manifest entry here (default: vlcourse/weights)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.tasks_sweep:
        results = tasks_sweep([int(c) for c in args.tasks_sweep.split(",")], args.steps)
        if args.out:
            with open(args.out, "w") as handle:
                json.dump(results, handle, indent=2)
        return
    entry = train_reference(args.preset, folder=Path(args.folder) if args.folder else None)
    print(f"wrote {entry.file}: {json.dumps(entry.metrics, indent=1)}")
