"""LoRA: adapting a frozen model with a low-rank update (assignment 05).

LoRA (Hu et al. 2022, "LoRA: Low-Rank Adaptation of Large Language Models",
https://arxiv.org/abs/2106.09685) freezes a pretrained weight ``W`` (out, in) and learns
``ΔW = (alpha / r) B A`` with ``A`` (r, in), ``B`` (out, r), ``r`` small: a few thousand parameters
instead of the whole model, an adapter file of kilobytes, and after merging ``W + ΔW`` no cost at
inference. ``B`` starts at zero, so training starts from the pretrained model exactly.

Everything is importable from ``vlcourse.lora``; reading order, file by file:

* ``config``: :class:`LoRAConfig` (validated: r > 0, alpha > 0, dropout in [0, 1), targets that name
  linear layers), :data:`GPT_ATTENTION`, :func:`resolve_targets`.
* ``layer`` (students write it; withheld while grading): :class:`LoRALinear`.
* ``inject`` (students write it; withheld while grading): :func:`inject_lora`, :func:`count_parameters`.
* ``adapter``: :func:`adapter_state_dict`, :func:`save_adapter`, :func:`load_adapter`,
  :func:`read_adapter`, :func:`merge_lora`, :func:`unmerge_lora`, :func:`merge_and_unload`.
* ``train``: :func:`adaptation_data` (the new text), :func:`captions_data` (a second one),
  :func:`run_adaptation`, :func:`rank_sweep`, :func:`summarize`, :func:`format_table`,
  :func:`forward_seconds`, the reference adapter (:func:`train_reference_adapter`,
  :func:`load_reference_adapter`, :func:`export_reference_adapter`, :func:`export_untrained_adapter`).
* ``probes``: helpers the hidden tests run inside the student's process.

Train the shipped reference adapter with ``python -m vlcourse.lora``.

While a submission is graded, ``layer.py`` and ``inject.py`` are empty files: the star imports below
then bring nothing, and the rest of the package works with the student's class and functions passed in.
"""

from vlcourse.lora.layer import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.lora.inject import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.lora.adapter import (
    adapter_state_dict,
    is_lora_layer,
    load_adapter,
    lora_layers,
    merge_and_unload,
    merge_lora,
    read_adapter,
    save_adapter,
    unmerge_lora,
)
from vlcourse.lora.config import GPT_ATTENTION, LoRAConfig, linear_names, matches, resolve_targets
from vlcourse.lora.train import (
    FULL_TRAIN,
    LORA_TRAIN,
    AdaptResult,
    adapt,
    adaptation_data,
    captions_data,
    export_reference_adapter,
    export_untrained_adapter,
    format_table,
    forward_seconds,
    load_reference_adapter,
    PRESETS,
    rank_sweep,
    restrict_to_vocabulary,
    run_adaptation,
    summarize,
    train_reference,
    train_reference_adapter,
)
