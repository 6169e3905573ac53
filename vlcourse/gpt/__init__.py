"""A small GPT: the decoder-only Transformer language model of assignment 02.

The model is GPT-2's (Radford et al. 2018, "Improving Language Understanding by Generative
Pre-Training"; Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"): token and
position embeddings, a stack of pre-LayerNorm Transformer blocks (Vaswani et al. 2017, "Attention Is
All You Need") whose self-attention is *causal* (position t sees positions <= t only), a final
LayerNorm and a linear read-out tied to the token embedding. It is trained to predict every next
token of a text at once.

Everything is importable from ``vlcourse.gpt``; reading order, file by file:

* ``config``: :class:`GPTConfig`.
* ``attention`` (students write it; withheld while grading): :func:`causal_mask`,
  :func:`masked_attention`, :class:`CausalSelfAttention`.
* ``model``: :class:`MLP`, :class:`Block`, :class:`GPT` (``GPT(config, attention_cls=...)`` takes
  the attention class, default the reference one, resolved on first use).
* ``loss`` (students write it; withheld while grading): :func:`lm_loss`.
* ``sampling`` (students write it; withheld while grading): :func:`next_token_distribution`,
  :func:`sample_next`.
* ``generation``: :func:`generate` (``sample_fn=...``, default the reference sampler).
* ``kv_cache`` (for serving, not part of the assignment; import it from ``vlcourse.gpt.kv_cache``):
  a key-value cache, :func:`~vlcourse.gpt.kv_cache.prefill`, :func:`~vlcourse.gpt.kv_cache.decode_step`,
  :func:`~vlcourse.gpt.kv_cache.generate_cached`.
* ``train``: :func:`perplexity`, :data:`PRESETS`, :func:`train_gpt`, :func:`train_preset`,
  :func:`train_reference`, :func:`load_reference`.

While a submission is graded, ``attention.py``, ``loss.py`` and ``sampling.py`` are empty files: the
star imports below then bring nothing, and the rest of the package still works with the student's
classes and functions passed in.

Parameter names (``h.0.attn.c_attn.weight``, ...) follow GPT-2's and are kept stable: the grader
loads reference weights into students' modules by name.

Train the shipped checkpoint with ``python -m vlcourse.gpt --preset tiny``.
"""

from vlcourse.gpt.attention import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.gpt.loss import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.gpt.sampling import *  # noqa: F403  (withheld while grading: may be empty)
from vlcourse.gpt.config import ATTENTION_KINDS, GPTConfig
from vlcourse.gpt.generation import generate, reference_sampler
from vlcourse.gpt.model import GPT, MLP, Block, reference_attention
from vlcourse.gpt.train import (
    PRESETS,
    GPTPreset,
    TrainedGPT,
    checkpoint_name,
    estimate_loss,
    load_reference,
    main,
    make_optimizer,
    perplexity,
    prepare_data,
    save_reference,
    train_gpt,
    train_preset,
    train_reference,
)
