"""SimCLR on handwritten digits: the reference implementation behind assignment 01.

SimCLR (Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for Contrastive Learning of
Visual Representations", https://arxiv.org/abs/2002.05709) learns an image encoder without labels:
two random augmentations ("views") of each image go through an encoder ``f`` and a small projection
head ``g``; the NT-Xent loss pulls the two projections of the same image together and pushes them
away from the projections of every other image in the batch. After training the head is thrown
away and the encoder's features ``h = f(x)`` are used downstream (here: kNN and linear probes).

Everything is importable from ``vlcourse.simclr``; the files hold:

* ``model``: :class:`SimCLRConfig`, :data:`PRESETS` (``tiny``: a 2-core CPU; ``gpu``),
  :class:`Encoder` (B, 1, 8, 8) -> (B, feature_dim), :class:`ProjectionHead`, :class:`SimCLRModel`
  (``forward`` returns ``(h, z)``), :func:`save_encoder` / :func:`load_encoder` (safetensors).
* ``losses`` (students write these; withheld while grading): :func:`pairwise_cosine_similarity`,
  :func:`nt_xent_loss`, :func:`alignment_only_loss`, :func:`embedding_std`.
* ``step`` (students write it; withheld while grading): :func:`train_step`.
* ``pretrain``: :func:`train_simclr`, :func:`train_reference`, :func:`load_reference`,
  :func:`reference_metrics`, :func:`export_reference_encoder`, :func:`export_untrained_encoder`.
* ``evaluation``: :func:`extract_features`, :func:`knn_accuracy`, :func:`linear_probe_accuracy`,
  :func:`few_label_probe_accuracy`, :func:`evaluate_encoder`; the headline metric
  ``probe_acc_5pc`` (a linear probe with 5 labels per class) is explained there.

While a submission is graded, ``losses.py`` and ``step.py`` are empty files: the star imports below
then bring nothing, and the rest of the package still works.
"""

from vlcourse.simclr.losses import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.simclr.step import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.simclr.model import (
    PRESETS,
    ConvBlock,
    Encoder,
    ProjectionHead,
    SimCLRConfig,
    SimCLRModel,
    load_encoder,
    save_encoder,
)
from vlcourse.simclr.evaluation import (
    HEADLINE_METRIC,
    evaluate_encoder,
    extract_features,
    few_label_indices,
    few_label_probe_accuracy,
    knn_accuracy,
    linear_probe_accuracy,
)
from vlcourse.simclr.pretrain import (
    export_reference_encoder,
    export_untrained_encoder,
    load_reference,
    reference_metrics,
    reference_name,
    train_reference,
    train_simclr,
    view_pair_batches,
)
