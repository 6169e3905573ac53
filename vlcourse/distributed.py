"""Training on several processes with torch.distributed, launched by ``torchrun``.

``torchrun --nproc_per_node=N -m vlcourse.gpt --preset tiny`` (or ``vlcourse train ...``) runs the
same command in N processes. Each reads its rank from the environment torchrun sets (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``), joins the process group (NCCL on CUDA, gloo on the CPU) and:

* draws the same *global* batch as a single process would (same seeds), then keeps its own
  contiguous share of it (:func:`shard`): rank r gets rows ``[r*B/N, (r+1)*B/N)``. The global batch
  is what a one-process run uses, so the runs are comparable step by step;
* trains a :class:`~torch.nn.parallel.DistributedDataParallel` copy of the model: DDP averages the
  gradients over ranks in the backward pass, which for a loss that is a mean over the batch is the
  gradient of the global batch's loss;
* contrastive losses (SimCLR, CLIP) need every rank's embeddings: :func:`gather` concatenates them
  with ``torch.distributed.nn.functional.all_gather``, whose backward sends each rank the gradient of
  its own rows, so the loss and its gradient are those of the global batch;
* batch norm becomes :class:`~torch.nn.SyncBatchNorm` on CUDA (statistics over the global batch);
  on the CPU, where SyncBatchNorm does not run, each rank normalises with its own share's statistics,
  as plain DDP does;
* rank 0 alone writes the checkpoint; its manifest entry's ``run`` records the world size (the
  config's batch sizes are the global batch); the others wait at a barrier.

Randomness inside the model (dropout, MAE's masking) is drawn per rank, so such runs match a
one-process run in distribution, not number for number.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """This process's place: its rank among ``size`` processes, and its local rank on its node."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def world() -> World:
    """The world as torchrun's environment describes it (one process when it does not)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))


def init_from_env(device: str = "cpu") -> World:
    """Join the process group torchrun prepared (once); a no-op in a single process.

    The backend is NCCL for CUDA and gloo otherwise; on CUDA each process takes the GPU of its
    local rank. Raises with a clear message if the environment is half set.
    """
    here = world()
    if not here.distributed or dist.is_initialized():
        return here
    if "MASTER_ADDR" not in os.environ:
        raise RuntimeError("WORLD_SIZE > 1 but MASTER_ADDR is not set: launch with torchrun --nproc_per_node=N")
    cuda = str(device).startswith("cuda")
    if cuda:
        torch.cuda.set_device(here.local_rank)
    dist.init_process_group("nccl" if cuda else "gloo")
    return world()


DEVICE_ENV = "VLCOURSE_DEVICE"  # run a preset on this device instead of its own (a dry run of a gpu preset on a CPU)
DRY_RUN_ENV = "VLCOURSE_DRY_RUN"  # shrink a preset's data and batches (its model stays): a dry run that cannot rot
DRY_RUN_SIZES = {"batch_size": 8, "gpt_batch_size": 8, "mapper_batch_size": 8, "num_train": 256, "num_val": 64,
                 "probe_train": 128, "probe_test": 64, "eval_iters": 2, "eval_episodes": 20}


def with_device(preset):
    """``preset`` (a dataclass with a ``device``) on ``$VLCOURSE_DEVICE`` where that is set, and with
    :data:`DRY_RUN_SIZES` where ``$VLCOURSE_DRY_RUN`` is set (the architecture is the preset's own)."""
    changes = {}
    if (override := os.environ.get(DEVICE_ENV)) and hasattr(preset, "device"):
        changes["device"] = override
    if os.environ.get(DRY_RUN_ENV):
        changes |= {name: min(getattr(preset, name), size) for name, size in DRY_RUN_SIZES.items()
                    if isinstance(getattr(preset, name, None), int)}
    return dataclasses.replace(preset, **changes) if changes else preset


def dry_run_size(n: int, small: int = 32) -> int:
    """An evaluation's size: ``n``, or at most ``small`` in a dry run (``$VLCOURSE_DRY_RUN``)."""
    return min(n, small) if os.environ.get(DRY_RUN_ENV) else n


def device_for(device: str) -> str:
    """``cuda`` becomes this process's own GPU (``cuda:<local rank>``) under torchrun."""
    if str(device) == "cuda" and world().distributed:
        return f"cuda:{world().local_rank}"
    return str(device)


def check_divisible(global_batch: int, here: World | None = None) -> int:
    """The per-rank batch; the global batch must split evenly so every rank's mean weighs the same."""
    here = here or world()
    if global_batch % here.size:
        raise ValueError(f"the global batch of {global_batch} does not split evenly over {here.size} processes; "
                         f"use a world size that divides it")
    return global_batch // here.size


def shard(batch, here: World | None = None):
    """This rank's contiguous share (along dim 0) of every tensor in a batch (tensors, tuples, lists, dicts)."""
    here = here or world()
    if not here.distributed:
        return batch
    if isinstance(batch, torch.Tensor):
        share = check_divisible(batch.shape[0], here)
        return batch[here.rank * share:(here.rank + 1) * share]
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(b, here) for b in batch)
    if isinstance(batch, dict):
        return {k: shard(v, here) for k, v in batch.items()}
    return batch


def gather(x: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of ``x`` in rank order, ``(N * B, ...)``, differentiable (see module docstring)."""
    if not world().distributed:
        return x
    from torch.distributed.nn.functional import all_gather

    return torch.cat(all_gather(x), dim=0)


def mean_over_ranks(value: float) -> float:
    """The mean of a number over all ranks (the global batch's loss from each rank's share)."""
    if not world().distributed:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor)
    return float(tensor.item()) / world().size


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model as DDP trains it (SyncBatchNorm on CUDA); the model itself when there is one process."""
    if not world().distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    device = next(model.parameters()).device
    if device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DistributedDataParallel(model, device_ids=[device.index])
    return DistributedDataParallel(model)


def barrier() -> None:
    if world().distributed:
        dist.barrier()
