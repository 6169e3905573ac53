"""Tests of vlcourse.data.download and vlcourse.data.text. None of them reaches the network."""

from __future__ import annotations

import functools
import hashlib
import http.server
import math
import re
import socket
import sys
import threading
from pathlib import Path

import pytest
import torch

from vlcourse.data import download, text
from vlcourse.data.download import ChecksumError, DownloadError, fetch
from vlcourse.data.text import (
    CharTokenizer,
    get_batch,
    load_corpus,
    tokens_per_char,
    train_bpe_tokenizer,
    train_val_split,
)

SHARED_SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared/data/tinyshakespeare/input.txt"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache folder, used by vlcourse.paths.cache_dir()."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("VLCOURSE_CACHE", str(folder))
    return folder


@pytest.fixture
def shakespeare_cache(cache) -> Path:
    """A cache that already holds tiny Shakespeare (a link to ../shared/data)."""
    if not SHARED_SHAKESPEARE.exists():
        pytest.skip(f"{SHARED_SHAKESPEARE} is not available")
    (cache / "tinyshakespeare").mkdir(parents=True)
    (cache / text.SHAKESPEARE_FILE).symlink_to(SHARED_SHAKESPEARE)
    return cache


@pytest.fixture(scope="module")
def shakespeare() -> str:
    if not SHARED_SHAKESPEARE.exists():
        pytest.skip(f"{SHARED_SHAKESPEARE} is not available")
    return SHARED_SHAKESPEARE.read_text(encoding="utf-8")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def http_root(tmp_path):
    """A tiny HTTP server on 127.0.0.1 serving a temporary folder: (folder, base url)."""
    root = tmp_path / "served"
    root.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/input.txt"  # nothing listens there any more


def no_partial_files(folder: Path) -> bool:
    return not list(folder.rglob("*.part"))


# ------------------------------------------------------------------------------------------ fetch


def test_fetch_over_http_then_from_cache(cache, http_root):
    root, base = http_root
    payload = b"hello, cache\n" * 1000
    (root / "f.txt").write_bytes(payload)
    path = fetch(f"{base}/f.txt", sha(payload), "sub/f.txt", progress=False)
    assert path == cache / "sub/f.txt"
    assert path.read_bytes() == payload
    assert no_partial_files(cache)
    (root / "f.txt").unlink()  # the server no longer has it: the second call must use the cache
    assert fetch(f"{base}/f.txt", sha(payload), "sub/f.txt", progress=False).read_bytes() == payload


def test_fetch_file_url(cache, tmp_path):
    source = tmp_path / "source.txt"
    source.write_bytes(b"abc")
    path = fetch(source.as_uri(), sha(b"abc"), "x/abc.txt", progress=False)
    assert path.read_bytes() == b"abc"


def test_fetch_checksum_mismatch_writes_nothing(cache, http_root):
    root, base = http_root
    (root / "f.txt").write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        fetch(f"{base}/f.txt", sha(b"original"), "f.txt", progress=False)
    assert not (cache / "f.txt").exists()
    assert no_partial_files(cache)


def test_fetch_replaces_a_damaged_cached_file(cache, tmp_path):
    cache.mkdir()
    (cache / "f.txt").write_bytes(b"damaged")
    source = tmp_path / "good.txt"
    source.write_bytes(b"good")
    assert fetch(source.as_uri(), sha(b"good"), "f.txt", progress=False).read_bytes() == b"good"


def test_fetch_offline_is_a_clear_error(cache):
    with pytest.raises(DownloadError, match="could not download .*VLCOURSE_CACHE"):
        fetch(closed_port_url(), sha(b"x"), "f.txt", progress=False, timeout=5)
    assert no_partial_files(cache)


def test_fetch_http_404_is_a_download_error(cache, http_root):
    _, base = http_root
    with pytest.raises(DownloadError, match="404"):
        fetch(f"{base}/missing.txt", sha(b"x"), "f.txt", progress=False)


def test_fetch_with_download_disabled(cache):
    with pytest.raises(DownloadError, match="downloading is disabled"):
        fetch(closed_port_url(), sha(b"x"), "f.txt", allow_download=False)


def test_nothing_downloads_at_import(cache, monkeypatch):
    import importlib.util
    import urllib.request

    import vlcourse.gpt

    def refuse(*args, **kwargs):
        raise AssertionError("network access at import time")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    for module in (download, text, vlcourse.gpt):  # run each module's top level again, as a fresh copy
        spec = importlib.util.spec_from_file_location(f"fresh_{module.__name__}", module.__file__)
        fresh = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, fresh)  # dataclasses look their module up there
        spec.loader.exec_module(fresh)
    assert not cache.exists() or not any(cache.iterdir())


# ----------------------------------------------------------------------------------------- corpus


def test_load_corpus_from_cache(shakespeare_cache):
    corpus = load_corpus(allow_download=False, bundled=False)
    assert corpus.name == "tinyshakespeare" and not corpus.is_fallback
    assert len(corpus.text) == 1_115_394
    assert corpus.text.startswith("First Citizen:")


def test_bundled_shakespeare_is_the_default_offline(cache, monkeypatch):
    monkeypatch.setattr(text, "SHAKESPEARE_URL", closed_port_url())
    corpus = load_corpus(allow_download=False)
    assert corpus.name == "tinyshakespeare" and not corpus.is_fallback and "package" in corpus.note
    assert len(corpus.text) == 1_115_394 and corpus.text.startswith("First Citizen:")
    assert hashlib.sha256(corpus.text.encode("utf-8")).hexdigest() == text.SHAKESPEARE_SHA256
    assert text.SHAKESPEARE_BUNDLED.stat().st_size < 400_000
    assert not cache.exists() or not any(cache.iterdir())  # nothing downloaded or written to the cache


def test_damaged_bundled_copy_is_refused(tmp_path, monkeypatch):
    import lzma

    damaged = tmp_path / "tinyshakespeare.txt.xz"
    damaged.write_bytes(lzma.compress(b"First Citizen:\nnot quite"))
    monkeypatch.setattr(text, "SHAKESPEARE_BUNDLED", damaged)
    with pytest.raises(ChecksumError, match="reinstall"):
        load_corpus(allow_download=False)
    monkeypatch.setattr(text, "SHAKESPEARE_BUNDLED", tmp_path / "absent.txt.xz")
    assert text.bundled_shakespeare() is None


def test_fallback_corpus_when_offline_and_cache_empty(cache):
    corpus = load_corpus(allow_download=False, bundled=False)
    assert corpus.is_fallback and corpus.name == "python-docs"
    assert "fallback" in corpus.note and "downloading is disabled" in corpus.note
    assert len(corpus.text) > 300_000
    letters = sum(ch.isalpha() or ch.isspace() for ch in corpus.text)
    assert letters / len(corpus.text) > 0.85  # mostly prose, not table borders or code punctuation
    assert " the " in corpus.text
    assert not re.search(r"^[-+=| ]+$", corpus.text, flags=re.MULTILINE)  # table rules were dropped


def test_fallback_when_download_fails(cache, monkeypatch):
    monkeypatch.setattr(text, "SHAKESPEARE_URL", closed_port_url())
    assert load_corpus(allow_download=True, bundled=False).is_fallback


# ------------------------------------------------------------------------------------- tokenizers


def test_char_tokenizer_round_trip(shakespeare):
    tok = CharTokenizer(shakespeare)
    assert tok.vocab_size == 65 and tok.chars == "".join(sorted(set(shakespeare)))
    sample = shakespeare[:5000]
    ids = tok.encode(sample)
    assert len(ids) == len(sample) and min(ids) >= 0 and max(ids) < tok.vocab_size
    assert tok.decode(ids) == sample
    assert tok.decode(torch.tensor(ids)) == sample
    with pytest.raises(KeyError, match="not in this tokenizer"):
        tok.encode("€")


def test_bpe_round_trip_and_compression(shakespeare):
    bpe = train_bpe_tokenizer(shakespeare, vocab_size=512)
    assert bpe.vocab_size == 512
    held_out = shakespeare[-20_000:]
    assert bpe.decode(bpe.encode(held_out)) == held_out
    odd = "Naïve café — ünïcödé, tabs\tand  double  spaces\n"  # unseen characters: byte-level copes
    assert bpe.decode(bpe.encode(odd)) == odd
    char_rate = tokens_per_char(CharTokenizer(shakespeare), held_out)
    bpe_rate = tokens_per_char(bpe, held_out)
    assert char_rate == 1.0
    assert bpe_rate < 0.6, bpe_rate  # 512 merges already roughly halve the sequence length


def test_bpe_rejects_a_vocab_below_the_byte_alphabet():
    with pytest.raises(ValueError, match="256"):
        train_bpe_tokenizer("abc", vocab_size=100)


# ------------------------------------------------------------------------------ split and batches


def test_train_val_split():
    data = torch.arange(1000)
    train, val = train_val_split(data)
    assert len(train) == 900 and len(val) == 100
    assert torch.equal(torch.cat([train, val]), data)


def test_get_batch_targets_are_the_next_tokens():
    data = torch.arange(500) * 7 % 500  # a permutation: each value identifies its position
    gen = torch.Generator().manual_seed(0)
    x, y = get_batch(data, block_size=16, batch_size=8, generator=gen)
    assert x.shape == y.shape == (8, 16) and x.dtype == y.dtype == torch.long
    position = {int(v): i for i, v in enumerate(data)}
    for row_x, row_y in zip(x, y):
        start = position[int(row_x[0])]
        assert torch.equal(row_x, data[start:start + 16])
        assert torch.equal(row_y, data[start + 1:start + 17])
    x2, y2 = get_batch(data, 16, 8, torch.Generator().manual_seed(0))
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_get_batch_reaches_the_last_token():
    data = torch.arange(10)
    gen = torch.Generator().manual_seed(0)
    ys = torch.cat([get_batch(data, 4, 64, gen)[1] for _ in range(4)])
    assert int(ys.max()) == 9 and int(ys.min()) >= 1
    assert math.isclose(float((ys[:, 0] == 1).float().mean()), 1 / 6, abs_tol=0.1)  # 6 possible starts


def test_get_batch_rejects_short_data():
    with pytest.raises(ValueError, match="longer than block_size"):
        get_batch(torch.arange(8), block_size=8, batch_size=1)

