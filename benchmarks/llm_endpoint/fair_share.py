"""Fair share on a shared endpoint: 64 clients on 8 keys, the 8th flooding, with and without the per-key rate.

    python benchmarks/llm_endpoint/fair_share.py [--rate 10]

Starts ``vlcourse serve`` (gpt-shakespeare-tiny, one thread) twice on loopback with the same 8 keys:
once with ``--rate-limit RATE`` and once with a rate no key reaches (no limit in effect), and runs
:func:`vlcourse.serve.loadtest.fair_share` against each: the polite keys' median latency without
and with the flood, in the same run. See README.md for the last numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from vlcourse.serve.loadtest import MODEL, fair_share
from vlcourse.serve.run import READY_LINE

KEYS = [f"bench-key-{i:02d}" for i in range(8)]


def measure(rate: float, keys_file: Path) -> dict:
    process = subprocess.Popen([sys.executable, "-m", "vlcourse.serve", "--port", "0", "--model", MODEL, "--threads", "1",
                                "--api-keys", str(keys_file), "--rate-limit", str(rate), "--burst", str(max(1, int(rate)))],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"(http://\S+)", line).group(1) if line.startswith(READY_LINE) else None
        if url is None:
            raise RuntimeError(f"the endpoint did not start: {line!r}")
        result = fair_share(url, KEYS)
        return {"rate_limit": rate, **asdict(result), "ratio": round(result.ratio, 2)}
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second per key (default 10)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.txt"
        keys.write_text("\n".join(KEYS) + "\n")
        rows = [measure(args.rate, keys), measure(1e6, keys)]
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
