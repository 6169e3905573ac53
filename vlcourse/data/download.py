"""Checksummed downloads into the vlcourse cache.

:func:`fetch` is the only way the library brings a file from the network: it returns the cached copy
when its sha256 matches, and otherwise downloads the file next to its destination, checks the sha256
and only then moves it into place (``os.replace``, atomic on one file system), so an interrupted or
corrupted download never leaves a file that looks valid. Nothing is downloaded at import time.

The cache is :func:`vlcourse.paths.cache_dir` (``VLCOURSE_CACHE`` overrides it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from vlcourse.checkpoints import sha256_of
from vlcourse.paths import cache_dir

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """The file is not in the cache and could not be downloaded (offline, HTTP error, disabled)."""


class ChecksumError(DownloadError):
    """A downloaded file's sha256 differs from the expected one."""


def fetch(
    url: str,
    sha256: str,
    filename: str | os.PathLike,
    *,
    allow_download: bool = True,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Return the cached file ``cache_dir() / filename``, downloading it from ``url`` if needed.

    Args:
        url: where to download from (``http(s)://`` or ``file://``).
        sha256: expected hex digest of the file; a cached file with another digest is downloaded again.
        filename: path relative to the cache folder, e.g. ``"tinyshakespeare/input.txt"``.
        allow_download: if False, only the cache is consulted (raises :class:`DownloadError` on a miss).
        progress: show a tqdm progress bar while downloading.
        timeout: socket timeout in seconds.

    Returns:
        The path of the verified file.

    Raises:
        DownloadError: the file is not cached (or is damaged) and could not be downloaded.
        ChecksumError: the download finished but its sha256 is not ``sha256``; nothing is written.
    """
    sha256 = sha256.lower()
    dest = cache_dir() / filename
    if dest.exists():
        if sha256_of(dest) == sha256:
            return dest
        stale = f"{dest} exists but its sha256 is not {sha256}"
    else:
        stale = f"{dest} is not in the cache"
    if not allow_download:
        raise DownloadError(f"{stale}, and downloading is disabled; download {url} and place it there.")

    dest.parent.mkdir(parents=True, exist_ok=True)
    # Download next to the destination so that the final os.replace stays on one file system.
    handle, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            with tqdm(
                total=int(length) if length else None, unit="B", unit_scale=True,
                desc=f"download {dest.name}", disable=not progress, leave=False,
            ) as bar:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        actual = digest.hexdigest()
        if actual != sha256:
            raise ChecksumError(
                f"sha256 mismatch for {url}: got {actual}, expected {sha256}. The download is damaged or "
                f"the file changed upstream (a proxy or captive portal can also cause this); nothing was "
                f"written to {dest}."
            )
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError) as err:  # URLError covers HTTP errors and no network
        raise DownloadError(
            f"could not download {url} ({err}). If you are offline, copy the file to {dest} "
            f"(sha256 {sha256}) or point VLCOURSE_CACHE at a folder that has it."
        ) from err
    finally:
        tmp.unlink(missing_ok=True)
    return dest
