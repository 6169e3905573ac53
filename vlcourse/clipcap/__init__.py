"""ClipCap: a CLIP image embedding as a prefix for a frozen language model (assignment 04).

ClipCap (Mokady, Hertz & Bermano 2021, "ClipCap: CLIP Prefix for Image Captioning") captions an image
without training a captioner end to end: a small *mapping network* turns the CLIP image embedding into
P vectors in the language model's input-embedding space, the caption's token embeddings follow them,
and the language model, frozen, is asked to continue. Only the mapper learns, from the caption tokens'
cross-entropy (the prefix positions are never targets).

Everything is importable from ``vlcourse.clipcap``; reading order, file by file:

* ``config``: :class:`MapperConfig`.
* ``text``: :class:`CaptionTokenizer` (the shapes captions' words).
* ``lm``: :class:`CaptionLM` (``embed``, ``forward_embeds``) around the course's GPT
  (:class:`GPTCaptionLM`) or Hugging Face GPT-2 (:class:`HFCaptionLM`, :func:`load_gpt2`).
* ``mapping`` (students write it; withheld while grading): :class:`MLPMapper`, :class:`TransformerMapper`.
* ``captioner`` (students write it; withheld while grading): :class:`ClipCap`.
* ``decoding`` (students write it; withheld while grading): :func:`generate_caption` (greedy, beam).
* ``metrics``: :func:`caption_scores` (BLEU-4, CIDEr), :func:`attribute_accuracy`.
* ``train``: :data:`PRESETS`, :func:`caption_data`, :func:`train_caption_gpt`, :func:`train_mapper`,
  :func:`clipcap_step`, :func:`evaluate_captions`, the nearest-caption and random baselines,
  :func:`train_reference`, :func:`load_caption_gpt`, :func:`load_mapper`, :func:`load_reference`.

While a submission is graded, ``mapping.py``, ``captioner.py`` and ``decoding.py`` are empty files:
the star imports below then bring nothing, and the rest works with the student's pieces passed in.

Train the shipped checkpoints with ``python -m vlcourse.clipcap --preset tiny``.
"""

from vlcourse.clipcap.mapping import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.clipcap.captioner import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.clipcap.decoding import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.clipcap.config import MapperConfig
from vlcourse.clipcap.lm import CaptionLM, GPTCaptionLM, HFCaptionLM, load_gpt2
from vlcourse.clipcap.metrics import attribute_accuracy, caption_scores, parse_main_object
from vlcourse.clipcap.text import BOS, EOS, PAD, CaptionTokenizer, caption_words
from vlcourse.clipcap.train import (
    CAPTION_LENGTH,
    MAPPER_KINDS,
    PRESETS,
    CaptionData,
    ClipCapPreset,
    caption_data,
    caption_gpt_config,
    caption_stream,
    scene_stream,
    checkpoint_name,
    clipcap_step,
    evaluate_captions,
    load_caption_gpt,
    load_mapper,
    load_reference,
    main,
    nearest_caption_baseline,
    random_caption_baseline,
    reference_clipcap,
    reference_generate,
    reference_mapper,
    score_captions,
    train_caption_gpt,
    train_mapper,
    train_reference,
)
