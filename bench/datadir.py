"""Where the benchmarks keep what they generate and reuse (captures, corpora, indexes).

``bench/.data/`` (gitignored) by default; ``HOTLINE_BENCH_DATA`` names another directory, as
``make bench QUICK=1`` does (``bench/.data/quick/``), so a quick run's small data never
replaces or removes a full run's.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / ".data"


def data_dir() -> Path:
    return Path(os.environ.get("HOTLINE_BENCH_DATA") or DEFAULT)
