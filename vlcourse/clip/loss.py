"""CLIP's contrastive loss (students write it in assignment 04; withheld while grading)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["clip_loss"]


def clip_loss(image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric cross-entropy over the image–text similarity matrix of a batch of N pairs.

    CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language
    Supervision"): image ``i`` and text ``i`` are a positive pair, every other text of the batch is a
    negative for image ``i`` and every other image a negative for text ``i``. Both directions are
    scored with a softmax over cosine similarities times ``exp(logit_scale)`` (the inverse
    temperature) and the two cross-entropies are averaged. It equals open_clip's ``ClipLoss`` called
    on the L2-normalised features and ``logit_scale.exp()``.

    Args:
        image_features: (N, D) image embeddings, not necessarily normalised.
        text_features: (N, D) text embeddings of the paired captions, not necessarily normalised.
        logit_scale: 0-dim tensor, the *log* of the inverse temperature (CLIP's learnable
            parameter, initialised at ln(1 / 0.07)).

    Returns:
        Scalar loss in nats: (CE(image -> text) + CE(text -> image)) / 2.
    """
    image_features = F.normalize(image_features, dim=-1)  # (N, D), unit rows
    text_features = F.normalize(text_features, dim=-1)  # (N, D), unit rows
    logits_per_image = logit_scale.exp() * image_features @ text_features.T  # (N, N): row i = image i vs all texts
    labels = torch.arange(logits_per_image.shape[0], device=logits_per_image.device)  # (N,): the diagonal
    loss_images = F.cross_entropy(logits_per_image, labels)  # each image picks its text
    loss_texts = F.cross_entropy(logits_per_image.T, labels)  # each text picks its image
    return (loss_images + loss_texts) / 2
