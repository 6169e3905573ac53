"""Training under torchrun (issue 21, part 1): 2 processes over gloo on loopback against one process.

The GPT's loss curve with a global batch split over two ranks matches the one-process run with the
same global batch within 1e-4 relative (float32 sums in another order: the runs agree to about 1e-7);
``python -m vlcourse.<topic>`` runs unchanged under torchrun, rank 0 alone writes the checkpoint,
its manifest entry's ``run`` records the world size, and the checkpoint loads and scores like the
one-process one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vlcourse.distributed import World, gather, mean_over_ranks, shard
from vlcourse.training import STEP_LIMIT_ENV, TrainConfig, limited

HERE = Path(__file__).parent
CURVE_RTOL = 1e-4


def run(args: list[str], distributed: bool, tmp_path: Path) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"] if distributed \
        else [sys.executable]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    done = subprocess.run(launcher + args, capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


def test_shard_takes_each_ranks_contiguous_share():
    batch = (torch.arange(8).view(8, 1), {"mask": torch.arange(8)})
    first, second = shard(batch, World(0, 2)), shard(batch, World(1, 2))
    assert first[0].flatten().tolist() == [0, 1, 2, 3] and second[1]["mask"].tolist() == [4, 5, 6, 7]
    assert shard(batch, World(0, 1)) is batch
    with pytest.raises(ValueError, match="does not split evenly"):
        shard(torch.zeros(6), World(0, 4))


def test_one_process_needs_no_process_group():
    x = torch.randn(3, 2)
    assert gather(x) is x and mean_over_ranks(2.5) == 2.5


def test_a_dry_run_limits_every_loop(monkeypatch):
    cfg = TrainConfig(steps=500, warmup_steps=50, eval_every=100)
    assert limited(cfg) is cfg
    monkeypatch.setenv(STEP_LIMIT_ENV, "3")
    short = limited(cfg)
    assert (short.steps, short.warmup_steps, short.eval_every) == (3, 3, 3)


def test_two_processes_follow_the_one_process_loss_curve(tmp_path):
    run([str(HERE / "distributed_gpt_run.py"), "one.json"], False, tmp_path)
    run([str(HERE / "distributed_gpt_run.py"), "two.json"], True, tmp_path)
    one, two = (json.loads((tmp_path / f).read_text()) for f in ("one.json", "two.json"))
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert len(one["loss"]) == len(two["loss"]) == 12
    torch.testing.assert_close(torch.tensor(two["loss"]), torch.tensor(one["loss"]), rtol=CURVE_RTOL, atol=0)
    assert one["loss"][-1] < one["loss"][0] - 0.5  # it learnt something: the curves are not flat
    assert two["val_loss"] == pytest.approx(one["val_loss"], rel=CURVE_RTOL)


def test_reference_training_runs_unchanged_under_torchrun(tmp_path):
    from vlcourse.checkpoints import read_manifest
    from vlcourse.gpt.train import load_reference

    run(["-m", "vlcourse.gpt", "--preset", "tiny", "--steps", "4", "--threads", "1", "--out", "single"], False, tmp_path)
    done = run(["-m", "vlcourse.gpt", "--preset", "tiny", "--steps", "4", "--threads", "1", "--out", "ddp"], True, tmp_path)
    assert done.stdout.count("wrote gpt_shakespeare_tiny.safetensors") == 1  # rank 0 alone reports and writes
    single, ddp = (read_manifest(tmp_path / d)["gpt_shakespeare_tiny"] for d in ("single", "ddp"))
    assert (single.run["world_size"], ddp.run["world_size"]) == (1, 2)
    assert ddp.config["batch_size"] == single.config["batch_size"] == 32  # the global batch
    assert ddp.metrics["val_loss"] == pytest.approx(single.metrics["val_loss"], rel=1e-3)
    model, _, _ = load_reference("tiny", folder=tmp_path / "ddp")
    reference, _, _ = load_reference("tiny", folder=tmp_path / "single")
    x = torch.randint(0, model.config.vocab_size, (2, 16), generator=torch.Generator().manual_seed(0))  # fixed inputs: no run-to-run luck
    torch.testing.assert_close(model(x)[0], reference(x)[0], rtol=1e-3, atol=1e-3)  # Adam steps on sums in another order


def test_a_contrastive_topic_gathers_every_ranks_embeddings(tmp_path):
    """SimCLR's loss needs the whole batch's projections: under torchrun it gathers them (and trains on)."""
    from vlcourse.checkpoints import read_manifest

    done = run(["-m", "vlcourse.simclr", "--preset", "tiny", "--steps", "3", "--threads", "1", "--out", "ddp"], True,
               tmp_path)
    entry = read_manifest(tmp_path / "ddp")["simclr_digits_tiny"]
    assert entry.run["world_size"] == 2 and "knn_acc" in json.dumps(entry.metrics)
    assert done.stdout.count("wrote simclr_digits_tiny.safetensors") == 1
