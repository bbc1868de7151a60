"""Benchmark: Chinese transcript search on PostgreSQL (grams[] + GIN + LIKE recheck)
against the SQLite index (FTS5 bigrams) and a plain LIKE scan, on the same synthetic legs.

Usage::

    .venv/bin/python bench/search_pg.py [--docs 100000] [--reps 11] [--slow-reps 1] [--pg URL]

Without ``--pg`` a private PostgreSQL 15 cluster is started in a temporary directory
(as the store tests do: tests/integration/pgbed.py) and removed at the end. Both
databases get the same calls and legs (bench/corpus.py) through the stores' API
(``TranscriptStore.save_many``); PostgreSQL is ANALYZEd. For 1-, 2-, 3- and 5-character
Chinese queries and English words: the first page (``search``, 50 hits), the capped total
(``search_total``: exact up to 10,000, else "10,000+") and the full total (``search_count``)
on each engine, and a ``LIKE '%q%'`` count over the raw text on each. Counts are
cross-checked (both indexes must agree with each other, the capped with the full). Prints
Markdown: p50 / p99 per query, then per kind of query.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import corpus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.integration.pgbed

from hotline.recordings.leg import Leg
from hotline.stores.history import History
from hotline.stores.transcripts import COUNT_CAP, TranscriptStore
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


def timed(fn: Callable[[], object], reps: int) -> tuple[list[float], object]:
    """FN's times in ms over REPS runs (sorted), and its last result."""
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times), out


def pct(times: list[float], p: float) -> float:
    """The P-th percentile (nearest rank) of sorted TIMES."""
    return times[min(len(times) - 1, max(0, round(p / 100 * len(times) + 0.5) - 1))]


def ms(times: list[float]) -> str:
    return f"{pct(times, 50):.1f} / {pct(times, 99):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=11, help="runs of each page and capped count")
    ap.add_argument("--slow-reps", type=int, default=1, help="runs of each full count, LIKE")
    ap.add_argument("--pg", help="a PostgreSQL URL (default: a private cluster)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-pg-"))
    server = None
    if args.pg is None:
        from tests.integration import pgbed

        if not (pgbed.BIN / "initdb").exists():
            sys.exit("bench/search_pg.py needs PostgreSQL 15: run scripts/setup as root")
        server = pgbed.start(tmp)
        url = server.create("bench")
    else:
        url = args.pg
    try:
        sqlite = tmp / "h.sqlite3"
        print(f"load: sqlite {load(sqlite, args.docs):.1f} s, postgresql "
              f"{load(url, args.docs):.1f} s for {args.docs} legs", flush=True)  # fmt: skip
        s, p = TranscriptStore.open(sqlite), TranscriptStore.open(url)
        size = p.connection.execute(
            "SELECT pg_table_size('transcripts'), pg_relation_size('transcripts_grams'), "
            "(SELECT sum(length(text)) FROM transcripts)"
        ).fetchone()
        print(f"PostgreSQL: table {size[0] / 1e6:.0f} MB, GIN {size[1] / 1e6:.0f} MB, "
              f"text {size[2] / 1e6:.0f} M characters; SQLite file "
              f"{sqlite.stat().st_size / 1e6:.0f} MB\n")  # fmt: skip
        print(
            "| query | kind | hits | SQLite page | PG page | SQLite capped | PG capped "
            "| SQLite count | PG count | LIKE SQLite | LIKE PG |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        by_kind: dict[str, dict[str, list[float]]] = {}
        for kind, queries in QUERIES.items():
            for q in queries:
                sp, _ = timed(lambda q=q: s.search(q), args.reps)
                pp, _ = timed(lambda q=q: p.search(q), args.reps)
                st, ts = timed(lambda q=q: s.search_total(q), args.reps)
                pt, tp = timed(lambda q=q: p.search_total(q), args.reps)
                sc, ns = timed(lambda q=q: s.search_count(q), args.slow_reps)
                pc, np_ = timed(lambda q=q: p.search_count(q), args.slow_reps)
                like = f"%{q}%"
                sl, _nl = timed(lambda like=like: s.connection.execute(
                    "SELECT count(*) FROM transcripts WHERE text LIKE ?", (like,)
                ).fetchone()[0], args.slow_reps)  # fmt: skip
                pl, _ = timed(lambda like=like: p.connection.execute(
                    "SELECT count(*) FROM transcripts WHERE text LIKE ?", (like,)
                ).fetchone()[0], args.slow_reps)  # fmt: skip
                assert ns == np_, (q, ns, np_)
                assert ts == tp, (q, ts, tp)
                assert ts.n == min(ns, COUNT_CAP), (q, ts, ns)
                assert ts.more == (ns > COUNT_CAP), (q, ts, ns)
                row = {"SQLite page": sp, "PG page": pp, "SQLite capped": st,
                       "PG capped": pt, "SQLite count": sc, "PG count": pc,
                       "LIKE SQLite": sl, "LIKE PG": pl}  # fmt: skip
                for name, times in row.items():
                    by_kind.setdefault(kind, {}).setdefault(name, []).extend(times)
                print(f"| {q} | {kind} | {ns} ({ts}) | " + " | ".join(ms(t) for t in row.values())
                      + " |", flush=True)  # fmt: skip
        print(f"\ntimes in ms, p50 / p99 (nearest rank) of {args.reps} runs (page, capped "
              f"count) or {args.slow_reps} (full count, LIKE); LIKE is case-sensitive on raw "
              "text (its count may differ for English)\n")  # fmt: skip
        names = list(next(iter(by_kind.values())))
        print("| kind | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for kind, cols in by_kind.items():
            print(f"| {kind} | " + " | ".join(ms(sorted(cols[n])) for n in names) + " |")
        print("\nper kind: p50 / p99 over every run of every query of the kind")
    finally:
        if server is not None:
            pgbed.stop(server)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
