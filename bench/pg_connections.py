"""Benchmark: what a PostgreSQL connection costs hotline, against a query on a kept one.

Usage::

    PYTHONPATH=src .venv/bin/python bench/pg_connections.py [--reps 200]

A private PostgreSQL 15 cluster on a Unix socket (tests/integration/pgbed.py), one
database with one transcript. Timed, each REPS times: ``psycopg.connect`` + close (what a
pool saves), ``TranscriptStore.open`` + close (a connect plus the store's migration
check: what a per-request open would cost), and a capped search total on a store kept
open (what the web app does per request). Prints ms: p50 and p99 (nearest rank).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.integration.pgbed

from hotline.recordings.leg import Leg
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript


def times(fn: Callable[[], object], reps: int) -> str:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return f"{out[len(out) // 2]:.2f} / {out[min(len(out) - 1, int(len(out) * 0.99))]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args()
    from tests.integration import pgbed

    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-pgconn-"))
    if not (pgbed.BIN / "initdb").exists():
        sys.exit("bench/pg_connections.py needs PostgreSQL 15: run scripts/setup as root")
    server = pgbed.start(tmp)
    try:
        url = server.create("bench")
        store = TranscriptStore.open(url)
        store.save(Transcript("c1", Leg.CALLER, "whisper", "base", "zh", "我被拖欠工资", (),
                              3000, "", 0))  # fmt: skip
        print("| operation | p50 / p99 ms |\n|---|---:|")
        connect = times(lambda: psycopg.connect(url).close(), args.reps)
        print(f"| psycopg.connect + close | {connect} |")
        print(f"| TranscriptStore.open + close | "
              f"{times(lambda: TranscriptStore.open(url).close(), args.reps)} |")  # fmt: skip
        print(f"| search_total('拖欠') on a kept store | "
              f"{times(lambda: store.search_total('拖欠'), args.reps)} |")  # fmt: skip
        store.close()
    finally:
        pgbed.stop(server)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
