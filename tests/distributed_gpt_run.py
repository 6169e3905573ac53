"""A short GPT run for tests/test_distributed.py: one process, or one of torchrun's.

    python tests/distributed_gpt_run.py OUT.json
    torchrun --standalone --nproc_per_node=2 tests/distributed_gpt_run.py OUT.json

Trains the tiny GPT recipe for a few steps on a slice of tiny Shakespeare with a global batch of 8
windows, through vlcourse.training.train (DDP under torchrun); rank 0 writes the per-step losses.
"""

import dataclasses
import json
import sys

import torch

from vlcourse.data.text import load_corpus
from vlcourse.distributed import init_from_env, world
from vlcourse.gpt.model import GPT
from vlcourse.gpt.train import PRESETS, prepare_data, train_gpt

STEPS, GLOBAL_BATCH = 12, 8


def main(out: str) -> None:
    init_from_env("cpu")
    torch.set_num_threads(1)
    corpus = dataclasses.replace(load_corpus(), text=load_corpus().text[:200_000])
    tokenizer, train_data, val_data = prepare_data(corpus)
    preset = PRESETS["tiny"]
    torch.manual_seed(0)
    model = GPT(dataclasses.replace(preset.model, vocab_size=tokenizer.vocab_size, block_size=32))
    cfg = dataclasses.replace(preset.train, steps=STEPS, warmup_steps=2, eval_every=STEPS, progress=False)
    history = train_gpt(model, train_data, val_data, cfg, GLOBAL_BATCH, eval_iters=2, seed=0)
    if world().is_main:
        with open(out, "w") as handle:
            json.dump({"loss": history.loss, "val_loss": history.last_eval()["val_loss"], "world_size": world().size}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
