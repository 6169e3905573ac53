"""A masked autoencoder (MAE): the image model of assignment 03, trained by reconstruction.

MAE (He, Chen, Xie, Li, Dollár & Girshick 2022, "Masked Autoencoders Are Scalable Vision Learners",
https://arxiv.org/abs/2111.06377) is masked language modelling for images: cut an image into
patches (the ViT's "words", Dosovitskiy et al. 2021), hide most of them (75 %), encode only the
visible ones with a ViT, and train a small decoder to paint the hidden ones back. The encoder is
what is kept; a linear probe on its features measures what it learnt.

Everything is importable from ``vlcourse.mae``; reading order, file by file:

* ``config``: :class:`MAEConfig`.
* ``patches`` (students write it; withheld while grading): :func:`patchify`, :func:`unpatchify`.
* ``masking`` (students write it; withheld while grading): :func:`random_masking`, :func:`unshuffle`.
* ``model``: :func:`sincos_pos_embed_2d`, :class:`MAEEncoderBase` (the encoder's parameters),
  :class:`MAEDecoder` (``unshuffle_fn=...``), :class:`MAE` (``MAE(config, encoder_cls=...,
  unshuffle_fn=...)``, defaults the reference pieces, resolved on first use). The blocks are the
  shared :class:`vlcourse.transformer.Block` with unmasked :class:`vlcourse.transformer.SelfAttention`.
* ``encoder`` (students write it; withheld while grading): :class:`MAEEncoder`, the forward pass on
  the visible patches.
* ``loss`` (students write it; withheld while grading): :func:`mae_loss`.
* ``train``: :data:`PRESETS` (``tiny``: shapes on a CPU; ``gpu``: CIFAR-10), :func:`train_mae`,
  :func:`reconstruction_loss`, :func:`mean_image_loss`, :func:`extract_features`,
  :func:`probe_accuracy`, :func:`save_mae` / :func:`load_mae`, :func:`train_reference`,
  :func:`load_reference`, :func:`export_reference_mae`, :func:`export_untrained_mae`.
* ``plots``: :func:`reconstruction_figure` (original / masked / reconstruction / with the visible
  patches pasted back).

While a submission is graded, ``patches.py``, ``masking.py``, ``encoder.py`` and ``loss.py`` are
empty files: the star imports below then bring nothing, and the rest of the package still works
with the student's functions and classes passed in.

Train the shipped checkpoint with ``python -m vlcourse.mae --preset tiny``.
"""

from vlcourse.mae.patches import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.mae.masking import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.mae.loss import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.mae.encoder import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.mae.config import MAEConfig
from vlcourse.mae.model import (
    LN_EPS,
    MAE,
    MAEDecoder,
    MAEEncoderBase,
    init_mae_weights,
    reference_encoder,
    reference_unshuffle,
    sincos_pos_embed_1d,
    sincos_pos_embed_2d,
)
from vlcourse.mae.plots import reconstruction_figure, reconstructions
from vlcourse.mae.train import (
    DATASETS,
    PRESETS,
    MAE_SHAPES,
    MAEPreset,
    TrainedMAE,
    checkpoint_name,
    export_reference_mae,
    export_untrained_mae,
    extract_features,
    load_images,
    load_mae,
    load_reference,
    main,
    make_optimizer,
    mask_ratio_sweep,
    masking_noise,
    mean_image_loss,
    probe_accuracy,
    probe_data,
    random_encoder_probe,
    reconstruction_loss,
    reference_metrics,
    save_mae,
    save_reference,
    train_mae,
    train_preset,
    train_reference,
)
