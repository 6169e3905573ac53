"""The language models a prefix is fed to: the course's caption GPT and Hugging Face GPT-2.

ClipCap needs two things of a language model: token embeddings (to put a caption after the prefix)
and a forward pass that starts from embeddings instead of token ids. :class:`CaptionLM` names them
(``embed``, ``forward_embeds``) for both models, so the ClipCap code is the same for both:

* :class:`GPTCaptionLM` wraps the course's :class:`~vlcourse.gpt.GPT` of assignment 02 (trained on
  shapes captions: :func:`~vlcourse.clipcap.train.train_caption_gpt`);
* :class:`HFCaptionLM` wraps a ``transformers`` ``GPT2LMHeadModel`` (the paper's GPT-2); see
  :func:`load_gpt2`, which downloads only when asked.
"""

from __future__ import annotations

import torch
from torch import nn

from vlcourse.gpt import GPT

__all__ = ["CaptionLM", "GPTCaptionLM", "HFCaptionLM", "load_gpt2"]


class CaptionLM(nn.Module):
    """A language model seen through ``embed`` and ``forward_embeds`` (subclasses wrap ``self.model``)."""

    embed_dim: int
    vocab_size: int
    max_length: int

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token embeddings: (B, T) int64 -> (B, T, C)."""
        raise NotImplementedError

    def forward_embeds(self, x: torch.Tensor) -> torch.Tensor:
        """Next-token logits from input embeddings: (B, L, C) -> (B, L, V) (positions added inside)."""
        raise NotImplementedError

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token logits of token ids: (B, T) -> (B, T, V)."""
        return self.forward_embeds(self.embed(tokens))


class GPTCaptionLM(CaptionLM):
    """The course's GPT (assignment 02) as a :class:`CaptionLM`."""

    def __init__(self, gpt: GPT):
        super().__init__()
        self.model = gpt
        self.embed_dim = gpt.config.n_embd
        self.vocab_size = gpt.config.vocab_size
        self.max_length = gpt.config.block_size

    def embed(self, tokens):
        return self.model.wte(tokens)  # (B, T, C)

    def forward_embeds(self, x):
        B, L, C = x.shape
        if L > self.max_length:
            raise ValueError(f"sequence of {L} embeddings exceeds the GPT's block_size={self.max_length}")
        pos = torch.arange(L, device=x.device)  # (L,)
        h = self.model.drop(x + self.model.wpe(pos))  # (B, L, C)
        for block in self.model.h:
            h = block(h)
        return self.model.lm_head(self.model.ln_f(h))  # (B, L, V)


class HFCaptionLM(CaptionLM):
    """A Hugging Face ``GPT2LMHeadModel`` as a :class:`CaptionLM` (``inputs_embeds``)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.embed_dim = model.config.n_embd
        self.vocab_size = model.config.vocab_size
        self.max_length = model.config.n_positions

    def embed(self, tokens):
        return self.model.get_input_embeddings()(tokens)  # (B, T, C)

    def forward_embeds(self, x):
        return self.model(inputs_embeds=x).logits  # (B, L, V)


def load_gpt2(name: str = "gpt2", pretrained: bool = False, **config_overrides) -> HFCaptionLM:
    """GPT-2 through ``transformers``: the paper's language model.

    Args:
        name: a Hugging Face model id (``"gpt2"``, ``"gpt2-medium"``, ...).
        pretrained: download (or read from the Hugging Face cache) the weights; ``False`` (default):
            build a randomly initialised model from ``GPT2Config(**config_overrides)`` and download
            nothing (tests use a small config, e.g. ``n_layer=2, n_embd=32, n_head=2, vocab_size=64``).
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    if pretrained:
        return HFCaptionLM(GPT2LMHeadModel.from_pretrained(name, **config_overrides).eval())
    return HFCaptionLM(GPT2LMHeadModel(GPT2Config(**config_overrides)).eval())
