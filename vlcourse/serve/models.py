"""The models the local endpoint serves: the course's own small GPTs, loaded from their checkpoints.

A served model is a :class:`~vlcourse.gpt.model.GPT` plus a tokenizer with ``encode(text) -> ids``,
``decode(ids) -> text`` and ``vocab_size`` (the character tokenizer of assignment 02, the ICL
model's word-and-character tokenizer, or :class:`CaptionText` over the caption GPT's words). Its
context length is the GPT's ``block_size``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from vlcourse.checkpoints import read_manifest


@dataclass
class ServedModel:
    """A model as the endpoint knows it.

    Attributes:
        name: the model id clients send (``"gpt-shakespeare-tiny"``).
        model: the GPT, in eval mode on the CPU.
        tokenizer: ``encode`` / ``decode`` / ``vocab_size``.
        checkpoint: the manifest entry's name it was loaded from.
    """

    name: str
    model: nn.Module
    tokenizer: object
    checkpoint: str
    _texts: dict = field(default_factory=dict, repr=False)  # (token, previous) -> text, filled as they come

    @property
    def context_length(self) -> int:
        return int(self.model.config.block_size)

    def token_text(self, token_id: int, previous: int | None = None) -> str:
        """The text ``token_id`` adds after the token ``previous`` (incremental detokenisation).

        For tokenizers whose tokens simply concatenate this is ``decode([token_id])``; for the word
        tokenizer of the caption GPT a word after a word brings its separating space with it, so the
        texts of a row's tokens, each taken after its predecessor, add up to ``decode(row)``.
        """
        key = (int(token_id), None if previous is None else int(previous))
        if key not in self._texts:  # at most vocab_size * (vocab_size + 1) entries
            alone = self.tokenizer.decode([key[0]])
            if previous is None:
                self._texts[key] = alone
            else:
                before = self.tokenizer.decode([key[1]])
                both = self.tokenizer.decode([key[1], key[0]])
                self._texts[key] = both[len(before):] if both.startswith(before) else alone
        return self._texts[key]


def _load_gpt_shakespeare() -> tuple[nn.Module, object]:
    from vlcourse.gpt.train import load_reference

    model, tokenizer, _ = load_reference("tiny")
    return model, tokenizer


def _load_icl() -> tuple[nn.Module, object]:
    return importlib.import_module("vlcourse.icl").load_icl_model()


class CaptionText:
    """The caption GPT's word tokenizer as text in and text out: words separated by spaces, a caption per line.

    The caption GPT of assignment 04 was trained on a stream of captions, each followed by its end
    token (:func:`vlcourse.clipcap.train.caption_stream`); here that end token is a newline, so a
    prompt ``"\\n"`` asks for a fresh caption, ``"a red"`` for the rest of one, and ``stop=["\\n"]``
    ends a completion with its caption. Words are matched case-insensitively; a word outside the
    captions' vocabulary raises ``ValueError`` (the endpoint answers 400). A word brings the space
    before it, so a word's text depends on its predecessor only (:meth:`ServedModel.token_text`).

    Example::

        tok = CaptionText(CaptionTokenizer())
        tok.decode(tok.encode("a red circle\\nthere is"))  # "a red circle\\nthere is"
    """

    def __init__(self, words):
        self.words = words  # a vlcourse.clipcap.text.CaptionTokenizer

    @property
    def vocab_size(self) -> int:
        return self.words.vocab_size

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for i, line in enumerate(text.split("\n")):
            if i:
                ids.append(self.words.eos_id)
            ids += self.words.encode(line)
        return ids

    def hf_tokenizer(self):
        """The same tokenizer as a ``tokenizers.Tokenizer`` (for :mod:`vlcourse.llm.hf_export`).

        Lower-casing, a split on spaces (dropped) and newlines (kept as the end token), a word-level
        vocabulary in our ids (``"\\n"`` in place of ``<eos>``); the decoder puts a space before
        every token, joins them, removes the spaces next to newlines and the leading one.
        """
        from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

        vocab = [*self.words.itos[:self.words.eos_id], "\n", *self.words.itos[self.words.eos_id + 1:]]
        tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(vocab)}, unk_token="<unk>"))  # not in vocab: errors
        tok.normalizer = normalizers.Lowercase()
        tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"[^\S\n]+"), behavior="removed"),
                                                     pre_tokenizers.Split("\n", behavior="isolated")])
        tok.decoder = decoders.Sequence([decoders.Replace(Regex("^"), " "), decoders.Fuse(), decoders.Replace(" \n", "\n"),
                                         decoders.Replace("\n ", "\n"), decoders.Strip(" ", 1, 0)])
        return tok

    def decode(self, ids) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        out = ""
        for i in ids:  # padding and start tokens, never in a caption, show as words: "<pad>", "<bos>"
            if i == self.words.eos_id:
                out += "\n"
            else:
                out += (" " if out and not out.endswith("\n") else "") + self.words.itos[i]
        return out


def _load_caption_gpt() -> tuple[nn.Module, object]:
    lm, words, _ = importlib.import_module("vlcourse.clipcap.train").load_caption_gpt("tiny")
    return lm.model, CaptionText(words)  # the GPT itself: the engine calls model(ids) -> (logits, loss)


@dataclass(frozen=True)
class Servable:
    """How to load one servable model: the checkpoint it needs and a loader returning ``(model, tokenizer)``."""

    checkpoint: str
    loader: Callable[[], tuple[nn.Module, object]]
    description: str


SERVABLE: dict[str, Servable] = {
    "gpt-shakespeare-tiny": Servable("gpt_shakespeare_tiny", _load_gpt_shakespeare,
                                     "character-level GPT of assignment 02, trained on tiny Shakespeare"),
    "icl-tiny": Servable("icl_tiny", _load_icl,
                         "small GPT trained on synthetic few-shot episodes: in-context learning emerges"),
    "caption-gpt-shapes-tiny": Servable("caption_gpt_shapes_tiny", _load_caption_gpt,
                                        "word-level caption GPT of assignment 04 (shapes captions, one per line), "
                                        "for the Socratic pipeline"),
}


def available_models() -> list[str]:
    """Servable models whose checkpoint ships in this installation."""
    shipped = read_manifest()
    return [name for name, servable in SERVABLE.items() if servable.checkpoint in shipped]


def load_served_model(name: str) -> ServedModel:
    """Load a servable model by its id; raises ``KeyError`` naming the known ones."""
    if name not in SERVABLE:
        raise KeyError(f"unknown model {name!r}; servable: {', '.join(SERVABLE)}")
    servable = SERVABLE[name]
    model, tokenizer = servable.loader()
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return ServedModel(name, model, tokenizer, servable.checkpoint)
