"""Helpers that assignment 04's hidden tests run inside the student runner (results checked outside).

None of them contains a graded piece: :class:`LinearMapper` is a one-layer mapper (neither of the
course's two), :class:`DecodingModel` only holds a mapper and a language model (no forward pass), and
:class:`TableLM` is a language model whose answers are known.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vlcourse.clipcap.config import MapperConfig
from vlcourse.clipcap.lm import CaptionLM, GPTCaptionLM
from vlcourse.gpt import GPT, GPTConfig

__all__ = ["LinearMapper", "FixedPrefix", "DecodingModel", "TableLM", "StartMapper", "caption_gpt", "table_model",
           "decoding_model", "build_clipcap", "lm_state", "step_changes", "gpt2_clipcap", "generate_and_inputs"]


class LinearMapper(nn.Module):
    """The simplest mapper: one Linear layer from the CLIP embedding to the P x C prefix."""

    def __init__(self, config: MapperConfig):
        super().__init__()
        self.config = config
        self.proj = nn.Linear(config.clip_dim, config.prefix_length * config.lm_dim)

    def forward(self, clip_embed):
        return self.proj(clip_embed).view(clip_embed.shape[0], self.config.prefix_length, self.config.lm_dim)


class FixedPrefix(nn.Module):
    """A "mapper" that returns given prefixes: row i of ``prefixes`` for an input of the same row values."""

    def __init__(self, prefixes: torch.Tensor, features: torch.Tensor):
        super().__init__()
        self.prefixes, self.features = prefixes, features

    def forward(self, clip_embed):
        rows = [int((self.features == e).all(dim=-1).nonzero()[0]) for e in clip_embed]
        return self.prefixes[rows]


class DecodingModel(nn.Module):
    """Holds ``mapper`` and ``lm``, all that :func:`generate_caption` uses of a ClipCap model."""

    def __init__(self, mapper: nn.Module, lm: CaptionLM):
        super().__init__()
        self.mapper, self.lm = mapper, lm


class TableLM(CaptionLM):
    """A language model whose next-token distribution depends on the last input only: embeddings are
    one-hot vectors, logits are ``log(table[last token])`` (rows: probabilities)."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.as_tensor(table, dtype=torch.float64)
        self.vocab_size = self.embed_dim = len(self.table)
        self.max_length = 256

    def embed(self, tokens):
        return F.one_hot(tokens, self.vocab_size).to(torch.float64)

    def forward_embeds(self, x):
        return x @ self.table.log()


class StartMapper(nn.Module):
    """The prefix of :class:`TableLM`: the one-hot vector of token 0 (a start symbol)."""

    def __init__(self, vocab: int):
        super().__init__()
        self.vocab = vocab

    def forward(self, clip_embed):
        return F.one_hot(torch.zeros(clip_embed.shape[0], 1, dtype=torch.long), self.vocab).to(torch.float64)


def table_model(table) -> DecodingModel:
    return DecodingModel(StartMapper(len(table)), TableLM(table))


def caption_gpt(config: dict, state: dict | None = None, dtype: str = "float64") -> GPTCaptionLM:
    """The course's GPT as a caption LM (``config``: GPTConfig fields), cast, with ``state`` loaded."""
    gpt = GPT(GPTConfig(**config)).to(getattr(torch, dtype))
    if state is not None:
        gpt.load_state_dict(state)
    return GPTCaptionLM(gpt).eval()


def decoding_model(mapper_config: dict, mapper_state: dict, gpt_config: dict, gpt_state: dict | None,
                   dtype: str = "float64") -> DecodingModel:
    """A :class:`LinearMapper` with ``mapper_state`` and the caption GPT, for decoding tests."""
    mapper = LinearMapper(MapperConfig(**mapper_config)).to(getattr(torch, dtype))
    mapper.load_state_dict(mapper_state)
    return DecodingModel(mapper.eval(), caption_gpt(gpt_config, gpt_state, dtype))


def build_clipcap(clipcap_cls, mapper_config: dict, mapper_state: dict, gpt_config: dict, gpt_state: dict | None,
                  dtype: str = "float64", lm_training: bool = False) -> nn.Module:
    """``clipcap_cls(LinearMapper, caption GPT)`` with the given weights (the student's ClipCap class).

    ``lm_training=True`` hands the GPT over in training mode (as a freshly built one is), so that
    whether ``ClipCap`` puts it in eval mode shows (with a ``dropout`` in ``gpt_config``, in the logits too).
    """
    mapper = LinearMapper(MapperConfig(**mapper_config)).to(getattr(torch, dtype))
    mapper.load_state_dict(mapper_state)
    lm = caption_gpt(gpt_config, gpt_state, dtype)
    return clipcap_cls(mapper, lm.train() if lm_training else lm)


def lm_state(model: nn.Module) -> dict:
    """What ``model.lm`` looks like: the names of its parameters that require a gradient and of its
    modules in training mode (``""`` for ``lm`` itself); both empty for a frozen LM in eval mode."""
    lm = model.lm
    return {"requires_grad": sorted(n for n, p in lm.named_parameters() if p.requires_grad),
            "training": sorted(n for n, m in lm.named_modules() if m.training)}


def gpt2_clipcap(clipcap_cls, mapper_config: dict, seed: int = 0, **gpt2_config) -> nn.Module:
    """``clipcap_cls`` around a small random Hugging Face GPT-2 (float64) and a :class:`LinearMapper`."""
    from vlcourse.clipcap.lm import load_gpt2

    torch.manual_seed(seed)
    lm = load_gpt2(pretrained=False, **gpt2_config).double()
    return clipcap_cls(LinearMapper(MapperConfig(**mapper_config)).double(), lm)


def step_changes(model: nn.Module, clip_embed, tokens, mask, lr: float = 1e-2) -> list[str]:
    """Take one :func:`clipcap_step` and return the names of the parameters and buffers it changed."""
    from vlcourse.clipcap.train import clipcap_step

    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    clipcap_step(model, clip_embed, tokens, mask, lr)
    return sorted(k for k, v in model.state_dict().items() if not torch.equal(v, before[k]))


def generate_and_inputs(fn, model, clip_embed, *args, **kwargs):
    """``fn(model, clip_embed, *args, **kwargs)`` and ``clip_embed`` as it is after the call."""
    value = fn(model, clip_embed, *args, **kwargs)
    plain = type(value) is list and all(type(c) is list and all(type(t) is int for t in c) for c in value)
    return (value if plain else f"<{type(value).__name__}>"), clip_embed
