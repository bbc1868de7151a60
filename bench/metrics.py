"""Benchmark: a month's metrics report over 10 million calls in SQLite, rollup vs a naive scan.

Usage::

    .venv/bin/python bench/metrics.py [--calls 10000000] [--reps 3]

The synthetic month (November 2026, Asia/Shanghai; 10 queues, 1,000 agents, 3 M numbers;
answered, abandoned and timed-out calls with whole-ms waits) is generated once into
``$HOTLINE_CACHE/bench/metrics-<calls>-v1.sqlite3`` (default ``/var/cache/hotline`` as root,
else ``~/.cache/hotline``; in ``$HOTLINE_BENCH_DATA`` if that is set) with the history's own
schema, and its rollup is built once (``Rollup.build``); both are reused by later runs.
Then, timed:

- hotline: ``hotline metrics report``'s path for the month by queue and by agent
  (refresh, rows, the registry's every figure, percentiles exact);
- the peer: a naive scan in Python of the same rows (calls joined to their visit), counting
  R, A, A15, Ab, L and collecting the waits per queue and per agent, percentiles by sorting.

Both give the strict rate, answered-only and p90 per queue; they are compared. Not part of
``make test``: the first run spends several minutes generating and building.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.metrics import GroupBy, Params
from hotline.metrics.agenttime import AgentData
from hotline.metrics.populations import Population
from hotline.metrics.report import Report
from hotline.stores.history import History
from hotline.stores.rollup import Rollup

TZ = ZoneInfo("Asia/Shanghai")
MONTH = (dt.datetime(2026, 11, 1, tzinfo=TZ), dt.datetime(2026, 12, 1, tzinfo=TZ))
QUEUES = [f"q{n:02d}" for n in range(10)]
AGENTS = [f"agent{n:04d}" for n in range(1000)]


def ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def cache_dir() -> Path:
    if os.environ.get("HOTLINE_BENCH_DATA"):  # a quick run's own (make bench QUICK=1)
        return Path(os.environ["HOTLINE_BENCH_DATA"])
    if os.environ.get("HOTLINE_CACHE"):
        return Path(os.environ["HOTLINE_CACHE"]) / "bench"
    root = Path("/var/cache/hotline") if os.geteuid() == 0 else Path.home() / ".cache/hotline"
    return root / "bench"


def generate(path: Path, n: int, seed: int = 12345) -> None:
    """n calls spread over the month, written with the history's schema (and indexes)."""
    tmp = path.with_suffix(".partial")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    History.open(tmp).close()
    conn = sqlite3.connect(tmp)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    rng = random.Random(seed)
    lo, hi = ms(MONTH[0]), ms(MONTH[1])
    span = hi - lo
    step = span / n
    started = time.monotonic()
    batch_calls: list[tuple[object, ...]] = []
    batch_visits: list[tuple[object, ...]] = []
    for i in range(n):
        t_q = lo + int(i * step) + rng.randrange(max(1, int(step)))
        queue = QUEUES[rng.randrange(10)]
        caller = f"13{rng.randrange(3_000_000):09d}"
        cid = f"c{i:08d}"
        x = rng.random()
        if x < 0.78:  # answered, waits mostly short, a long tail
            wait = int(rng.expovariate(1 / 8000))
            agent = AGENTS[rng.randrange(1000)]
            t_answer = t_q + wait
            talk_end = t_answer + int(rng.expovariate(1 / 180_000)) + 1000
            survey = rng.choice((None, None, 5, 4, 3, 2, 1, 5, 4))
            row = (cid, caller, t_q + 0, queue, t_answer, agent, talk_end, talk_end + 3000,
                   "answered", survey, "agent")  # fmt: skip
            visit = (cid, 0, queue, t_q, 1, t_answer, "CONNECT")
        elif x < 0.96:
            left = t_q + int(rng.expovariate(1 / 30_000))
            row = (cid, caller, t_q, queue, None, "", None, left, "abandoned_in_queue", None, "")
            visit = (cid, 0, queue, t_q, 1, left, "ABANDON")
        else:
            left = t_q + 120_000
            row = (cid, caller, t_q, queue, None, "", None, left + 1000, "timeout", None, "")
            visit = (cid, 0, queue, t_q, 1, left, "EXITWITHTIMEOUT")
        batch_calls.append(row)
        batch_visits.append(visit)
        if len(batch_calls) >= 200_000:
            _flush(conn, batch_calls, batch_visits)
            print(f"  generated {i + 1:,} calls, {time.monotonic() - started:.0f} s", flush=True)
    _flush(conn, batch_calls, batch_visits)
    conn.close()
    tmp.rename(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)


def _flush(conn: sqlite3.Connection, calls: list[tuple[object, ...]],
           visits: list[tuple[object, ...]]) -> None:  # fmt: skip
    with conn:
        conn.executemany(
            "INSERT INTO calls (call_id, caller, t_q, first_queue, t_answer, agent, talk_end, "
            "t_end, end_reason, survey_score, completed_by, precision, source) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,'ms','ami')",
            calls,
        )
        conn.executemany("INSERT INTO call_visits VALUES (?,?,?,?,?,?,?)", visits)
    calls.clear()
    visits.clear()


def naive(path: Path, since: int, until: int, threshold_ms: int) -> dict[str, dict[str, object]]:
    """The peer: one pass over the rows in Python, per queue and per agent."""
    conn = sqlite3.connect(path)
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    cur = conn.execute(
        "SELECT c.first_queue, c.agent, c.end_reason, c.t_q, c.t_answer, v.t_leave "
        "FROM calls c JOIN call_visits v ON v.call_id = c.call_id AND v.n = 0 "
        "WHERE c.t_q >= ? AND c.t_q < ?",
        (since, until),
    )
    for queue, agent, reason, t_q, t_answer, _t_leave in cur:
        for key in (f"queue:{queue}", f"agent:{agent if reason == 'answered' else '(none)'}"):
            g = groups[key]
            g["R"].append(1)
            if reason == "answered":
                g["waits"].append(t_answer - t_q)
            elif reason == "timeout":
                g["L"].append(1)
    conn.close()
    out: dict[str, dict[str, object]] = {}
    for key, g in groups.items():
        waits = sorted(g["waits"])
        a15 = sum(1 for w in waits if w <= threshold_ms)
        n = len(waits)
        out[key] = {
            "R": len(g["R"]), "A": n, "A15": a15,
            "p90": waits[max(1, -(-90 * n // 100)) - 1] if n else None,
        }  # fmt: skip
    return out


def timed_report(rollup: Rollup, by: GroupBy, since: int, until: int) -> tuple[float, Report]:
    start = time.perf_counter()
    rollup.refresh()
    report = rollup.report(Params(), by=by, since=since, until=until, agents=AgentData())
    assert report is not None
    return time.perf_counter() - start, report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10_000_000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    path = cache_dir() / f"metrics-{args.calls}-v1.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        print(f"generating {args.calls:,} calls into {path} (once)", flush=True)
        t0 = time.monotonic()
        generate(path, args.calls)
        print(f"generated in {time.monotonic() - t0:.0f} s", flush=True)
    rollup = Rollup.open(path)
    if not rollup.built(Params()):
        print("building the rollup (once)", flush=True)
        t0 = time.monotonic()
        rows = rollup.build(Params())
        print(f"rollup: {rows:,} rows in {time.monotonic() - t0:.0f} s", flush=True)
    since, until = ms(MONTH[0]), ms(MONTH[1])
    calls = rollup.conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    rows = rollup.conn.execute("SELECT COUNT(*) FROM metrics_rollup").fetchone()[0]
    size = path.stat().st_size / 2**30
    print(f"\n{calls:,} calls, {rows:,} rollup rows, {size:.1f} GiB; "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")  # fmt: skip
    results: dict[GroupBy, list[float]] = {GroupBy.QUEUE: [], GroupBy.AGENT: []}
    reports: dict[GroupBy, Report] = {}
    for _ in range(args.reps):
        for by in results:
            seconds, reports[by] = timed_report(rollup, by, since, until)
            results[by].append(seconds)
    rollup.close()
    t0 = time.perf_counter()
    peer = naive(path, since, until, Params().threshold_ms)
    peer_s = time.perf_counter() - t0
    # the two agree on what both compute
    for g in reports[GroupBy.QUEUE].groups:
        mine, theirs = g.figures, peer[f"queue:{g.key}"]
        assert (mine["sl_strict"].numerator, mine["sl_strict"].denominator) == (
            theirs["A15"], theirs["R"]), g.key  # fmt: skip
        assert mine["asa_p90"].value == (theirs["p90"] or 0) / 1000, g.key
    for g in reports[GroupBy.AGENT].groups:
        assert g.counts[Population.R] == peer[f"agent:{g.key}"]["R"], g.key
    best = {by: min(v) for by, v in results.items()}
    both = best[GroupBy.QUEUE] + best[GroupBy.AGENT]
    print(f"\n| report (a month, {calls:,} calls) | hotline rollup | naive Python scan | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| by queue ({len(reports[GroupBy.QUEUE].groups)} groups) | "
          f"{best[GroupBy.QUEUE]:.2f} s | | |")  # fmt: skip
    print(f"| by agent ({len(reports[GroupBy.AGENT].groups)} groups) | "
          f"{best[GroupBy.AGENT]:.2f} s | | |")  # fmt: skip
    print(f"| both | {both:.2f} s | {peer_s:.1f} s (both in one pass) | {peer_s / both:.0f}× |")
    print(
        f"\nall runs: queue {[f'{x:.2f}' for x in results[GroupBy.QUEUE]]}, "
        f"agent {[f'{x:.2f}' for x in results[GroupBy.AGENT]]}; figures agree with the peer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
