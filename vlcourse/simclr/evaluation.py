"""How good are frozen encoder features? kNN and linear probes on the digits split.

**The headline metric** is ``probe_acc_5pc``: a linear probe trained on the frozen features of only
5 labelled images per class (50 labels), averaged over 5 random draws of those labels, scored on
the 450 test images. Digits are easy: with *all* 1,347 labels a linear probe or a kNN on raw pixels
or on a random, untrained encoder already scores about 97 %, which hides what pre-training adds.
With a handful of labels the gap between a random encoder and a SimCLR encoder is large, which is
the point of self-supervised pre-training.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vlcourse.data.digits import load_digits_split

__all__ = [
    "HEADLINE_METRIC", "extract_features", "few_label_indices", "knn_accuracy", "linear_probe_accuracy",
    "few_label_probe_accuracy", "evaluate_encoder",
]

HEADLINE_METRIC = "probe_acc_5pc"


@torch.no_grad()
def extract_features(encoder: nn.Module, images: Tensor, batch_size: int = 512) -> Tensor:
    """Frozen features of ``images`` in eval mode (batch norm uses its running statistics).

    Args:
        encoder: maps (B, 1, 8, 8) to (B, F); for a module returning ``(h, z)`` (a SimCLRModel)
            the projections z are kept.
        images: shape (N, 1, 8, 8).
        batch_size: images per forward pass.

    Returns:
        float32 features on the CPU, shape (N, F). The module's train/eval mode is restored.
    """
    was_training = encoder.training
    encoder.eval()
    device = next(encoder.parameters()).device
    chunks = []
    for start in range(0, len(images), batch_size):
        out = encoder(images[start : start + batch_size].to(device))
        if isinstance(out, tuple):
            out = out[1]
        chunks.append(out.float().cpu())
    encoder.train(was_training)
    return torch.cat(chunks)  # (N, F)


def few_label_indices(labels: Tensor, labels_per_class: int, seed: int = 0) -> Tensor:
    """Indices of ``labels_per_class`` random examples of each class (sorted), drawn with ``seed``.

    Args:
        labels: shape (N,), int64.

    Returns:
        shape (C * labels_per_class,), int64.
    """
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in torch.unique(labels):
        members = torch.nonzero(labels == cls).flatten()  # (n_cls,)
        if len(members) < labels_per_class:
            raise ValueError(f"class {int(cls)} has only {len(members)} examples, fewer than {labels_per_class}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:labels_per_class]])
    return torch.cat(chosen).sort().values


def knn_accuracy(
    train_feats: Tensor, train_labels: Tensor, test_feats: Tensor, test_labels: Tensor, k: int = 10
) -> float:
    """Accuracy of a cosine-similarity k-nearest-neighbour majority vote.

    Each test feature takes the most common label among its ``k`` most similar training features
    (ties go to the smallest label). Needs no training, so it is the cheap progress metric.

    Args:
        train_feats: (N, F); train_labels: (N,) int64.
        test_feats: (M, F); test_labels: (M,) int64.
        k: neighbours (capped at N).

    Returns:
        fraction of test labels predicted correctly, in [0, 1].
    """
    k = min(k, len(train_labels))
    # Cosine similarity via torch's own normalize: this module must not need vlcourse.simclr.losses,
    # which the assignment withholds while grading.
    sims = F.normalize(test_feats.float(), dim=1) @ F.normalize(train_feats.float(), dim=1).T  # (M, N)
    neighbours = sims.topk(k, dim=1).indices  # (M, k)
    neighbour_labels = train_labels[neighbours]  # (M, k)
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    votes = F.one_hot(neighbour_labels, num_classes).sum(dim=1)  # (M, k, C) -> (M, C)
    predicted = votes.argmax(dim=1)  # (M,)
    return (predicted == test_labels).float().mean().item()


def linear_probe_accuracy(
    train_feats: Tensor,
    train_labels: Tensor,
    test_feats: Tensor,
    test_labels: Tensor,
    labels_per_class: int | None = None,
    seed: int = 0,
) -> float:
    """Test accuracy of a logistic-regression probe on frozen, standardised features.

    The linear evaluation protocol (SimCLR Section 4), with scikit-learn's ``LogisticRegression``
    (L2, C=1). Features are standardised with the mean and std of the labelled training features.

    Args:
        train_feats: (N, F); train_labels: (N,) int64.
        test_feats: (M, F); test_labels: (M,) int64.
        labels_per_class: if given, the probe sees only this many labelled examples per class
            (chosen by :func:`few_label_indices` with ``seed``): the semi-supervised regime.
        seed: which labelled examples are drawn.

    Returns:
        accuracy on the test features, in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if labels_per_class is not None:
        keep = few_label_indices(train_labels, labels_per_class, seed)
        train_feats, train_labels = train_feats[keep], train_labels[keep]
    x_train = train_feats.double().numpy()
    x_test = test_feats.double().numpy()
    scaler = StandardScaler().fit(x_train)
    probe = LogisticRegression(max_iter=2000).fit(scaler.transform(x_train), train_labels.numpy())
    return float(probe.score(scaler.transform(x_test), test_labels.numpy()))


def few_label_probe_accuracy(
    train_feats: Tensor,
    train_labels: Tensor,
    test_feats: Tensor,
    test_labels: Tensor,
    labels_per_class: int = 5,
    draws: int = 5,
) -> float:
    """:func:`linear_probe_accuracy` with few labels, averaged over ``draws`` label draws (seeds 0..draws-1)."""
    scores = [
        linear_probe_accuracy(train_feats, train_labels, test_feats, test_labels, labels_per_class, seed)
        for seed in range(draws)
    ]
    return float(np.mean(scores))


def evaluate_encoder(encoder: nn.Module, knn_k: int = 10) -> dict[str, float]:
    """All evaluation metrics of an encoder on the course's digits split.

    Returns:
        ``knn_acc`` and ``probe_acc`` (all 1,347 training labels); ``knn_acc_5pc`` and
        ``probe_acc_5pc`` (5 labels per class, mean of 5 draws; ``probe_acc_5pc`` is the
        headline); ``probe_acc_1pc`` (1 label per class, mean of 5 draws).
    """
    train_images, train_labels = load_digits_split("train")
    test_images, test_labels = load_digits_split("test")
    train_feats = extract_features(encoder, train_images)
    test_feats = extract_features(encoder, test_images)
    feats = (train_feats, train_labels, test_feats, test_labels)
    few_knn = [
        knn_accuracy(train_feats[idx], train_labels[idx], test_feats, test_labels, k=knn_k)
        for idx in (few_label_indices(train_labels, 5, seed) for seed in range(5))
    ]
    return {
        "knn_acc": knn_accuracy(*feats, k=knn_k),
        "probe_acc": linear_probe_accuracy(*feats),
        "knn_acc_5pc": float(np.mean(few_knn)),
        "probe_acc_5pc": few_label_probe_accuracy(*feats, labels_per_class=5),
        "probe_acc_1pc": few_label_probe_accuracy(*feats, labels_per_class=1),
    }
