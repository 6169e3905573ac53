"""A small CLIP built with open_clip: the contrastive image–text model of assignment 04.

CLIP (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision") is
SimCLR across modalities: an image tower and a text tower embed a batch of N image–caption pairs,
and a symmetric cross-entropy over the N x N cosine similarities pulls each image towards its own
caption and away from the N - 1 others. Zero-shot classification reads a class off the nearest
prompt embedding; LiT (Zhai et al. 2022) locks a pretrained image tower and trains only the text tower.

Everything is importable from ``vlcourse.clip``; reading order, file by file:

* ``model_configs/*.json``: the course's architectures, registered with open_clip
  (``open_clip.add_model_config``): ``vlc-clip-tiny-rn`` (the CPU checkpoint's: a small ResNet image
  tower), ``vlc-clip-tiny`` (the same text tower with a ViT image tower) and ``vlc-clip-gpu``.
* ``loss`` (students write it; withheld while grading): :func:`clip_loss`.
* ``zeroshot`` (students write it; withheld while grading): :func:`zero_shot_classifier`.
* ``model``: :func:`create_clip` (open_clip's ``create_model_and_transforms`` + tokenizer; pretrained
  weights only when asked), :func:`prepare_images`, :func:`encode_images`, :func:`encode_texts`,
  :func:`text_encoder`, :func:`shape_templates`, :func:`zero_shot_accuracy`, :func:`retrieval_recall`.
* ``train``: :data:`PRESETS`, :func:`silhouette_pairs`, :func:`train_clip` (``loss_fn=...``),
  :func:`evaluate_clip`, :func:`lit_experiment`, :func:`train_reference`, :func:`load_reference`.

While a submission is graded, ``loss.py`` and ``zeroshot.py`` are empty files: the star imports below
then bring nothing, and the rest of the package works with the student's functions passed in.

Train the shipped checkpoint with ``python -m vlcourse.clip --preset tiny``.
"""

from vlcourse.clip.loss import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.clip.zeroshot import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.clip.model import (
    CONFIG_DIR,
    COURSE_MODELS,
    SINGLE_TEMPLATES,
    classify,
    create_clip,
    encode_images,
    encode_texts,
    get_tokenizer,
    model_config,
    prepare_images,
    reference_zero_shot_classifier,
    register_configs,
    retrieval_recall,
    shape_templates,
    text_encoder,
    zero_shot_accuracy,
)
from vlcourse.clip.train import (
    CLIP_SHAPES,
    MAX_LOGIT_SCALE,
    PRESETS,
    TINY_MODEL,
    CLIPPreset,
    TrainedCLIP,
    caption_data,
    checkpoint_name,
    evaluate_clip,
    lit_experiment,
    load_reference,
    lock_image_tower,
    main,
    make_optimizer,
    reference_loss,
    save_reference,
    silhouette_pairs,
    train_clip,
    train_preset,
    train_reference,
    zero_shot_data,
)
