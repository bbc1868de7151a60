"""Benchmark: Chinese transcript search on PostgreSQL (grams[] + GIN + LIKE recheck)
against the SQLite index (FTS5 bigrams) and a plain LIKE scan, on the same synthetic legs.

Usage::

    .venv/bin/python bench/search_pg.py [--docs 100000] [--reps 3] [--pg URL]

Without ``--pg`` a private PostgreSQL 15 cluster is started in a temporary directory
(as the store tests do: tests/integration/pgbed.py) and removed at the end. Both
databases get the same calls and legs (bench/corpus.py) through the stores' API
(``TranscriptStore.save_many``); PostgreSQL is ANALYZEd. For 1-, 2-, 3- and 5-character
Chinese queries and English words: the first page (``search``, 50 hits) and the total
(``search_count``) on each engine, and a ``LIKE '%q%'`` count over the raw text on each.
Counts are cross-checked (both indexes must agree with each other). Prints Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import corpus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.integration.pgbed

from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.transcript import Transcript

T0 = 1_767_225_600_000
QUERIES = {
    "1 char": ["的", "噪", "梯", "仲", "幼", "税", "鑫"],
    "2 chars": ["物业", "噪音", "电梯", "仲裁", "押金", "低保", "校车", "食堂"],
    "3 chars": ["派出所", "业委会", "的噪音", "公积金", "红绿灯", "幼儿园", "残疾证", "物业费"],
    "5 chars": ["拖欠工资的", "劳动仲裁的", "小区门口的", "加装电梯的", "违章建筑了", "朝阳区物业"],
    "English word": ["noise", "refund", "WiFi", "hotline", "order"],
}


def load(db: Path | str, n: int) -> float:
    """The calls and N legs into DB through the stores; seconds."""
    t = time.perf_counter()
    history = History.open(db)
    queues = ("intake", "property", "labour", "environment", "overflow")
    step = 365 * 86_400_000 // max(1, n // 2)
    with history.tx() as conn:
        conn.executemany(
            "INSERT INTO calls (call_id, caller, t_arrival, t_q, first_queue, agent, precision, "
            "source) VALUES (?,?,?,?,?,?,'ms','ami')",
            [(f"{1_795_000_000 + i}.{i}", f"13{i % 1000:03d}{i * 7919 % 1_000_000:06d}",
              T0 + i * step, T0 + i * step + 8000, queues[i % 5], f"agent{i % 100:03d}")
             for i in range(n // 2 + 1)],
        )  # fmt: skip
    store = TranscriptStore.open(db)
    batch: list[Transcript] = []
    for call_id, leg, text in corpus.transcripts(n):
        batch.append(Transcript(call_id, Leg(leg), "whisper", "base", "zh", text, (), 60000,
                                "", T0))  # fmt: skip
        if len(batch) == 5000:
            store.save_many(batch)
            batch = []
    store.save_many(batch)
    if isinstance(db, str):
        store.connection.execute("ANALYZE")
    return time.perf_counter() - t


def timed(fn: Callable[[], object], reps: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pg", help="a PostgreSQL URL (default: a private cluster)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-pg-"))
    server = None
    if args.pg is None:
        from tests.integration import pgbed

        server = pgbed.start(tmp)
        url = server.create("bench")
    else:
        url = args.pg
    try:
        sqlite = tmp / "h.sqlite3"
        print(f"load: sqlite {load(sqlite, args.docs):.1f} s, postgresql "
              f"{load(url, args.docs):.1f} s for {args.docs} legs")  # fmt: skip
        s, p = TranscriptStore.open(sqlite), TranscriptStore.open(url)
        size = p.connection.execute(
            "SELECT pg_table_size('transcripts'), pg_relation_size('transcripts_grams'), "
            "(SELECT sum(length(text)) FROM transcripts)"
        ).fetchone()
        print(f"PostgreSQL: table {size[0] / 1e6:.0f} MB, GIN {size[1] / 1e6:.0f} MB, "
              f"text {size[2] / 1e6:.0f} M characters\n")  # fmt: skip
        print(
            "| query | kind | hits | SQLite page | PG page | SQLite count | PG count "
            "| LIKE count SQLite | LIKE count PG |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for kind, queries in QUERIES.items():
            for q in queries:
                sp, _ = timed(lambda q=q: s.search(q), args.reps)
                pp, _ = timed(lambda q=q: p.search(q), args.reps)
                sc, ns = timed(lambda q=q: s.search_count(q), args.reps)
                pc, np_ = timed(lambda q=q: p.search_count(q), args.reps)
                like = f"%{q}%"
                sl, _nl = timed(lambda like=like: s.connection.execute(
                    "SELECT count(*) FROM transcripts WHERE text LIKE ?", (like,)
                ).fetchone()[0], args.reps)  # fmt: skip
                pl, _ = timed(lambda like=like: p.connection.execute(
                    "SELECT count(*) FROM transcripts WHERE text LIKE ?", (like,)
                ).fetchone()[0], args.reps)  # fmt: skip
                assert ns == np_, (q, ns, np_)
                print(f"| {q} | {kind} | {ns} | {sp:.1f} | {pp:.1f} | {sc:.1f} | {pc:.1f} "
                      f"| {sl:.0f} | {pl:.0f} |")  # fmt: skip
        print(
            "\ntimes in ms, median of",
            args.reps,
            "; LIKE is case-sensitive on raw text (its count may differ for English)",
        )
    finally:
        if server is not None:
            pgbed.stop(server)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
