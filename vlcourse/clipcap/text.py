"""Words of the shapes captions as tokens: ClipCap's caption vocabulary.

The shapes grammar has about thirty words, so a word-level tokenizer keeps the caption GPT tiny and a
caption a dozen tokens long. Id 0 is padding, 1 starts a caption (the GPT's first input when it is
trained as a language model), 2 ends it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from vlcourse.data.shapes import CAPTION_PREFIXES, NUMBER_WORDS, RELATIONS, SHAPES_PALETTE, SHAPE_NAMES, SIZE_NAMES

__all__ = ["PAD", "BOS", "EOS", "CaptionTokenizer", "caption_words"]

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"


def caption_words() -> list[str]:
    """Every word the shapes captions can use, sorted."""
    words = {"a", "and", "shape", "shapes", *SHAPE_NAMES, *SIZE_NAMES, *SHAPES_PALETTE, *NUMBER_WORDS}
    for phrase in (*RELATIONS, *CAPTION_PREFIXES):
        words.update(phrase.split())
    return sorted(words)


class CaptionTokenizer:
    """Word-level tokenizer of shapes captions (lower case, split on spaces)."""

    def __init__(self, words: Sequence[str] | None = None):
        self.itos = [PAD, BOS, EOS, *(words or caption_words())]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def encode(self, caption: str) -> list[int]:
        """Word ids of a caption (no start or end token); unknown words raise a ValueError."""
        try:
            return [self.stoi[w] for w in caption.lower().split()]
        except KeyError as err:
            raise ValueError(f"word {err.args[0]!r} is not in the caption vocabulary") from None

    def decode(self, ids: Sequence[int]) -> str:
        """The caption of word ids; padding, start and end tokens are dropped."""
        return " ".join(self.itos[i] for i in ids if i > 2)

    def batch(self, captions: Sequence[str], length: int, bos: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``(tokens, mask)``, both (N, length): ``[<bos>] words <eos>`` then padding; mask 1 on real tokens.

        Captions longer than ``length`` raise a ValueError (the caption GPT's context is fixed).
        """
        tokens = torch.full((len(captions), length), self.pad_id, dtype=torch.long)
        for i, caption in enumerate(captions):
            ids = ([self.bos_id] if bos else []) + self.encode(caption) + [self.eos_id]
            if len(ids) > length:
                raise ValueError(f"caption {caption!r} needs {len(ids)} tokens, more than {length}")
            tokens[i, :len(ids)] = torch.tensor(ids)
        return tokens, (tokens != self.pad_id).long()
