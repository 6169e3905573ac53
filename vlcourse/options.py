"""Command-line options shared by several commands (argparse only: importing this module costs nothing)."""

from __future__ import annotations

from pathlib import Path


def add_training_options(parser) -> None:
    """``--threads``, ``--steps`` and ``--out`` (shared by ``vlcourse train`` and ``python -m vlcourse.<topic>``)."""
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--steps", type=int, help="stop every training loop after this many steps (a dry run)")
    parser.add_argument("--out", type=Path, help="write the checkpoint and a manifest here (default: vlcourse/weights)")
