"""A GPU day, prepared: train every ``gpu`` preset in a row, check each against its ``tiny`` counterpart.

GPU time is scarce and short (about ten minutes of one H100 now and then), so the presets are sized
to train together in about six minutes and one command does the whole day::

    vlcourse gpu-day                      # train into gpu_day/ (staging), report, keep the winners aside
    vlcourse gpu-day --commit             # ... and copy the checkpoints that beat tiny into vlcourse/weights
    vlcourse gpu-day --dry-run            # every preset a few steps on the CPU (what the test suite runs)

Each preset runs as ``python -m vlcourse.<topic> --preset gpu --out STAGE`` in its own process (a
crash or a time-out costs that preset only; later presets find earlier ones in the staging folder,
e.g. the LoRA adapter its gpu GPT). Each is then compared with the metric of the shipped ``tiny``
checkpoint (:data:`PLAN`); ``report.md`` and ``report.json`` in the staging folder give seconds,
device, the metric of both and whether the gpu one is better. ``--commit`` copies every checkpoint that
is better, with its manifest entry (plus the GPU day's device and seconds), into vlcourse/weights.
Notebooks and hidden tests keep the tiny ones unless told otherwise (:func:`preferred_preset`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from vlcourse.checkpoints import CheckpointEntry, read_manifest
from vlcourse.paths import checkpoints_dir


@dataclass(frozen=True)
class GPURun:
    """One preset of the day: the topic's command, its checkpoints, and the metric it must beat tiny on."""

    topic: str
    checkpoints: tuple[str, ...]  # names without the preset suffix, e.g. "gpt_shakespeare"
    metric: str  # key in the first checkpoint's manifest metrics
    higher_is_better: bool
    timeout_seconds: int = 240

    def name(self, preset: str, index: int = 0) -> str:
        return f"{self.checkpoints[index]}_{preset}"


PLAN: tuple[GPURun, ...] = (
    GPURun("simclr", ("simclr_digits",), "probe_acc_5pc", True),
    GPURun("gpt", ("gpt_shakespeare",), "val_loss", False),
    GPURun("mae", ("mae_shapes",), "val_loss", False),
    GPURun("clip", ("clip_shapes",), "zero_shot_shape", True),
    GPURun("clipcap", ("clipcap_mlp_shapes", "clipcap_transformer_shapes", "caption_gpt_shapes"), "cider", True),
    GPURun("lora", ("lora_python_docs",), "val_loss", False),
)
DRY_RUN_STEPS = 2
# A dry run uses both CPU cores: two lanes, each in the order its presets depend on each other.
DRY_RUN_LANES = (("gpt", "lora", "simclr"), ("clip", "clipcap", "mae"))


@dataclass
class Outcome:
    topic: str
    status: str  # trained | failed | timeout
    seconds: float
    device: str
    metric: str
    gpu_value: float | None = None
    tiny_value: float | None = None
    better: bool = False
    detail: str = ""


def command(run: GPURun, stage: Path, dry_run: bool) -> list[str]:
    args = [sys.executable, "-m", f"vlcourse.{run.topic}", "--preset", "gpu", "--out", str(stage)]
    return args + (["--steps", str(DRY_RUN_STEPS)] if dry_run else [])


def environment(dry_run: bool) -> dict[str, str]:
    env = dict(os.environ)
    if dry_run:
        env["VLCOURSE_DEVICE"] = "cpu"  # the gpu presets, a few steps each, on the CPU,
        env["VLCOURSE_DRY_RUN"] = "1"  # with small batches and data (vlcourse.distributed.with_device)
        env.setdefault("OMP_NUM_THREADS", "1")  # two lanes share the cores
    return env


def device_name(dry_run: bool) -> str:
    import torch

    if dry_run or not torch.cuda.is_available():
        return "cpu"
    return torch.cuda.get_device_name(0)


def compare(run: GPURun, stage: Path, tiny: dict[str, CheckpointEntry]) -> tuple[float | None, float | None, bool]:
    gpu_entry = read_manifest(stage).get(run.name("gpu"))
    tiny_entry = tiny.get(run.name("tiny"))
    gpu_value = gpu_entry.metrics.get(run.metric) if gpu_entry else None
    tiny_value = tiny_entry.metrics.get(run.metric) if tiny_entry else None
    if gpu_value is None or tiny_value is None:
        return gpu_value, tiny_value, False
    better = gpu_value > tiny_value if run.higher_is_better else gpu_value < tiny_value
    return gpu_value, tiny_value, better


def train_one(run: GPURun, stage: Path, dry_run: bool, tiny: dict[str, CheckpointEntry], log=print) -> Outcome:
    started = time.monotonic()
    device = device_name(dry_run)
    try:
        done = subprocess.run(command(run, stage, dry_run), env=environment(dry_run), capture_output=True, text=True,
                              timeout=run.timeout_seconds * (4 if dry_run else 1))
    except subprocess.TimeoutExpired:
        return Outcome(run.topic, "timeout", round(time.monotonic() - started, 1), device, run.metric,
                       detail=f"no result within {run.timeout_seconds} s")
    seconds = round(time.monotonic() - started, 1)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        return Outcome(run.topic, "failed", seconds, device, run.metric, detail=tail[0][:300])
    gpu_value, tiny_value, better = compare(run, stage, tiny)
    outcome = Outcome(run.topic, "trained", seconds, device, run.metric, gpu_value, tiny_value, better)
    log(f"{run.topic}: {seconds:.0f} s on {device}, {run.metric} gpu {gpu_value} vs tiny {tiny_value}"
        f" ({'better' if better else 'not better'})")
    return outcome


def report(outcomes: list[Outcome], stage: Path, total: float) -> str:
    lines = ["| preset | status | seconds | device | metric | gpu | tiny | better |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {o.topic} | {o.status} | {o.seconds:g} | {o.device} | {o.metric} | {o.gpu_value} | {o.tiny_value} | "
              f"{'yes' if o.better else 'no'} |" for o in outcomes]
    text = "\n".join(lines) + f"\n\nTotal: {total:.0f} s.\n"
    (stage / "report.md").write_text(text)
    (stage / "report.json").write_text(json.dumps({"total_seconds": round(total, 1),
                                                   "outcomes": [asdict(o) for o in outcomes]}, indent=1))
    return text


def commit_winners(outcomes: list[Outcome], stage: Path, target: Path | None = None) -> list[str]:
    """Copy every better checkpoint (all of its run's files) and its manifest entry into ``target``."""
    from vlcourse.checkpoints import _write_manifest

    target = target or checkpoints_dir()
    staged, entries, committed = read_manifest(stage), read_manifest(target), []
    runs = {r.topic: r for r in PLAN}
    for outcome in outcomes:
        if not outcome.better:
            continue
        for index in range(len(runs[outcome.topic].checkpoints)):
            name = runs[outcome.topic].name("gpu", index)
            if name not in staged:
                continue
            entry = staged[name]
            shutil.copy2(stage / entry.file, target / entry.file)
            entry.metrics = {**entry.metrics, "gpu_day": {"device": outcome.device, "seconds": outcome.seconds}}
            entries[name] = entry
            committed.append(name)
    _write_manifest(entries, target)
    return committed


def gpu_day(stage: Path, dry_run: bool = False, commit: bool = False, only: list[str] | None = None,
            log=print) -> list[Outcome]:
    """Train the plan (or the ``only`` topics) into ``stage``; see the module docstring."""
    stage.mkdir(parents=True, exist_ok=True)
    tiny = read_manifest()
    started = time.monotonic()
    runs = [run for run in PLAN if only is None or run.topic in only]
    if dry_run:
        done = in_lanes(runs, lambda run: train_one(run, stage, dry_run, tiny, log))
        outcomes = [done[run.topic] for run in runs]
    else:  # one GPU: one preset at a time
        outcomes = [train_one(run, stage, dry_run, tiny, log) for run in runs]
    log(report(outcomes, stage, time.monotonic() - started))
    if commit and not dry_run:
        log(f"committed: {', '.join(commit_winners(outcomes, stage)) or 'nothing (no gpu checkpoint beat its tiny one)'}")
    return outcomes


def in_lanes(runs: list[GPURun], train) -> dict[str, Outcome]:
    """``train`` every run, :data:`DRY_RUN_LANES` side by side (each lane in its order); topic -> outcome."""
    from concurrent.futures import ThreadPoolExecutor

    wanted = {run.topic: run for run in runs}
    lanes = [[wanted[t] for t in lane if t in wanted] for lane in DRY_RUN_LANES]
    lanes.append([run for run in runs if not any(run.topic in lane for lane in DRY_RUN_LANES)])
    with ThreadPoolExecutor(max_workers=len(DRY_RUN_LANES)) as pool:
        results = pool.map(lambda lane: [(run.topic, train(run)) for run in lane], lanes)
    return dict(pair for lane in results for pair in lane)


def preferred_preset(name_without_preset: str) -> str:
    """``gpu`` where the package has that checkpoint (a GPU day committed it), else ``tiny``: the choice is
    visible in the manifest, and notebooks print it."""
    return "gpu" if f"{name_without_preset}_gpu" in read_manifest() else "tiny"
