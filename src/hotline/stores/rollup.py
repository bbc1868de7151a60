"""Rollups of the metrics: one row per (parameters, local day, first queue, answering agent).

    rollup = Rollup.open(settings.db)
    rollup.build(params)              # once: every call of the history (minutes at 10 M)
    rollup.refresh()                  # what changed since: triggers marked it (cheap)
    report = rollup.report(params, by=GroupBy.QUEUE, since=t0, until=t1, agents=data)

A row holds the same :class:`~hotline.metrics.sums.Sums` a report from the records would
add up for its calls (counts, (n, Σ) per quantity, data quality) and its waits as sorted
int32 arrays, so a month's report reads some ten thousand rows instead of millions of calls,
and its figures equal the raw computation's exactly (the percentiles too: the waits are
all there). Parameters are part of the key (a change of T makes other rows), and so is the
formula registry (the rows are keyed by the version id).

Keeping it right under live inserts: triggers (this component's migration) note the key of
every call inserted or deleted (``History.save_calls`` replaces a call by deleting it), of
every callback marked done and of every end of talk or of wrap-up in the journal, in
``metrics_dirty`` (only once a rollup is built: until then nothing is noted);
:meth:`Rollup.refresh` recomputes each row so noted from the raw calls, and the rows of
the later calls of the same number within N days (repeat callers).
A report by 15 min or hour, or over a window that does not start and end at local
midnight, is not served from the rollup (:meth:`report` returns None): the caller computes
it from the records.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hotline.core.localtime import DAY_MS
from hotline.core.records import CallRecord
from hotline.metrics.agenttime import NO_TEAM, AgentData, call_acw
from hotline.metrics.changes import Period
from hotline.metrics.formulas import Quantity, version
from hotline.metrics.params import Params
from hotline.metrics.populations import Exclusion, Population, classify
from hotline.metrics.report import (
    NO_AGENT,
    CallbackState,
    Report,
    assemble,
    placement,
    repeats_of,
    tally,
)
from hotline.metrics.sums import Sums, WaitSet
from hotline.metrics.timefmt import GroupBy, local, zone
from hotline.stores import schema
from hotline.stores.dialect import Connection
from hotline.stores.history import History
from hotline.stores.metrics import MetricsStore
from hotline.stores.rollup_schema import AGENT_SQL as _AGENT
from hotline.stores.rollup_schema import PLACE_SQL as _PLACE

__all__ = ["ArrayWaits", "Rollup"]

# the fixed layout of a row's sums: populations, (n, Σ) per quantity, quality by name
_POPS = tuple(Population)
_STATS = (
    Quantity.WAIT, Quantity.TALK, Quantity.ACW, Quantity.HANDLE, Quantity.SURVEY,
    Quantity.SATISFIED, Quantity.CALLBACK, Quantity.CALLBACK_DONE, Quantity.CALLBACK_DELAY,
    Quantity.REPEAT,
)  # fmt: skip
_QUALITY = (
    "calls", "counted", *(e.value for e in Exclusion), "to_the_second", "from_queue_log",
    "no_arrival", "no_talk_end", "no_number", "no_acw", "cut_by_pbx",
)  # fmt: skip
_WIDTH = len(_POPS) + 2 * len(_STATS) + len(_QUALITY)
_COUNTED = len(_POPS) + 2 * len(_STATS) + _QUALITY.index("counted")


def _pack(s: Sums) -> bytes:
    out = [s.counts.get(p, 0) for p in _POPS]
    for q in _STATS:
        out += s.stats.get(q, [0, 0])
    out += [s.quality.get(k, 0) for k in _QUALITY]
    return array("q", out).tobytes()


def _matrix(blobs: Iterable[bytes]) -> npt.NDArray[np.int64]:
    """Rows' sums as a matrix; a row packed before a quantity was added at the end of the
    layout (cut_by_pbx) reads as 0 there."""
    width = _WIDTH * 8
    joined = b"".join(b if len(b) == width else b.ljust(width, b"\0") for b in blobs)
    return np.frombuffer(joined, dtype="<i8").reshape(-1, _WIDTH)


def _waits(values: Iterable[int]) -> bytes:
    return array("i", sorted(values)).tobytes()


def _merged(blobs: Iterable[bytes]) -> bytes:
    """Sorted int32 arrays merged into one sorted array."""
    joined = np.frombuffer(b"".join(blobs), dtype="<i4")
    return np.sort(joined, kind="stable").astype("<i4").tobytes()


class ArrayWaits(WaitSet):
    """A WaitSet over int32 arrays (the rows' sorted waits): k-th smallest by partition."""

    def __init__(self) -> None:
        super().__init__()
        self._arrays: list[npt.NDArray[np.int32]] = []
        self._n = 0
        self._all: npt.NDArray[np.int32] | None = None

    def extend_bytes(self, blob: bytes) -> None:
        if blob:
            part = np.frombuffer(blob, dtype="<i4")
            self._arrays.append(part)
            self._n += len(part)
            self._all = None

    def merge(self, other: WaitSet) -> None:
        if isinstance(other, ArrayWaits):
            self._arrays += other._arrays
            self._n += other._n
            self._all = None
        else:
            self.extend_bytes(array("i", other.values()).tobytes())

    def __len__(self) -> int:
        return self._n

    def _joined(self) -> npt.NDArray[np.int32]:
        if self._all is None:
            self._all = np.concatenate(self._arrays) if self._arrays else np.zeros(0, dtype="<i4")
        return self._all

    def kth(self, k: int) -> int:
        joined = self._joined()
        return int(np.partition(joined, k - 1)[k - 1])

    def values(self) -> list[int]:
        out: list[int] = np.sort(self._joined()).tolist()
        return out


def _day_bounds(day: dt.date, tz: str) -> tuple[int, int]:
    start = dt.datetime.combine(day, dt.time(), zone(tz))
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone(tz))
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _day(ms: int, tz: str) -> dt.date:
    return local(ms, tz).date()


@dataclass
class Rollup:
    history: History
    _lock: threading.Lock  # the history's: one connection, one lock

    @classmethod
    def open(cls, path: Path | str) -> Rollup:
        """The history with the metrics component migrated (rollup tables and triggers)."""
        store = MetricsStore.open(path)
        return cls(History(store.connection, store._lock), store._lock)

    def close(self) -> None:
        self.history.close()

    @property
    def conn(self) -> Connection:
        return self.history.connection

    # -- building ----------------------------------------------------------------------------

    def built(self, params: Params) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM metrics_rollup_built WHERE version = ? AND t_built >= 0",
            (version(params).id,),
        ).fetchone()
        return row is not None

    def build(self, params: Params, *, now: int = 0, chunk_days: int = 1) -> int:
        """(Re)build every row for ``params`` from the whole history, day by day; rows."""
        vid = version(params).id
        first, last = self.conn.execute(
            f"SELECT MIN({_PLACE}), MAX({_PLACE}) FROM calls"
        ).fetchone()
        with schema.transaction(self.conn, self._lock):
            # t_built -1 while building: the triggers note changes from now on (so a call
            # saved into a day already read is refreshed later) and reports do not use it
            self.conn.execute(
                "INSERT INTO metrics_rollup_built VALUES (?, ?, -1) ON CONFLICT (version) "
                "DO UPDATE SET params = excluded.params, t_built = excluded.t_built",
                (vid, json.dumps(params.as_dict(), sort_keys=True)),
            )
            self.conn.execute("DELETE FROM metrics_rollup WHERE version = ?", (vid,))
            self.conn.execute("DELETE FROM metrics_rollup_by WHERE version = ?", (vid,))
        rows = 0
        if first is not None:
            last_r: dict[str, int] = {}  # number -> t of its last call in R, chunk to chunk
            day = _day(first, params.tz)
            while day <= _day(last, params.tz):
                lo, _ = _day_bounds(day, params.tz)
                _, hi = _day_bounds(day + dt.timedelta(days=chunk_days - 1), params.tz)
                records = self._records(lo, hi)
                pairs = [(r, classify(r, params)) for r in records]
                repeats = repeats_of(pairs, params.repeat_days, last_r)
                rows += self._write(vid, params, records, repeats, lo, hi)
                day += dt.timedelta(days=chunk_days)
        with schema.transaction(self.conn, self._lock):
            self.conn.execute(
                "UPDATE metrics_rollup_built SET t_built = ? WHERE version = ?", (max(now, 0), vid)
            )
        # what is marked stays marked: the next refresh redoes it for every rollup built
        # (for this one too, harmless), so a change during the build is never lost
        return rows

    def _write(
        self,
        vid: str,
        params: Params,
        records: list[CallRecord],
        repeats: Mapping[str, int],
        lo: int,
        hi: int,
        only: set[tuple[str, str, str]] | None = None,
    ) -> int:
        """Write the rows of ``records`` (all placed in [lo, hi)); with ``only``, just those
        keys (and delete the ones of them that have no call any more)."""
        acw = self._acw(lo, hi)
        callbacks = self._callbacks(records)
        sums: dict[tuple[str, str, str], Sums] = defaultdict(Sums)
        for record in records:
            v = classify(record, params)
            t = placement(record, v)
            if t is None:
                continue
            key = (_day(t, params.tz).isoformat(), v.queue, v.agent)
            if only is not None and key not in only:
                continue
            tally(sums[key], record, v, repeats, acw, callbacks)
        with schema.transaction(self.conn, self._lock):
            for key in only or ():
                if key not in sums:
                    self.conn.execute(
                        "DELETE FROM metrics_rollup WHERE version = ? AND day = ? AND queue = ? "
                        "AND agent = ?",
                        (vid, *key),
                    )
            self.conn.executemany(
                "INSERT INTO metrics_rollup VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT (version, day, queue, agent) DO UPDATE SET "
                "sums = excluded.sums, waits = excluded.waits, abandons = excluded.abandons",
                [
                    (vid, *key, _pack(s), _waits(s.waits.values()), _waits(s.abandons.values()))
                    for key, s in sums.items()
                ],
            )
        touched = set(sums) | (only or set())
        self._coarsen(vid, {("queue", d, q) for d, q, _ in touched} | {
            ("agent", d, a) for d, _, a in touched})  # fmt: skip
        return len(sums)

    def _coarsen(self, vid: str, keys: set[tuple[str, str, str]]) -> None:
        """The rows per (day, queue) and per (day, agent) that reports read, each the sum of
        its fine rows (so a month by agent reads 30,000 rows, not 300,000)."""
        out, gone = [], []
        for level, day, key in sorted(keys):
            column = "queue" if level == "queue" else "agent"
            rows = self.conn.execute(
                f"SELECT sums, waits, abandons FROM metrics_rollup WHERE version = ? AND day = ? "
                f"AND {column} = ?",
                (vid, day, key),
            ).fetchall()
            if not rows:
                gone.append((vid, level, day, key))
                continue
            matrix = _matrix(r[0] for r in rows)
            out.append((
                vid, level, day, key, matrix.sum(axis=0).astype("<i8").tobytes(),
                _merged(r[1] for r in rows), _merged(r[2] for r in rows),
            ))  # fmt: skip
        with schema.transaction(self.conn, self._lock):
            self.conn.executemany(
                "DELETE FROM metrics_rollup_by WHERE version = ? AND level = ? AND day = ? "
                "AND key = ?",
                gone,
            )
            self.conn.executemany(
                "INSERT INTO metrics_rollup_by VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT (version, level, day, key) DO UPDATE SET "
                "sums = excluded.sums, waits = excluded.waits, abandons = excluded.abandons",
                out,
            )

    def _records(
        self, lo: int, hi: int, where: str = "", args: tuple[object, ...] = ()
    ) -> list[CallRecord]:
        """The calls placed in [lo, hi) (and matching ``where``)."""
        sql = f"WHERE {_PLACE} >= ? AND {_PLACE} < ?{where}"
        return self.history.select_calls(sql, (lo, hi, *args))

    def _acw(self, lo: int, hi: int) -> dict[str, int]:
        """After-call work of the calls placed in [lo, hi), from the journal a day either
        side (the talk of a call placed in the window may end after it)."""
        journal = self.history.journal(since=lo - DAY_MS, until=hi + DAY_MS)
        return call_acw(AgentData(journal=tuple(journal))) if journal else {}

    def _callbacks(self, records: list[CallRecord]) -> dict[str, CallbackState]:
        ids = [r.call_id for r in records if r.callback_number]
        out = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for call_id, t_req, t_done in self.conn.execute(
                f"SELECT call_id, t_requested, t_done FROM callbacks WHERE call_id IN ({marks})",
                part,
            ):
                out[call_id] = CallbackState(call_id, t_req, t_done)
        return out

    # -- keeping it right --------------------------------------------------------------------

    def refresh(self) -> int:
        """Recompute every row the triggers marked, for every parameter set built; rows.
        Nothing while a build runs: what it leaves marked is done at the next refresh."""
        built = self.conn.execute(
            "SELECT version, params, t_built FROM metrics_rollup_built"
        ).fetchall()
        if any(t < 0 for _, _, t in built):
            return 0
        mark, dirty = self._dirty()
        rows = 0
        for vid, text, _ in built:
            params = Params(**json.loads(text))
            rows += self._refresh(vid, params, dirty)
        with schema.transaction(self.conn, self._lock):
            self.conn.execute("DELETE FROM metrics_dirty WHERE id <= ?", (mark,))
        return rows

    def _dirty(self) -> tuple[int, list[tuple[int, str | None, str | None, str | None]]]:
        rows = self.conn.execute("SELECT id, t, queue, agent, caller FROM metrics_dirty").fetchall()
        mark = max((r[0] for r in rows), default=0)
        return mark, [(r[1], r[2], r[3], r[4]) for r in rows if r[1] is not None]

    def _refresh(
        self, vid: str, params: Params, dirty: list[tuple[int, str | None, str | None, str | None]]
    ) -> int:
        keys: set[tuple[str, str, str]] = set()
        days: set[dt.date] = set()
        window = params.repeat_days * DAY_MS
        for t, queue, agent, caller in dirty:
            if queue is None:  # the journal: every row of that agent that day and the day before
                for d in (_day(t, params.tz), _day(t - DAY_MS, params.tz)):
                    for (q,) in self.conn.execute(
                        "SELECT queue FROM metrics_rollup "
                        "WHERE version = ? AND day = ? AND agent = ?",
                        (vid, d.isoformat(), agent),
                    ):
                        keys.add((d.isoformat(), q, agent or ""))
                        days.add(d)
                continue
            d = _day(t, params.tz)
            keys.add((d.isoformat(), queue, agent or ""))
            days.add(d)
            if caller:  # later calls of the same number may (no longer) be repeats
                for t2, q2, a2 in self.conn.execute(
                    f"SELECT {_PLACE}, first_queue, {_AGENT} FROM calls WHERE caller = ? "
                    "AND COALESCE(t_q, t_request) >= ? AND COALESCE(t_q, t_request) <= ?",
                    (caller, t, t + window),
                ):
                    d2 = _day(t2, params.tz)
                    keys.add((d2.isoformat(), q2, a2))
                    days.add(d2)
        rows = 0
        for day in sorted(days):
            lo, hi = _day_bounds(day, params.tz)
            wanted = {k for k in keys if k[0] == day.isoformat()}
            queues = sorted({k[1] for k in wanted})
            marks = ",".join("?" * len(queues))
            records = self._records(lo, hi, f" AND first_queue IN ({marks})", tuple(queues))
            rows += self._write(
                vid, params, records, self._repeats(records, params), lo, hi, wanted
            )
        return rows

    def _repeats(self, records: list[CallRecord], params: Params) -> dict[str, int]:
        """Repeat flags of ``records`` with every earlier call of their numbers in view."""
        numbers = sorted({r.caller for r in records if r.caller})
        times = [r.t_q if r.t_q is not None else r.t_request for r in records]
        known = [t for t in times if t is not None]
        if not numbers or not known:
            return {}
        lo, hi = min(known) - params.repeat_days * DAY_MS, max(known)
        earlier: dict[str, CallRecord] = {r.call_id: r for r in records}
        for i in range(0, len(numbers), 500):
            part = numbers[i : i + 500]
            marks = ",".join("?" * len(part))
            for r in self.history.select_calls(
                f"WHERE caller IN ({marks}) AND COALESCE(t_q, t_request) >= ? "
                "AND COALESCE(t_q, t_request) <= ?",
                (*part, lo, hi),
            ):
                earlier.setdefault(r.call_id, r)
        pairs = [(r, classify(r, params)) for r in earlier.values()]
        return repeats_of(pairs, params.repeat_days)

    # -- reporting ---------------------------------------------------------------------------

    def report(
        self,
        params: Params,
        *,
        by: GroupBy,
        since: int,
        until: int,
        agents: AgentData,
        in_force: tuple[Period, ...] = (),
        params_from: str = "default",
    ) -> Report | None:
        """The report from the rows, or None when they cannot give it (not built for these
        parameters, by 15 min or hour, or a window not cut at local midnight)."""
        if by in (GroupBy.MIN15, GroupBy.HOUR, GroupBy.PBX) or not self.built(params):
            return None
        first, last = _day(since, params.tz), _day(until - 1, params.tz)
        if _day_bounds(first, params.tz)[0] != since or _day_bounds(last, params.tz)[1] != until:
            return None
        level = "agent" if by in (GroupBy.AGENT, GroupBy.TEAM) else "queue"
        rows = [
            (day, key, "", *rest) if level == "queue" else (day, "", key, *rest)
            for day, key, *rest in self.conn.execute(
                "SELECT day, key, sums, waits, abandons FROM metrics_rollup_by "
                "WHERE version = ? AND level = ? AND day >= ? AND day <= ?",
                (version(params).id, level, first.isoformat(), last.isoformat()),
            )
        ]
        # vectorised: one matrix of every row's sums, added up per group by numpy
        matrix = _matrix(r[3] for r in rows)
        counted = matrix[:, _COUNTED] > 0 if len(rows) else np.zeros(0, dtype=bool)
        names: dict[str, int] = {}
        index = np.fromiter(
            (names.setdefault(_group_key(by, r[0], r[1], r[2], agents), len(names)) for r in rows),
            dtype=np.int64,
            count=len(rows),
        )
        by_group = np.zeros((len(names), _WIDTH), dtype=np.int64)
        np.add.at(by_group, index[counted], matrix[counted])
        members: dict[int, list[int]] = defaultdict(list)
        for i in np.flatnonzero(counted).tolist():
            members[int(index[i])].append(i)
        total = _sums(matrix.sum(axis=0), [r[4] for r in rows], [r[5] for r in rows])
        groups = {
            name: _sums(by_group[g], [rows[i][4] for i in members[g]],
                        [rows[i][5] for i in members[g]])
            for name, g in names.items()
            if g in members
        }  # fmt: skip
        return assemble(
            total, groups, params, by=by, since=since, until=until, agents=agents,
            in_force=in_force, params_from=params_from,
        )  # fmt: skip


def _group_key(by: GroupBy, day: str, queue: str, agent: str, agents: AgentData) -> str:
    if by is GroupBy.QUEUE:
        return queue
    if by is GroupBy.AGENT:
        return agent or NO_AGENT
    if by is GroupBy.TEAM:
        return agents.teams.get(agent, NO_TEAM) if agent else NO_AGENT
    return day if by is GroupBy.DAY else day[:7]


def _sums(vector: npt.NDArray[np.int64], waits: list[bytes], abandons: list[bytes]) -> Sums:
    """A row's (or a group's) sums from its vector in the fixed layout and its waits."""
    values = [int(x) for x in vector]
    s = Sums(waits=ArrayWaits(), abandons=ArrayWaits())
    n = len(_POPS)
    for p, c in zip(_POPS, values[:n], strict=True):
        if c:
            s.counts[p] = c
    for i, q in enumerate(_STATS):
        count, total = values[n + 2 * i], values[n + 2 * i + 1]
        if count:
            s.stats[q] = [count, total]
    for k, c in zip(_QUALITY, values[n + 2 * len(_STATS) :], strict=True):
        if c:
            s.quality[k] = c
    assert isinstance(s.waits, ArrayWaits)
    assert isinstance(s.abandons, ArrayWaits)
    s.waits.extend_bytes(b"".join(waits))
    s.abandons.extend_bytes(b"".join(abandons))
    return s
