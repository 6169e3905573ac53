"""A small fixed-vocabulary tokenizer: whole words where the episodes use them, single characters otherwise.

Tokens are the episodes' descriptions with their arrow as one token each (``"red circle ->"``), the
episodes' words (each with and without a leading space: ``"red"``, ``" red"``), digits, a few symbols, and every lowercase and uppercase letter as a fall-back, so any text made of
those characters encodes. Encoding is greedy longest match from left to right, which a regular
expression alternation with longer tokens first computes; decoding concatenates the tokens' texts,
so ``decode(encode(text)) == text``. The same rule exports exactly to a Hugging Face
``tokenizer.json`` (a ``Split`` pre-tokenizer on that expression, a ``WordLevel`` model, a ``Fuse``
decoder; see :mod:`vlcourse.llm.hf_export`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence

import torch


class VocabTokenizer:
    """Greedy longest-match tokenizer over a fixed list of token strings.

    Example::

        tok = VocabTokenizer(["red", " red", " ->", "\\n", *"abc"])
        tok.encode("red ->")    # [0, 2]
    """

    def __init__(self, tokens: Iterable[str]):
        self.tokens: list[str] = list(dict.fromkeys(tokens))  # unique, first occurrence keeps its id
        if any(not t for t in self.tokens):
            raise ValueError("tokens must be non-empty strings")
        self.stoi = {t: i for i, t in enumerate(self.tokens)}
        by_length = sorted(self.tokens, key=len, reverse=True)
        self.pattern = "|".join(re.escape(t) for t in by_length)
        self._regex = re.compile(self.pattern)

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        ids, position = [], 0
        while position < len(text):
            match = self._regex.match(text, position)
            if match is None:
                raise KeyError(f"character {text[position]!r} is not in this tokenizer's vocabulary")
            ids.append(self.stoi[match.group()])
            position = match.end()
        return ids

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.tokens[i] for i in ids)


def episode_vocabulary(words: Iterable[str], phrases: Iterable[str] = ()) -> list[str]:
    """The ICL model's tokens: whole ``phrases``, ``words`` with and without a leading space, then characters."""
    tokens = ["\n", " ", " ->", "->", *phrases]
    for word in words:
        tokens += [word, " " + word]
    tokens += list(string.digits) + list("+=,:.?!'-*()") + list(string.ascii_lowercase) + list(string.ascii_uppercase)
    return tokens
