"""The SQL of a transcript search, and which side drives it.

Three ways to run a search that has call filters (agent, caller, dates, queue):

* text first: walk the index's matches newest first, join each to its transcript and
  call, keep those that pass, stop when the page is full. Good when many matches pass.
* calls first, collect: the calls that pass (through the calls table's indexes), their
  transcripts each looked up in the text's matches, collected once. Good when the filters
  are selective (one agent in one month) and the text common: text first would walk
  thousands of matches to fill a page.
* calls first, probe: as above, but each transcript checked against the index on its
  own (tens of µs each): the best for a handful of calls (one caller).

:func:`plan` counts the passing calls and the matches up to small caps (a few ms at
most) and picks: probe for a handful of calls; collect for a count, or when a date range
is asked (rowids follow time, so newest first would walk every later match first); text
first when many calls pass; otherwise by a cost model (bench/search.py times each way).
Every way finds the same rows in the same order (tested); only the time differs. A page
is found as rowids first, then only its rows are read.

On PostgreSQL there is one way (:attr:`Way.SERVER`): the text's conditions
(:func:`hotline.stores.pg_search.text_where`) and the call filters in one query, the
side to start from chosen by PostgreSQL's planner from its statistics.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from enum import Enum

from hotline.recordings.leg import Leg
from hotline.stores import pg_search
from hotline.stores.dialect import Connection, Dialect, has_table
from hotline.transcripts.fulltext import Query

__all__ = ["Plan", "SearchFilters", "Way", "plan"]

CALLS_CAP, MATCHES_CAP = 1000, 20_000  # how far each side is counted
PG_FEW = 200  # PostgreSQL: fewer matches than this are always sorted, never walked to
PROBE_CALLS = 25  # at most this many passing calls: probe each of their transcripts
# the model's µs per row: a match walked and joined to its transcript and call; a match
# collected; a passing transcript looked up in the collection. Only their ratios decide.
# bench/search.py prints them as timed on its corpus (100 k legs, shared 2 cores: walk
# 0.6-1.1, collect 0.14-0.15, look up 0.7), and each way's time against the way picked.
WALK_US, COLLECT_US, LOOKUP_US = 2.1, 0.28, 1.5

MATCH = "transcript_index MATCH ?"


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """All given ones must hold. Times are epoch ms, ``[since_ms, until_ms)``, on the
    call's ``t_q`` (or ``t_arrival`` when it never queued); ``queue`` matches any queue
    the call visited; ``agent`` is the MemberName that answered; ``caller`` exact."""

    since_ms: int | None = None
    until_ms: int | None = None
    queue: str | None = None
    agent: str | None = None
    caller: str | None = None
    leg: Leg | None = None
    calls: tuple[str, ...] | None = None
    """Only the transcripts of these calls (the calls linked to work orders: a
    :class:`~hotline.stores.order_search.OrderSearch`); none: nothing matches."""

    @property
    def needs_calls(self) -> bool:
        return any(
            v is not None
            for v in (self.since_ms, self.until_ms, self.queue, self.agent, self.caller)
        )


class Way(Enum):
    TEXT_FIRST = "text first"
    COLLECT = "calls first, collect"
    PROBE = "calls first, probe"
    SERVER = "PostgreSQL's planner"


@dataclass(frozen=True, slots=True)
class Plan:
    way: Way
    sql: str  # FROM ... [WHERE ...]: rows with the transcript's rowid as ``t.rowid``
    args: tuple[object, ...]
    order: str  # the rowid to order by, newest first

    def rowids(self) -> str:
        return f"SELECT {self.order} {self.sql} ORDER BY {self.order} DESC LIMIT ? OFFSET ?"

    def count(self) -> str:
        return f"SELECT count(*) {self.sql}"


def has_calls(conn: Connection) -> bool:
    return has_table(conn, "calls")


def _call_filters(f: SearchFilters) -> tuple[list[str], list[object]]:
    where: list[str] = []
    args: list[object] = []
    if f.since_ms is not None or f.until_ms is not None:
        lo = f.since_ms if f.since_ms is not None else -(2**62)
        hi = f.until_ms if f.until_ms is not None else 2**62
        # t_q, or t_arrival for a call that never queued; spelled out so both indexes serve
        where.append(
            "((c.t_q >= ? AND c.t_q < ?) "
            "OR (c.t_q IS NULL AND c.t_arrival >= ? AND c.t_arrival < ?))"
        )
        args += [lo, hi, lo, hi]
    if f.queue is not None:
        where.append(
            "(c.first_queue = ? OR EXISTS (SELECT 1 FROM call_visits v "
            "WHERE v.call_id = c.call_id AND v.queue = ?))"
        )
        args += [f.queue, f.queue]
    if f.agent is not None:
        where.append("c.agent = ?")
        args.append(f.agent)
    if f.caller is not None:
        where.append("c.caller = ?")
        args.append(f.caller)
    return where, args


def _row_filters(f: SearchFilters, dialect: Dialect) -> tuple[list[str], list[object]]:
    """The conditions on the transcript's own row (``t``): its leg, its call."""
    where: list[str] = []
    args: list[object] = []
    if f.leg is not None:
        where.append("t.leg = ?")
        args.append(f.leg.value)
    if f.calls is not None:
        if dialect is Dialect.POSTGRESQL:
            where.append("t.call_id = ANY(?::text[])")
            args.append(list(f.calls))
        else:  # one argument however many calls (SQLite allows 32,766)
            where.append("t.call_id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(list(f.calls)))
    return where, args


def _capped(conn: Connection, sql: str, args: list[object], cap: int) -> int:
    sql = f"SELECT count(*) FROM ({sql} LIMIT {cap}) AS capped"
    return int(conn.execute(sql, args).fetchone()[0])


def plan(conn: Connection, q: Query, f: SearchFilters, *, wanted: int | None) -> Plan | None:
    """How to run Q with F (WANTED: the rows up to the end of a page, None: a count);
    None when nothing can match (only punctuation asked, or call filters on a file
    without a history)."""
    if q.matches_nothing or (f.needs_calls and not has_calls(conn)) or f.calls == ():
        return None
    if conn.dialect is Dialect.POSTGRESQL:
        return _server(conn, q, f, wanted)
    text_args: list[object] = [] if q.blank else [q.fts()]
    leg, leg_args = _row_filters(f, conn.dialect)
    call_where, call_args = _call_filters(f)
    if not call_where:
        if q.blank:
            only = " WHERE " + " AND ".join(leg) if leg else ""
            return Plan(Way.TEXT_FIRST, "FROM transcripts t" + only, tuple(leg_args), "t.rowid")
        if not leg and wanted is None:  # the index alone: each of its rows is a transcript
            return Plan(Way.TEXT_FIRST, f"FROM transcript_index WHERE {MATCH}",
                        tuple(text_args), "rowid")  # fmt: skip
        sql = "FROM transcript_index i JOIN transcripts t ON t.rowid = i.rowid WHERE " + MATCH
        return Plan(Way.TEXT_FIRST, sql + "".join(f" AND {w}" for w in leg),
                    (*text_args, *leg_args), "i.rowid")  # fmt: skip

    way = _choose(conn, q, f, call_where, call_args, wanted)
    if way is Way.TEXT_FIRST:
        if q.blank:
            sql, order = "FROM transcripts t ", "t.rowid"
        else:
            sql, order = (
                "FROM transcript_index i JOIN transcripts t ON t.rowid = i.rowid ",
                "i.rowid",
            )
        where = ([] if q.blank else [MATCH]) + leg + call_where
        return Plan(way, sql + "JOIN calls c ON c.call_id = t.call_id WHERE " + " AND ".join(where),
                    (*text_args, *leg_args, *call_args), order)  # fmt: skip
    text = []
    if not q.blank and way is Way.COLLECT:
        text = [f"t.rowid IN (SELECT rowid FROM transcript_index WHERE {MATCH})"]
    elif not q.blank:
        text = [f"EXISTS (SELECT 1 FROM transcript_index WHERE {MATCH} AND rowid = t.rowid)"]
    return Plan(
        way,
        "FROM calls c CROSS JOIN transcripts t ON t.call_id = c.call_id WHERE "
        + " AND ".join(call_where + leg + text),
        (*call_args, *leg_args, *text_args),
        "t.rowid",
    )


def _server(conn: Connection, q: Query, f: SearchFilters, wanted: int | None) -> Plan:
    """The plan on PostgreSQL: one query, the planner picks the side to start from.

    But for a page of a rare text PostgreSQL's estimate can be far off (a gram absent
    from its statistics is guessed at half the rarest one's frequency): it walks the
    rowid index newest first, expecting a page soon, and reads every row when there
    are none (0.5 s at 100 k legs). So the matches are counted up to a cap first (the
    GIN bitmap, a few ms): below the cap, the rowid is ordered as an expression
    (``t.rowid + 0``), which no index serves, so the GIN index finds the few and they
    are sorted. Sorting M matches costs about M rows, walking N rows for W wanted about
    W·N/M: the cap is where they meet, √(W·N), N from the table's statistics."""
    where, args = pg_search.text_where(q)
    row_where, row_args = _row_filters(f, conn.dialect)
    where += row_where
    args += row_args
    call_where, call_args = _call_filters(f)
    sql = "FROM transcripts t"
    if call_where:
        sql += " JOIN calls c ON c.call_id = t.call_id"
    where += call_where
    if where:
        sql += " WHERE " + " AND ".join(where)
    order = "t.rowid"
    if wanted is not None and not q.blank:
        rows = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'transcripts'::regclass")
        cap = max(PG_FEW, int(math.sqrt(max(wanted, 1) * max(float(rows.fetchone()[0]), 0))))
        if _capped(conn, f"SELECT 1 {sql}", [*args, *call_args], cap) < cap:
            order = "t.rowid + 0"  # few matches: found by GIN and sorted, not walked to
    return Plan(Way.SERVER, sql, (*args, *call_args), order)


def _choose(
    conn: Connection,
    q: Query,
    f: SearchFilters,
    call_where: list[str],
    call_args: list[object],
    wanted: int | None,
) -> Way:
    passing = _capped(conn, "SELECT 1 FROM calls c WHERE " + " AND ".join(call_where),
                      call_args, CALLS_CAP)  # fmt: skip
    if passing <= PROBE_CALLS:
        return Way.PROBE if not q.blank else Way.COLLECT
    if wanted is None:
        return Way.COLLECT  # a count walks every match anyway: collecting costs less
    if f.since_ms is not None or f.until_ms is not None:
        # newest first walks every match after the range first (rowids follow time)
        return Way.COLLECT
    if passing >= CALLS_CAP:
        return Way.TEXT_FIRST  # many calls pass: a page fills early
    total = int(conn.execute("SELECT coalesce(max(rowid), 0) FROM transcripts").fetchone()[0])
    if q.blank:
        matches = total
    else:
        sql = f"SELECT rowid FROM transcript_index WHERE {MATCH}"
        matches = _capped(conn, sql, [q.fts()], MATCHES_CAP)
        if matches >= MATCHES_CAP:
            matches = max(matches, total // 2)  # a common text: assume half of everything
    share = 2 * passing / max(total, 1)  # of the matches, how many pass (if independent)
    walk = min(matches, wanted / share) * WALK_US
    collect = matches * COLLECT_US + 2 * passing * LOOKUP_US
    return Way.COLLECT if collect < walk else Way.TEXT_FIRST
