"""Benchmark: transcript search on 1 M synthetic transcripts against a plain LIKE scan.

Usage::

    .venv/bin/python bench/search.py [--docs 1000000] [--reps 3] [--no-peers]

Builds once, into ``bench/.data/`` (gitignored; ``HOTLINE_BENCH_DATA`` names another;
reused while corpus.py and the index's migration are unchanged): a file with the history's
calls and the transcripts in the *first* transcripts schema (main before search), then a
copy opened with :class:`TranscriptStore`, so its migration builds the index over every
existing row — that time is the index build time. Peers, built in the same file: an FTS5 ``trigram``
index on the raw text (the usual answer; it cannot serve 1–2 characters) and our bigram
index without ``prefix='1'`` (what the prefix index buys for 1-character queries).

Then for 1-, 2-, 3- and 5-character Chinese queries and English words (each several
queries of different frequency, ``--reps`` interleaved repetitions): the first page
through the API (``search``, 50 hits with snippets, the join to calls) and the total
(``search_count``), against ``LIKE '%q%'`` first page and count on the same rows, and the
peers' MATCH. Counts are cross-checked: ours must equal LIKE's (the corpus has no spaces
between Chinese words, so both mean the same). Filtered searches (one agent, a month, a
queue, a caller) through the API, then each of them run all three ways
(:mod:`hotline.stores.search_plan`'s choice forced) against the way the planner picks, and
the per-row costs of its cost model timed on the SQL it runs. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import corpus
from datadir import data_dir
from hotline.recordings.leg import Leg
from hotline.stores import schema, search_plan
from hotline.stores.history import History
from hotline.stores.transcripts import MIGRATIONS, SearchFilters, TranscriptStore, prepare
from hotline.transcripts.fulltext import grams, parse_query
from hotline.transcripts.transcript import Transcript

T0 = 1_767_225_600_000  # 2026-01-01 Shanghai
YEAR_MS = 365 * 86_400_000
QUEUES = ("intake", "property", "labour", "environment", "overflow")
QUERIES = {
    "1 char": ["的", "噪", "梯", "仲", "幼", "税", "鑫"],
    "2 chars": ["物业", "噪音", "电梯", "仲裁", "押金", "低保", "校车", "食堂"],
    "3 chars": ["派出所", "业委会", "的噪音", "公积金", "红绿灯", "幼儿园", "残疾证", "物业费"],
    "5 chars": ["拖欠工资的", "劳动仲裁的", "小区门口的", "加装电梯的", "违章建筑了", "朝阳区物业"],
    "English word": ["noise", "refund", "WiFi", "hotline", "order"],
}


def fingerprint(*, index: bool) -> str:
    """Changes with the corpus (and, with INDEX, the index's definition): rebuild then."""
    h = hashlib.sha256(Path(corpus.__file__).read_bytes())
    if index:
        h.update("".join(MIGRATIONS).encode())
        h.update(Path(sys.modules[grams.__module__].__file__ or "").read_bytes())
    return h.hexdigest()[:10]


def caller(i: int) -> str:
    """The caller number of call I (distinct for every call of the corpus)."""
    return f"13{i % 1000:03d}{i * 7919 % 1_000_000:06d}"


def build_corpus(path: Path, n: int) -> float:
    """The v1 file: calls in the history, transcripts in the first schema. Seconds."""
    t = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    History.open(tmp).close()
    conn = schema.connect(tmp)
    schema.migrate(conn, "transcripts", MIGRATIONS[:1])
    conn.execute("BEGIN")
    step = YEAR_MS // max(1, n // 2)
    conn.executemany(
        "INSERT INTO calls (call_id, caller, t_arrival, t_q, first_queue, agent, precision, "
        "source) VALUES (?,?,?,?,?,?,'ms','ami')",
        (
            (f"{1_795_000_000 + i}.{i}", caller(i),
             T0 + i * step, T0 + i * step + 8000, QUEUES[i % 5], f"agent{i % 100:03d}")
            for i in range(n // 2 + 1)
        ),
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO transcripts VALUES (?,?,'whisper','base','zh',?,'[]',60000,'',?)",
        ((cid, leg, text, T0) for cid, leg, text in corpus.transcripts(n)),
    )
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()
    tmp.rename(path)
    return time.perf_counter() - t


def size_mb(conn: sqlite3.Connection, table: str) -> float:
    return int(conn.execute(f"SELECT sum(length(block)) FROM {table}_data").fetchone()[0]) / 1e6


def file_mb(path: Path) -> float:
    return os.path.getsize(path) / 1e6


def build_peers(conn: sqlite3.Connection) -> dict[str, float]:
    """The trigram and no-prefix indexes (skipped when built before). Seconds each."""
    conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value REAL)")
    specs = {
        "trigram": (
            "CREATE VIRTUAL TABLE trigram USING fts5 (text, content = 'transcripts', "
            "content_rowid = 'rowid', tokenize = 'trigram', detail = full, columnsize = 0)",
            "INSERT INTO trigram (rowid, text) SELECT rowid, text FROM transcripts",
        ),
        "noprefix": (
            "CREATE VIRTUAL TABLE noprefix USING fts5 (grams, content = '', tokenize = 'ascii', "
            "detail = full, columnsize = 0)",
            "INSERT INTO noprefix (rowid, grams) "
            "SELECT rowid, hotline_grams(text) FROM transcripts",
        ),
    }
    times = {}
    for name, (create, fill) in specs.items():
        row = conn.execute("SELECT value FROM bench_meta WHERE key = ?", (name,)).fetchone()
        if row is None:
            print(f"building the {name} peer index ...", flush=True)
            t = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute(create)
            conn.execute(fill)
            conn.execute("INSERT INTO bench_meta VALUES (?, ?)", (name, time.perf_counter() - t))
            conn.execute("COMMIT")
            row = conn.execute("SELECT value FROM bench_meta WHERE key = ?", (name,)).fetchone()
        times[name] = float(row[0])
    return times


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true", help="only ours and LIKE")
    args = parser.parse_args()
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    v1 = data / f"search-{args.docs}-{fingerprint(index=False)}-v1.sqlite3"
    work = data / f"search-{args.docs}-{fingerprint(index=True)}.sqlite3"
    for old in data.glob("search-*"):
        if not old.name.startswith((v1.name, work.stem)):
            old.unlink()  # an older corpus or index definition

    started = time.perf_counter()
    if not v1.exists():
        print(f"generating {args.docs:,} transcripts ...", flush=True)
        corpus_s = build_corpus(v1, args.docs)
        print(f"  {corpus_s:.0f} s", flush=True)
    meta = work.with_suffix(".build")
    if not work.exists() or not meta.exists():
        shutil.copyfile(v1, work)
        conn = sqlite3.connect(work)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        print("building our index (the migration of an existing store) ...", flush=True)
        t = time.perf_counter()
        TranscriptStore.open(work).close()
        meta.write_text(f"{time.perf_counter() - t}\n")
    build_s = float(meta.read_text())
    store = TranscriptStore.open(work)
    conn = store.connection
    peers = {} if args.no_peers else build_peers(prepare(conn))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    rows = int(conn.execute("SELECT count(*) FROM transcripts").fetchone()[0])
    chars = int(conn.execute("SELECT sum(length(text)) FROM transcripts").fetchone()[0])
    text_mb = (
        int(conn.execute("SELECT sum(length(CAST(text AS BLOB))) FROM transcripts").fetchone()[0])
        / 1e6
    )
    ours_mb = size_mb(conn, "transcript_index")

    # the cost of indexing at save time: one leg per transaction through the API (as the
    # STT worker saves), and a batch through the triggers vs into a plain table
    sample = [
        ("bench", f"{i}", text) for i, (_, _, text) in enumerate(corpus.transcripts(2000, seed=7))
    ]
    t = time.perf_counter()
    for call_id, leg, text in sample[:500]:
        store.save(Transcript(call_id + leg, Leg.CALLER, "whisper", "base", "zh", text))
    save_ms = (time.perf_counter() - t) / 500 * 1000
    for call_id, leg, _ in sample[:500]:
        store.delete(call_id + leg)
    costs = {}
    for label, table in (("with the index", "transcripts"), ("plain table", "plain")):
        conn.execute("BEGIN")
        if table == "plain":
            conn.execute("CREATE TEMP TABLE plain AS SELECT * FROM transcripts WHERE 0")
        t = time.perf_counter()
        conn.executemany(
            f"INSERT INTO {table} VALUES (?,?,'whisper','base','zh',?,'[]',60000,'',0)", sample
        )
        costs[label] = (time.perf_counter() - t) / len(sample) * 1e6
        conn.execute("ROLLBACK")
    conn.execute("BEGIN")  # the same texts into the FTS table directly (no trigger)
    first = int(conn.execute("SELECT max(rowid) FROM transcripts").fetchone()[0]) + 1
    t = time.perf_counter()
    conn.executemany(
        "INSERT INTO transcript_index (rowid, grams) VALUES (?, hotline_grams(?))",
        [(first + n, text) for n, (_, _, text) in enumerate(sample)],
    )
    costs["the index alone"] = (time.perf_counter() - t) / len(sample) * 1e6
    conn.execute("ROLLBACK")

    like_page = (
        "SELECT rowid, call_id, leg, text FROM transcripts WHERE text LIKE ? "
        "ORDER BY rowid DESC LIMIT 50"
    )
    like_count = "SELECT count(*) FROM transcripts WHERE text LIKE ?"

    def page_sql(q: str) -> object:
        how = search_plan.plan(conn, parse_query(q), SearchFilters(), wanted=50)
        assert how is not None
        return conn.execute(how.rowids(), [*how.args, 50, 0]).fetchall()

    methods: dict[str, Callable[[str], object]] = {
        "ours: search (50)": lambda q: store.search(q, limit=50),
        "ours: its SQL (50 rowids)": page_sql,
        "ours: search_count": lambda q: store.search_count(q),
        "LIKE: first 50": lambda q: conn.execute(like_page, (f"%{q}%",)).fetchall(),
        "LIKE: count": lambda q: conn.execute(like_count, (f"%{q}%",)).fetchone()[0],
    }
    if peers:
        tri_page = "SELECT rowid FROM trigram WHERE trigram MATCH ? ORDER BY rowid DESC LIMIT 50"
        tri_count = "SELECT count(*) FROM trigram WHERE trigram MATCH ?"
        methods["trigram: first 50"] = lambda q: (
            conn.execute(tri_page, (f'"{q}"',)).fetchall() if len(q) >= 3 else None
        )
        methods["trigram: count"] = lambda q: (
            conn.execute(tri_count, (f'"{q}"',)).fetchone()[0] if len(q) >= 3 else None
        )
        np_count = "SELECT count(*) FROM noprefix WHERE noprefix MATCH ?"
        methods["no prefix index: count"] = lambda q: conn.execute(
            np_count, (parse_query(q).fts(),)
        ).fetchone()[0]

    samples: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, dict[str, object]] = {}
    mismatches = []
    for cls, queries in QUERIES.items():
        for rep in range(args.reps):
            for q in queries:
                for name, fn in methods.items():
                    ms, out = timed(lambda fn=fn, q=q: fn(q))
                    if out is None:
                        continue
                    samples.setdefault((cls, name), []).append(ms)
                    if rep == 0 and "count" in name:
                        counts.setdefault(q, {})[name] = out
        for q in queries:
            c = counts[q]
            if c["ours: search_count"] != c["LIKE: count"]:
                mismatches.append((q, c))

    # filtered queries (the join to the history's calls), a common word and a rarer one
    day = 86_400_000
    filtered = {
        "one agent, one month": SearchFilters(
            since_ms=T0 + 30 * day, until_ms=T0 + 60 * day, agent="agent042"
        ),
        "one agent": SearchFilters(agent="agent042"),
        "one month": SearchFilters(since_ms=T0 + 30 * day, until_ms=T0 + 60 * day),
        "one queue": SearchFilters(queue="property"),
        "one caller": SearchFilters(caller=caller(42)),
    }
    pages: dict[tuple[str, str], list[float]] = {}
    totals: dict[tuple[str, str], list[float]] = {}
    hits: dict[tuple[str, str], int] = {}
    for _ in range(args.reps):
        for fname, f in filtered.items():
            for q in ("物业", "劳动仲裁"):
                pages.setdefault((fname, q), []).append(
                    timed(lambda f=f, q=q: store.search(q, f, limit=50))[0]
                )
                ms, n = timed(lambda f=f, q=q: store.search_count(q, f))
                totals.setdefault((fname, q), []).append(ms)
                hits[(fname, q)] = int(n)  # type: ignore[call-overload]

    # the same filtered first pages run each way (search_plan's choice forced) against the
    # way the planner picks; and the per-row costs of its model, timed on the SQL it runs
    choose = search_plan._choose
    ways: dict[tuple[str, str], dict[search_plan.Way, float]] = {}
    picked: dict[tuple[str, str], search_plan.Way] = {}

    def forced(way: search_plan.Way | None, fn: Callable[[], object]) -> float:
        search_plan._choose = choose if way is None else lambda *a, **k: way  # type: ignore[assignment]
        try:
            return statistics.median(timed(fn)[0] for _ in range(args.reps))
        finally:
            search_plan._choose = choose

    for fname, f in filtered.items():
        for q in ("物业", "劳动仲裁"):
            how = search_plan.plan(conn, parse_query(q), f, wanted=50)
            assert how is not None
            picked[(fname, q)] = how.way
            for way in search_plan.Way:
                page = lambda f=f, q=q: store.search(q, f, limit=50)  # noqa: E731
                ways.setdefault((fname, q), {})[way] = forced(way, page)

    def count_ms(way: search_plan.Way, q: str, f: SearchFilters) -> float:
        def run() -> object:
            how = search_plan.plan(conn, parse_query(q), f, wanted=50)
            assert how is not None
            assert how.way is way
            return conn.execute(how.count(), how.args).fetchone()

        return forced(way, run)

    def matches(q: str) -> int:
        sql = "SELECT count(*) FROM transcript_index WHERE transcript_index MATCH ?"
        return int(conn.execute(sql, (parse_query(q).fts(),)).fetchone()[0])

    month = filtered["one month"]
    in_month = (
        "SELECT count(*) FROM calls c JOIN transcripts t ON t.call_id = c.call_id "
        "WHERE c.t_q >= ? AND c.t_q < ?"
    )
    month_legs = int(conn.execute(in_month, (month.since_ms, month.until_ms)).fetchone()[0])
    per_row_us = {
        # every match of 物业 walked and joined, none passing (no such agent)
        "WALK_US": count_ms(search_plan.Way.TEXT_FIRST, "物业", SearchFilters(agent="nobody"))
        * 1000
        / matches("物业"),
        # every match of 物业 collected, for one caller's call
        "COLLECT_US": count_ms(search_plan.Way.COLLECT, "物业", filtered["one caller"])
        * 1000
        / matches("物业"),
    }
    # a month's legs looked up in the collection of 劳动仲裁's matches (collecting them
    # taken off at the rate just measured)
    per_row_us["LOOKUP_US"] = (
        count_ms(search_plan.Way.COLLECT, "劳动仲裁", month) * 1000
        - matches("劳动仲裁") * per_row_us["COLLECT_US"]
    ) / month_legs
    total_s = time.perf_counter() - started

    print()
    print(f"**Corpus.** {rows:,} transcribed legs ({rows // 2:,} calls), {chars / rows:.0f} "
          f"characters per leg on average, {text_mb:.0f} MB of text; file "
          f"{file_mb(work):.0f} MB with every index "
          f"(the v1 file without any: {file_mb(v1):.0f} MB).")  # fmt: skip
    print()
    print("| index | build | size | size / text |")
    print("|---|---|---|---|")
    print(f"| ours: bigrams + last character, prefix='1' (the migration) | {build_s:.0f} s | "
          f"{ours_mb:.0f} MB | {ours_mb / text_mb:.2f} |")  # fmt: skip
    for name, seconds in peers.items():
        mb = size_mb(conn, name)
        print(f"| peer: {name} | {seconds:.0f} s | {mb:.0f} MB | {mb / text_mb:.2f} |")
    print()
    print(f"Saving a leg: {save_ms:.1f} ms through `TranscriptStore.save` (one transaction "
          f"each, as the STT worker does); in one batch {costs['with the index']:.0f} µs a leg "
          f"through the index triggers vs {costs['plain table']:.0f} µs into a plain "
          f"table and {costs['the index alone']:.0f} µs into the FTS table directly.")  # fmt: skip
    print()
    names = list(methods)
    print("| query | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for cls in QUERIES:
        cells = []
        for name in names:
            values = samples.get((cls, name))
            cells.append(f"{pct(values, 0.5):.2f} / {pct(values, 0.99):.2f}" if values else "—")
        print(f"| {cls} | " + " | ".join(cells) + " |")
    print()
    print("p50 / p99 in ms over every query of the class × repetition. Ratios (LIKE / ours, p50):")
    for cls in QUERIES:
        page = pct(samples[(cls, "LIKE: first 50")], 0.5) / pct(
            samples[(cls, "ours: search (50)")], 0.5
        )
        count = pct(samples[(cls, "LIKE: count")], 0.5) / pct(
            samples[(cls, "ours: search_count")], 0.5
        )
        print(f"- {cls}: first page ×{page:.1f}, count ×{count:.0f}")
    print()
    print("| query | hits (ours = LIKE) |")
    print("|---|---|")
    for cls, queries in QUERIES.items():
        print(
            f"| {cls} | "
            + ", ".join(f"{q} {counts[q]['ours: search_count']:,}" for q in queries)
            + " |"
        )
    print()
    print("| filter | query | hits | search (50) p50 | search_count p50 |")
    print("|---|---|---|---|---|")
    for key, n in hits.items():
        print(f"| {key[0]} | {key[1]} | {n:,} | {statistics.median(pages[key]):.1f} ms | "
              f"{statistics.median(totals[key]):.1f} ms |")  # fmt: skip
    print()
    names = [w.value for w in search_plan.Way]
    print("| filter | query | the planner's way | " + " | ".join(names) + " (ms, first page) |")
    print("|---|---|---|" + "---|" * len(names))
    best = 0
    for key, times in ways.items():
        fastest = min(times, key=times.__getitem__)
        best += picked[key] is fastest
        cells = [f"**{ms:.1f}**" if w is fastest else f"{ms:.1f}" for w, ms in times.items()]
        print(f"| {key[0]} | {key[1]} | {picked[key].value} | " + " | ".join(cells) + " |")
    print()
    print(f"The planner picked the fastest way in {best} of {len(ways)}.")
    print()
    measured = ", ".join(f"{k} {v:.2f}" for k, v in per_row_us.items())
    model = ", ".join(f"{k} {getattr(search_plan, k)}" for k in per_row_us)
    print(f"Per-row costs (µs): measured {measured}; search_plan's model {model}.")
    print()
    print(f"Count mismatches ours vs LIKE: {mismatches or 'none'}")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs; this run {total_s:.0f} s (builds included when not "
          "cached).")  # fmt: skip


if __name__ == "__main__":
    main()
