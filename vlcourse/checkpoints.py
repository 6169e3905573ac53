"""Reference checkpoints: safetensors weights plus one manifest entry each.

``vlcourse/weights/manifest.json`` maps a checkpoint name to::

    {"file": "simclr_digits_tiny.safetensors", "sha256": "...", "preset": "tiny",
     "config": {...}, "command": "vlcourse train simclr --preset tiny", "metrics": {...}}

Weights are stored with safetensors (no pickle), and every load checks the sha256 first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from vlcourse.paths import checkpoints_dir

MANIFEST_NAME = "manifest.json"


@dataclass
class CheckpointEntry:
    """One manifest entry (see module docstring)."""

    name: str
    file: str
    sha256: str
    preset: str
    config: dict
    command: str
    metrics: dict
    run: dict = field(default_factory=dict)  # how it was trained: world_size (torchrun's processes)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path | None = None) -> dict[str, CheckpointEntry]:
    folder = folder or checkpoints_dir()
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {name: CheckpointEntry(name=name, **fields) for name, fields in raw.items()}


def _write_manifest(entries: dict[str, CheckpointEntry], folder: Path) -> None:
    raw = {
        name: {k: v for k, v in vars(entry).items() if k != "name" and not (k == "run" and not v)}
        for name, entry in sorted(entries.items())
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")


def save_checkpoint(
    name: str,
    state_dict: dict[str, torch.Tensor],
    *,
    preset: str,
    config: dict,
    command: str,
    metrics: dict,
    folder: Path | None = None,
) -> CheckpointEntry:
    """Write ``name.safetensors`` and its manifest entry into ``folder`` (default: the package's).

    Under torchrun only rank 0 writes; the entry's ``run`` records the world size (the config's batch
    sizes are the global batch). Every rank returns the entry once it is written.
    """
    from vlcourse.distributed import barrier, world

    folder = folder or checkpoints_dir()
    if not world().is_main:
        barrier()
        return read_manifest(folder)[name]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.safetensors"
    tensors = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()}
    save_file(tensors, str(path))
    entry = CheckpointEntry(
        name=name, file=path.name, sha256=sha256_of(path), preset=preset,
        config=config, command=command, metrics=metrics, run={"world_size": world().size},
    )
    entries = read_manifest(folder)
    entries[name] = entry
    _write_manifest(entries, folder)
    barrier()
    return entry


def checkpoint_path(name: str, folder: Path | None = None) -> Path:
    """Path of a checkpoint file after checking it against its manifest sha256."""
    folder = folder or checkpoints_dir()
    entries = read_manifest(folder)
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise KeyError(f"no checkpoint named {name!r} in {folder / MANIFEST_NAME} (known: {known})")
    entry = entries[name]
    path = folder / entry.file
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {name!r}: {path} is missing; retrain it with `{entry.command}`")
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise ValueError(
            f"checkpoint {name!r}: sha256 of {path} is {actual}, the manifest says {entry.sha256}; "
            f"the file is damaged or was replaced — retrain it with `{entry.command}`"
        )
    return path


def holding(name: str, folder: Path | None) -> Path | None:
    """``folder`` where its manifest has ``name``, else None (the package's weights): how a run writing into
    another folder (the GPU day's staging folder) finds a checkpoint trained there before it."""
    return folder if folder is not None and name in read_manifest(Path(folder)) else None


def load_checkpoint(name: str, folder: Path | None = None) -> tuple[dict[str, torch.Tensor], CheckpointEntry]:
    """Load a verified checkpoint: ``(state_dict, manifest entry)``."""
    path = checkpoint_path(name, folder)
    return load_file(str(path)), read_manifest(folder)[name]


def run_reference_training(train_reference, preset: str, *, steps: int | None = None, out: Path | None = None,
                           threads: int | None = None) -> CheckpointEntry:
    """Train and save a reference checkpoint: ``train_reference(preset, folder=out)``, as one process or as
    one of torchrun's (see :mod:`vlcourse.distributed`: each process trains its share, rank 0 writes).

    ``steps`` stops every training loop early (a dry run, ``$VLCOURSE_MAX_STEPS``); ``out`` writes the
    checkpoint and a manifest there instead of vlcourse/weights.
    """
    import os

    from vlcourse.distributed import init_from_env
    from vlcourse.training import STEP_LIMIT_ENV

    if threads:
        torch.set_num_threads(threads)
    if steps:
        os.environ[STEP_LIMIT_ENV] = str(steps)
    init_from_env("cuda" if torch.cuda.is_available() else "cpu")
    return train_reference(preset, folder=out) if out else train_reference(preset)


def reference_training_main(description: str, presets, train_reference, argv: list[str] | None = None) -> None:
    """The ``python -m vlcourse.<topic>`` command line (``--preset``, ``--threads``, ``--steps``, ``--out``):
    :func:`run_reference_training`, unchanged under ``torchrun --nproc_per_node=N``."""
    import argparse

    from vlcourse.options import add_training_options
    from vlcourse.distributed import world

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--preset", choices=sorted(presets), default="tiny")
    add_training_options(parser)
    args = parser.parse_args(argv)
    entry = run_reference_training(train_reference, args.preset, steps=args.steps, out=args.out, threads=args.threads)
    if world().is_main:
        print(f"wrote {entry.file}: {entry.metrics}")
