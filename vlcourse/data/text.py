"""Text data for language modelling: the corpus, two tokenizers, the split and the batches.

* :func:`load_corpus` gives tiny Shakespeare (Karpathy's char-rnn corpus, 1.1 MB of public-domain
  plays), from the xz-compressed copy that ships with the package (checked against the same sha256 as
  the download), else from the cache or the network, else a corpus every Python install carries
  (see :func:`fallback_corpus`). :func:`~vlcourse.data.download.fetch` stays the way to other corpora.
* :class:`CharTokenizer` maps each character to an id (the character-level model of the assignment);
  :func:`train_bpe_tokenizer` trains a byte-level byte-pair encoding (Sennrich et al. 2016, as used
  by GPT-2, Radford et al. 2019) with Hugging Face ``tokenizers``, for comparing tokens per character.
* :func:`train_val_split` and :func:`get_batch` turn a token sequence into next-token training pairs.
"""

from __future__ import annotations

import hashlib
import lzma
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from vlcourse.data.download import ChecksumError, DownloadError, fetch

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
SHAKESPEARE_FILE = "tinyshakespeare/input.txt"
# The same text, xz-compressed (364 kB), inside the package: taken from karpathy/char-rnn at commit
# 6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e; its decompressed sha256 is SHAKESPEARE_SHA256.
SHAKESPEARE_BUNDLED = Path(__file__).resolve().parent / "corpora" / "tinyshakespeare.txt.xz"


@dataclass(frozen=True)
class Corpus:
    """A text corpus and where it came from.

    Attributes:
        text: the whole corpus.
        name: ``"tinyshakespeare"`` or ``"python-docs"`` (the offline fallback).
        is_fallback: True when the requested corpus was unavailable and the fallback was used.
        note: one human-readable sentence on the source (and why the fallback was used, if it was).
    """

    text: str
    name: str
    is_fallback: bool
    note: str


def bundled_shakespeare() -> str | None:
    """The text of the copy of tiny Shakespeare that ships with the package, or None if it is absent.

    Raises:
        ChecksumError: the bundled file does not decompress to the expected text.
    """
    if not SHAKESPEARE_BUNDLED.is_file():
        return None
    raw = lzma.decompress(SHAKESPEARE_BUNDLED.read_bytes())
    actual = hashlib.sha256(raw).hexdigest()
    if actual != SHAKESPEARE_SHA256:
        raise ChecksumError(f"{SHAKESPEARE_BUNDLED} decompresses to sha256 {actual}, expected {SHAKESPEARE_SHA256}: "
                            "the package is damaged; reinstall it")
    return raw.decode("utf-8")


def load_corpus(allow_download: bool = True, bundled: bool = True) -> Corpus:
    """Tiny Shakespeare: the copy in the package, else the cache (downloading it if allowed), else the offline fallback.

    Args:
        allow_download: may the cache be filled from :data:`SHAKESPEARE_URL`.
        bundled: use the copy that ships with the package (False: the cache and the network only).

    A checksum mismatch is not silently replaced by the fallback: it raises
    :class:`~vlcourse.data.download.ChecksumError`.
    """
    text = bundled_shakespeare() if bundled else None
    if text is not None:
        return Corpus(
            text=text, name="tinyshakespeare", is_fallback=False,
            note="tiny Shakespeare (40,000 lines of plays, 1,115,394 characters), the copy in the package",
        )
    try:
        path = fetch(SHAKESPEARE_URL, SHAKESPEARE_SHA256, SHAKESPEARE_FILE, allow_download=allow_download)
    except ChecksumError:
        raise
    except DownloadError as err:
        return fallback_corpus(reason=str(err))
    return Corpus(
        text=path.read_text(encoding="utf-8"), name="tinyshakespeare", is_fallback=False,
        note=f"tiny Shakespeare (40,000 lines of plays, 1,115,394 characters) from {path}",
    )


def fallback_corpus(reason: str = "") -> Corpus:
    """A corpus that needs no download: the Python documentation's reference topics.

    ``pydoc_data.topics`` is part of CPython's standard library (it is what ``help("if")`` prints):
    about 80 sections of the language reference as plain text, ≈450,000 characters of technical but
    grammatical English prose with some code. For a character-level language model that is adequate:
    a few hundred kilobytes is the same order as tiny Shakespeare (1.1 MB), the alphabet is small
    (≈100 characters), and the model learns spelling, words and sentence shape in a few minutes,
    just as it does on Shakespeare. We drop the ASCII table rules (``+----+``) and collapse runs of
    spaces, which would otherwise be a large share of easy-to-predict characters.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as err:  # pragma: no cover - only stripped-down Python builds lack it
        raise RuntimeError(
            "tiny Shakespeare is unavailable and this Python lacks pydoc_data (the offline fallback); "
            "download the corpus once while online, or set VLCOURSE_CACHE to a folder that has it"
        ) from err
    lines = []
    for key in sorted(topics):
        for line in topics[key].splitlines():
            if line.strip() and not line.strip(" +-=|"):  # a table rule: only +, -, =, | and spaces
                continue
            lines.append(re.sub(r" {2,}", " ", line.strip()))
    text = "\n".join(lines)
    why = f" because {reason}" if reason else ""
    return Corpus(
        text=text, name="python-docs", is_fallback=True,
        note=f"offline fallback{why}: the Python language reference (pydoc_data.topics, {len(text):,} characters)",
    )


class CharTokenizer:
    """Character-level tokenizer: one id per distinct character of the text it was built from.

    Example::

        tok = CharTokenizer(corpus.text)
        ids = tok.encode("To be")        # list of ints
        tok.decode(ids) == "To be"
    """

    def __init__(self, text: str | Iterable[str]):
        self.chars: str = "".join(sorted(set(text)))
        self.stoi = {ch: i for i, ch in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as err:
            raise KeyError(f"character {err.args[0]!r} is not in this tokenizer's vocabulary") from None

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.chars[i] for i in ids)


class BPETokenizer:
    """Byte-level BPE with the same ``encode`` / ``decode`` / ``vocab_size`` as :class:`CharTokenizer`.

    Wraps a Hugging Face ``tokenizers.Tokenizer`` (available as ``.tokenizer``); build one with
    :func:`train_bpe_tokenizer`.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return self.tokenizer.decode(list(ids))


def train_bpe_tokenizer(text: str, vocab_size: int = 512) -> BPETokenizer:
    """Train a byte-level BPE tokenizer on ``text`` (GPT-2's scheme, Radford et al. 2019).

    Byte-level: the base vocabulary is the 256 byte values, so any string can be encoded and
    decoding gives back exactly the input. Merges of frequent pairs are learnt up to ``vocab_size``.

    Args:
        text: training text.
        vocab_size: final vocabulary size, at least 257 (256 bytes plus one merge).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size <= 256:
        raise ValueError(f"vocab_size must exceed the 256 byte values of byte-level BPE, got {vocab_size}")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tokenizer.train_from_iterator(text.splitlines(keepends=True), trainer=trainer)
    return BPETokenizer(tokenizer)


def tokens_per_char(tokenizer: CharTokenizer | BPETokenizer, text: str) -> float:
    """Average number of tokens the tokenizer spends per character of ``text``."""
    return len(tokenizer.encode(text)) / max(1, len(text))


def train_val_split(data: torch.Tensor, train_fraction: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
    """First ``train_fraction`` of the sequence for training, the rest for validation (no shuffling:
    neighbouring characters are strongly correlated, so a random split would leak)."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    n = int(train_fraction * len(data))
    return data[:n], data[n:]


def get_batch(
    data: torch.Tensor, block_size: int, batch_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows of ``data`` and the same windows shifted by one token.

    Args:
        data: 1-D tensor of token ids, length N > block_size.
        block_size: window length T.
        batch_size: number of windows B.
        generator: random generator for the window starts (for reproducible batches).

    Returns:
        ``(x, y)``, both (B, T) int64 on ``data``'s device, with ``y[:, t] == data[start + t + 1]``:
        the token that follows ``x[:, t]``.
    """
    if data.dim() != 1 or len(data) <= block_size:
        raise ValueError(f"need a 1-D sequence longer than block_size={block_size}, got shape {tuple(data.shape)}")
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)  # (B,)
    offsets = torch.arange(block_size)  # (T,)
    index = (starts[:, None] + offsets[None, :]).to(data.device)  # (B, T)
    return data[index].long(), data[index + 1].long()
