"""NPID (Wu et al. 2018, "Unsupervised Feature Learning via Non-Parametric Instance Discrimination").

Every training image is its own class. Instead of a weight vector per class (a parametric softmax
with N rows), NPID keeps a *memory bank* ``V`` (N, D) of L2-normalised features, one per image, and
scores a feature ``v`` against all of them: ``P(i | v) = exp(v_i . v / tau) / sum_j exp(v_j . v / tau)``.
After each step the rows of the images in the batch move towards their new features (momentum),
then are renormalised. SimCLR (Chen et al. 2020) drops the bank and uses the other images of the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MemoryBank:
    """A bank of N unit vectors of dimension D, updated with momentum.

    Args:
        num_items: N, the number of training images.
        dim: D, the feature dimension.
        momentum: weight of the old row in an update, in [0, 1).
        seed: the random initial rows are drawn from this seed.
    """

    def __init__(self, num_items: int, dim: int, momentum: float = 0.5, seed: int = 0):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        gen = torch.Generator().manual_seed(seed)
        self.bank = F.normalize(torch.randn(num_items, dim, generator=gen), dim=1)  # (N, D)
        self.momentum = momentum

    @torch.no_grad()
    def update(self, indices: Tensor, features: Tensor) -> None:
        """Move rows ``indices`` (B,) towards ``features`` (B, D) and renormalise them."""
        new = self.momentum * self.bank[indices] + (1 - self.momentum) * F.normalize(features, dim=1)  # (B, D)
        self.bank[indices] = F.normalize(new, dim=1)


def nonparametric_logits(features: Tensor, bank: Tensor, temperature: float) -> Tensor:
    """Logits of NPID's non-parametric softmax: cosine similarity to every bank row over tau.

    Args:
        features: (B, D), need not be normalised.
        bank: (N, D) unit rows.
        temperature: tau > 0 (the paper uses 0.07).

    Returns:
        (B, N) logits; ``softmax`` over dim 1 gives P(i | v).
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return F.normalize(features, dim=1) @ bank.T / temperature  # (B, N)


def npid_loss(features: Tensor, indices: Tensor, bank: Tensor, temperature: float) -> Tensor:
    """Cross-entropy of each image's feature against its own bank row (the full softmax, no NCE).

    Args:
        features: (B, D) features of images ``indices``.
        indices: (B,) int64, the images' ids in the bank.
        bank: (N, D).
        temperature: tau.

    Returns:
        scalar, the mean of ``-log P(indices[b] | features[b])``.
    """
    return F.cross_entropy(nonparametric_logits(features, bank, temperature), indices)


def train_npid(images: Tensor, steps: int, batch_size: int = 64, temperature: float = 0.1, dim: int = 32,
               seed: int = 0, noise: float = 0.3) -> tuple[nn.Module, MemoryBank, list[float]]:
    """Train a small MLP encoder with NPID on flat images (N, P), augmenting with Gaussian noise.

    Returns ``(encoder, bank, losses)``; the encoder maps (B, P) -> (B, dim).
    """
    torch.manual_seed(seed)
    n, p = images.shape
    encoder = nn.Sequential(nn.Linear(p, 128), nn.ReLU(), nn.Linear(128, dim))
    bank = MemoryBank(n, dim, seed=seed)
    opt = torch.optim.Adam(encoder.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,))
        x = images[idx] + noise * torch.randn(batch_size, p)  # (B, P), an augmented view
        feats = encoder(x)  # (B, dim)
        loss = npid_loss(feats, idx, bank.bank, temperature)
        opt.zero_grad()
        loss.backward()
        opt.step()
        bank.update(idx, feats.detach())
        losses.append(loss.item())
    return encoder.eval(), bank, losses


def collapse_curves(z_dim: int = 16, n: int = 128, steps: int = 100, seed: int = 0) -> dict[str, list[float]]:
    """Train free embeddings of n "images" (two noisy views each) with NT-Xent and with the
    alignment-only loss, recording the spread of the embeddings (``embedding_std``) each step.

    The alignment-only loss ("only increase the diagonal") has a trivial minimum: every embedding
    the same vector. Its spread goes to zero; NT-Xent's does not.
    """
    from vlcourse.simclr import alignment_only_loss, embedding_std, nt_xent_loss

    out: dict[str, list[float]] = {}
    for name, loss_fn in {"NT-Xent (SimCLR)": lambda a, b: nt_xent_loss(a, b, 0.5),
                          "only the diagonal": alignment_only_loss}.items():
        torch.manual_seed(seed)
        data = torch.randn(n, 8)
        net = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, z_dim))
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)
        stds = []
        for _ in range(steps):
            z1 = net(data + 0.1 * torch.randn_like(data))  # (n, z_dim)
            z2 = net(data + 0.1 * torch.randn_like(data))
            loss = loss_fn(z1, z2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            stds.append(embedding_std(z1.detach()).item())
        out[name] = stds
    return out
