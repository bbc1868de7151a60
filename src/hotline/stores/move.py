"""Move a site's data from one database to another (SQLite to PostgreSQL, as a rule):
every row of every store, then the counts and the hash chains checked on the copy.

    report = copy_database("sqlite:///var/lib/hotline/hotline.sqlite3",
                           "postgresql://hotline@db1/hotline", extra=(Accounts,))
    print(report.rows)            # {"calls": 812345, ...}, the same on both sides

The target gets each component's schema from its own migrations (per dialect), then the
rows with their ids (identities and sequences moved past them), so chains link the same
and anchors taken before the move still name the right rows. The search columns of a
transcript, of a knowledge-base version and of an order's text are made for the target
(PostgreSQL's grams, or SQLite's index by its triggers).
Tables are copied parents first and the rollup's "built" marks last (so the rollup's
triggers note nothing during the copy). A target that already holds rows is refused: a
move is done once, into an empty database, with hotline stopped. The source is brought
to this hotline's schema first (its missing components made). :class:`CopyError` says
what did not match. ``hotline db migrate --from URL --to URL`` is this with the web's
:class:`~hotline.web.accounts.Accounts` as ``extra``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.stores import anchors, schema
from hotline.stores.access import AccessLog
from hotline.stores.dialect import Connection, Dialect
from hotline.stores.history import History
from hotline.stores.integrity import IntegrityAlerts
from hotline.stores.kb import KbStore
from hotline.stores.metrics import MetricsStore
from hotline.stores.orders import OrderStore
from hotline.stores.pg_search import folded, gram_set
from hotline.stores.qa import QaStore
from hotline.stores.recall import RecallStore
from hotline.stores.retention import RetentionStore
from hotline.stores.transcripts import TranscriptStore

__all__ = ["STORES", "TABLES", "CopyError", "CopyReport", "copy_database"]

STORES: tuple[type[schema.Store], ...] = (
    History, TranscriptStore, AccessLog, RetentionStore, IntegrityAlerts, MetricsStore, QaStore,
    RecallStore, OrderStore, KbStore,
)  # fmt: skip
TABLES = (
    "calls", "call_visits", "call_rings", "agent_journal", "callbacks", "recordings",
    "alerts", "escalations", "twilio_events", "transcripts", "access_log", "legal_holds",
    "disposals",
    "disposal_files", "integrity_alerts", "web_users", "web_sessions", "metrics_changes",
    "qa_forms", "qa_scores", "qa_appeals", "qa_flags", "qa_samples",
    "recall_tasks", "recall_calls", "recall_attempts", "recall_sync",
    "metrics_rollup", "metrics_rollup_by", "metrics_dirty", "metrics_rollup_built", "orders",
    "order_journal", "order_text", "order_calls", "kb_answers", "kb_versions", "kb_links",
)  # fmt: skip
"""Every table hotline keeps, parents before children, the rollup's marks last."""
_SKIP = ("schema_components", "sqlite_sequence",
         "transcript_index", "kb_index", "order_index")  # the target's  # fmt: skip
SEARCHED = {"transcripts": "text", "kb_versions": "search_text", "order_text": "text"}
"""The tables with search columns made for the target (grams, folded), from which text."""
BATCH = 5000


class CopyError(Exception):
    """The copy cannot be made or does not match its source; the text says where."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied (= in source)
    heads: list[anchors.Anchor] = field(default_factory=list)  # the chains' heads, equal


def _tables(conn: Connection) -> list[str]:
    if conn.dialect is Dialect.POSTGRESQL:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return [r[0] for r in conn.execute(sql).fetchall()]


def _columns(conn: Connection, table: str) -> list[str]:
    cur = conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cur.description]


def _names(columns: Sequence[str]) -> str:
    """Column names quoted (``user`` is reserved in PostgreSQL)."""
    return ", ".join(f'"{c}"' for c in columns)


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _open(stores: Sequence[type[schema.Store]], target: Path | str) -> list[schema.Store]:
    """Every store of TARGET opened (so migrated): one connection each."""
    return [store.open(target) for store in stores]


def _rows(conn: Connection, table: str, select: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    order = "rowid" if "rowid" in select else "1"
    cur = conn.execute(f"SELECT {_names(select)} FROM {table} ORDER BY {order}")
    while batch := cur.fetchmany(BATCH):
        yield [tuple(r) for r in batch]


def _copy_table(src: Connection, dst: Connection, table: str, lock: threading.Lock) -> int:
    have, want = _columns(src, table), _columns(dst, table)
    select, computed = [], []
    for column in want:
        if column in have or (column == "rowid" and src.dialect is Dialect.SQLITE):
            select.append(column)
        elif table in SEARCHED and column in ("grams", "folded"):
            computed.append(column)
        else:
            raise CopyError(f"{table}.{column}: the target has it, the source does not")
    lost = [c for c in have if c not in want]
    if lost:
        raise CopyError(f"{table}: the target has no {', '.join(lost)} (an older schema?)")
    columns = select + computed
    text = select.index(SEARCHED[table]) if computed else 0
    sql = f"INSERT INTO {table} ({_names(columns)}) VALUES ({','.join('?' * len(columns))})"
    n = 0
    for batch in _rows(src, table, select):
        if computed:
            batch = [(*r, gram_set(r[text]), folded(r[text])) for r in batch]
        with schema.transaction(dst, lock):
            dst.executemany(sql, batch)
        n += len(batch)
    return n


def _advance_identities(dst: Connection, tables: Sequence[str]) -> None:
    """Move each identity past the ids copied in (PostgreSQL: new rows follow them)."""
    if dst.dialect is not Dialect.POSTGRESQL:
        return
    for table, column in dst.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall():
        if table in tables:
            dst.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT COALESCE(max({column}), 0) + 1 FROM {table}), false)"
            )


def copy_database(
    source: Path | str, target: Path | str, *, extra: Sequence[type[schema.Store]] = ()
) -> CopyReport:
    """Copy every row of SOURCE into the empty TARGET and check the copy (counts, chains,
    heads); EXTRA: stores of the layers above (the web's accounts) to copy too."""
    stores = (*STORES, *extra)
    src_stores = _open(stores, source)  # migrated to this hotline's schema first
    dst_stores = _open(stores, target)
    src, dst = src_stores[0].connection, dst_stores[0].connection
    lock = dst_stores[0]._lock
    try:
        present = [t for t in _tables(src) if not t.startswith(_SKIP)]
        unknown = sorted(set(present) - set(TABLES))
        if unknown:
            raise CopyError(f"tables hotline does not know: {', '.join(unknown)}")
        made = _tables(dst)
        missing = [t for t in present if t not in made]
        if missing:
            raise CopyError(f"no store given for {', '.join(missing)} (extra=...)")
        full = [t for t in TABLES if t in made and _count(dst, t)]
        if full:
            raise CopyError(f"the target holds rows already ({', '.join(full)}): not copied")
        report = CopyReport()
        for table in (t for t in TABLES if t in present):
            copied = _copy_table(src, dst, table, lock)
            if copied != _count(src, table) or copied != _count(dst, table):
                raise CopyError(f"{table}: {_count(src, table)} rows, {copied} copied, "
                                f"{_count(dst, table)} in the target")  # fmt: skip
            report.rows[table] = copied
        _advance_identities(dst, list(report.rows))
        _check_chains(dst_stores)
        report.heads = anchors.heads(src, 0)
        if anchors.check(dst, report.heads):
            raise CopyError("; ".join(anchors.check(dst, report.heads)))
        return report
    finally:
        for store in (*src_stores, *dst_stores):
            store.close()


def _check_chains(stores: Sequence[schema.Store]) -> None:
    """Each chain of the copy verified from its first entry (hashes over the fields)."""
    for store in stores:
        if isinstance(store, History):
            checks = [("agent_journal", store.verify_journal())]
        elif isinstance(store, RetentionStore):
            checks = [("disposals", store.verify())]
        elif isinstance(store, AccessLog):
            checks = [("access_log", store.verify())]
        elif isinstance(store, KbStore):
            checks = list(store.verify().items())
        else:
            continue
        for name, broken in checks:
            if broken is not None:
                raise CopyError(f"{name}: the copy's chain breaks at id {broken}")
