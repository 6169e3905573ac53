"""In-context learning appears with the number of training tasks (Kirsch, Harrison, Sohl-Dickstein,
Schmidhuber & Chi 2022, "General-Purpose In-Context Learning by Meta-Learning Transformers").

A task relabels digits: pick ``ways`` digit classes, call them 0..ways-1 in a random order, and rotate the
pixels with a random orthogonal matrix. An episode shows ``shots`` labelled examples per class and asks for
the label of one more image. A small Transformer is trained on episodes drawn from a *fixed pool* of T tasks.
With few tasks it memorises them (right on seen tasks, chance on new ones); past some number of tasks it
learns to read the labels from the context and solves tasks it has never seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass
class TaskPool:
    """T tasks: rotations (T, P, P) and the digit classes each task uses, in label order (T, ways)."""

    rotations: Tensor
    classes: Tensor


def random_tasks(num: int, dim: int, ways: int, generator: torch.Generator, num_classes: int = 10) -> TaskPool:
    """``num`` random tasks: orthogonal (dim, dim) rotations and ``ways`` distinct classes each."""
    rotations = torch.linalg.qr(torch.randn(num, dim, dim, generator=generator))[0]  # (T, P, P)
    classes = torch.rand(num, num_classes, generator=generator).argsort(dim=1)[:, :ways]  # (T, ways)
    return TaskPool(rotations, classes)


def sample_episodes(images: Tensor, labels: Tensor, pool: TaskPool, batch: int, shots: int,
                    generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Episodes from tasks of ``pool`` (uniformly): ``(x (B, N, P), y (B, N))`` with N = ways * (shots + 1).

    The N examples of an episode are distinct images in random order; the last one is the query.
    Every class must have more than ``shots`` images.
    """
    ways = pool.classes.shape[1]
    num_classes = int(labels.max()) + 1
    counts = torch.bincount(labels, minlength=num_classes)  # (10,)
    table = torch.full((num_classes, int(counts.max())), -1, dtype=torch.long)
    for c in range(num_classes):
        members = (labels == c).nonzero().squeeze(1)
        table[c, :len(members)] = members
    t = torch.randint(len(pool.classes), (batch,), generator=generator)  # (B,)
    cls = pool.classes[t]  # (B, ways)
    keys = torch.rand(batch, ways, table.shape[1], generator=generator)  # (B, ways, M)
    keys = keys.masked_fill(table[cls] < 0, 2.0)  # padding sorts last
    picks = keys.argsort(dim=2)[:, :, :shots + 1]  # (B, ways, shots + 1): distinct members
    idx = table[cls].gather(2, picks).reshape(batch, -1)  # (B, N)
    y = torch.arange(ways).repeat_interleave(shots + 1).expand(batch, -1)  # (B, N)
    order = torch.rand(batch, idx.shape[1], generator=generator).argsort(dim=1)  # (B, N)
    idx, y = idx.gather(1, order), y.gather(1, order)
    x = torch.bmm(images[idx], pool.rotations[t])  # (B, N, P) @ (B, P, P)
    return x, y


class InContextLearner(nn.Module):
    """A small Transformer over [image ; one-hot label ; is-query] tokens, no positions; reads the query token.

    Args:
        dim: pixel count P.
        ways: number of labels.
        width: model width.
        layers: Transformer layers.
    """

    def __init__(self, dim: int, ways: int, width: int = 64, layers: int = 2):
        super().__init__()
        self.ways = ways
        self.inp = nn.Linear(dim + ways + 1, width)
        layer = nn.TransformerEncoderLayer(width, 4, 2 * width, dropout=0.0, batch_first=True)
        self.body = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(width, ways)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """x: (B, N, P), y: (B, N) (the last label is hidden from the model). Returns (B, ways) logits."""
        onehot = F.one_hot(y, self.ways).float()  # (B, N, ways)
        onehot[:, -1] = 0.0
        flag = torch.zeros(*y.shape, 1)
        flag[:, -1] = 1.0
        h = self.body(self.inp(torch.cat([x, onehot, flag], dim=-1)))  # (B, N, width)
        return self.out(h[:, -1])


def task_count_experiment(images: Tensor, labels: Tensor, num_tasks: int, steps: int, ways: int = 3, shots: int = 4,
                          batch: int = 64, seed: int = 0, eval_episodes: int = 500) -> dict[str, float]:
    """Train on a pool of ``num_tasks`` tasks; accuracy on episodes of seen tasks and of brand-new tasks."""
    gen = torch.Generator().manual_seed(seed)
    dim = images.shape[1]
    pool = random_tasks(num_tasks, dim, ways, gen)
    torch.manual_seed(seed)
    model = InContextLearner(dim, ways)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        x, y = sample_episodes(images, labels, pool, batch, shots, gen)
        loss = F.cross_entropy(model(x, y), y[:, -1])
        opt.zero_grad()
        loss.backward()
        opt.step()
    test_gen = torch.Generator().manual_seed(seed + 1000)
    new_pool = random_tasks(eval_episodes, dim, ways, test_gen)
    out = {}
    with torch.no_grad():
        for name, p in (("seen tasks", pool), ("new tasks", new_pool)):
            x, y = sample_episodes(images, labels, p, eval_episodes, shots, test_gen)
            out[name] = (model(x, y).argmax(1) == y[:, -1]).float().mean().item()
    return out
