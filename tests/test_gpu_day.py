"""The GPU day (issue 21, part 2) cannot rot: its dry run trains every gpu preset a few steps on the CPU.

The dry run is the real command (``vlcourse gpu-day --dry-run``): every preset in its own process,
with the gpu architecture, on the CPU, with small batches and data, into a staging folder; the
report compares each with its tiny checkpoint. The comparison and the commit step are tested on
their own with hand-made manifests (a dry run's two steps never beat tiny).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vlcourse.checkpoints import CheckpointEntry, read_manifest, save_checkpoint
from vlcourse.distributed import with_device
from vlcourse.gpu_day import PLAN, GPURun, Outcome, commit_winners, compare

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    stage = tmp_path_factory.mktemp("gpu_day")
    done = subprocess.run([sys.executable, "-m", "vlcourse.cli", "gpu-day", "--dry-run", "--out", str(stage)],
                          capture_output=True, text=True, timeout=1800, cwd=ROOT)
    return stage, done


def test_dry_run_trains_every_gpu_preset(dry_run):
    stage, done = dry_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((stage / "report.json").read_text())
    assert [o["topic"] for o in report["outcomes"]] == [r.topic for r in PLAN]
    assert all(o["status"] == "trained" and o["device"] == "cpu" for o in report["outcomes"]), report
    staged = read_manifest(stage)
    for run in PLAN:
        for index in range(len(run.checkpoints)):
            entry = staged[run.name("gpu", index)]
            assert entry.preset == "gpu" and (stage / entry.file).is_file()
    assert all(o["gpu_value"] is not None and o["tiny_value"] is not None for o in report["outcomes"])
    assert "| preset | status |" in (stage / "report.md").read_text()


def test_dry_run_keeps_the_gpu_architecture(dry_run):
    stage, _ = dry_run
    from vlcourse.gpt.train import PRESETS

    entry = read_manifest(stage)["gpt_shakespeare_gpu"]
    assert entry.config["model"]["n_layer"] == PRESETS["gpu"].model.n_layer == 6
    assert entry.config["batch_size"] == 8 and entry.config["device"] == "cpu"  # only the batch and device shrink


def test_presets_shrink_only_in_a_dry_run(monkeypatch):
    from vlcourse.mae.train import PRESETS

    gpu = PRESETS["gpu"]
    assert with_device(gpu) is gpu
    monkeypatch.setenv("VLCOURSE_DEVICE", "cpu")
    monkeypatch.setenv("VLCOURSE_DRY_RUN", "1")
    small = with_device(gpu)
    assert (small.device, small.batch_size, small.num_train, small.model) == ("cpu", 8, 256, gpu.model)


def entry_with(folder: Path, name: str, preset: str, metrics: dict) -> None:
    import torch

    save_checkpoint(name, {"w": torch.zeros(2)}, preset=preset, config={}, command="test", metrics=metrics, folder=folder)


@pytest.mark.parametrize("higher, gpu, tiny, better", [(True, 0.9, 0.8, True), (True, 0.7, 0.8, False),
                                                        (False, 1.5, 1.8, True), (False, 1.9, 1.8, False)])
def test_a_gpu_checkpoint_is_better_by_its_metric_only(tmp_path, higher, gpu, tiny, better):
    run = GPURun("gpt", ("gpt_shakespeare",), "val_loss", higher)
    entry_with(tmp_path, "gpt_shakespeare_gpu", "gpu", {"val_loss": gpu})
    tiny_entries = {"gpt_shakespeare_tiny": CheckpointEntry("gpt_shakespeare_tiny", "x", "0", "tiny", {}, "", {"val_loss": tiny})}
    assert compare(run, tmp_path, tiny_entries) == (gpu, tiny, better)


def test_commit_copies_only_the_winners_with_the_days_device(tmp_path):
    stage, target = tmp_path / "stage", tmp_path / "weights"
    target.mkdir()
    entry_with(stage, "gpt_shakespeare_gpu", "gpu", {"val_loss": 1.5})
    entry_with(stage, "simclr_digits_gpu", "gpu", {"probe_acc_5pc": 0.5})
    outcomes = [Outcome("gpt", "trained", 61.0, "NVIDIA H100", "val_loss", 1.5, 1.8, True),
                Outcome("simclr", "trained", 30.0, "NVIDIA H100", "probe_acc_5pc", 0.5, 0.95, False)]
    assert commit_winners(outcomes, stage, target) == ["gpt_shakespeare_gpu"]
    committed = read_manifest(target)
    assert set(committed) == {"gpt_shakespeare_gpu"} and (target / committed["gpt_shakespeare_gpu"].file).is_file()
    assert committed["gpt_shakespeare_gpu"].metrics["gpu_day"] == {"device": "NVIDIA H100", "seconds": 61.0}
