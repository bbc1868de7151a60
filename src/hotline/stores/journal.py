"""The agent journal in the history: append-only and hash-chained, evidence in disciplinary
cases.

    history.append_journal([change, ...])   # never updated or deleted (triggers refuse it)
    history.journal(agent, since=t0)
    history.verify_journal()                # the first entry whose chain is broken, or None

Each entry's hash covers its fields and the previous entry's hash (:mod:`hotline.stores.chain`);
heads written down elsewhere (:mod:`hotline.stores.anchors`) catch a recomputed tail.
Part of :class:`~hotline.stores.history.History` (the table is its migrations).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hotline.core.records import AgentChange, AgentStatus, PauseSetBy
from hotline.stores import chain, dialect, schema

__all__ = ["COLUMNS", "GENESIS", "Journal", "change_of", "entry_hash"]

GENESIS = chain.GENESIS
COLUMNS = "t, agent, kind, queue, reason, set_by, actor, call_id, status, note"


def entry_hash(prev: str, change: AgentChange) -> str:
    """The SHA-256 link of ``change`` after the entry whose hash is ``prev``."""
    return chain.link(
        prev,
        [
            change.t,
            change.agent,
            change.kind,
            change.queue,
            change.reason,
            change.set_by.value if change.set_by else None,
            change.actor,
            change.call_id,
            change.status.value if change.status else None,
            *([change.note] if change.note else []),
        ],
    )


class Journal(schema.Store):
    """The table agent_journal."""

    def append_journal(self, changes: Iterable[AgentChange]) -> int:
        """Append entries, each chained to the previous by SHA-256; return how many."""
        n = 0
        with self.tx() as conn:
            dialect.serialize(conn, "agent_journal")  # one writer links at a time
            last = conn.execute(
                "SELECT hash FROM agent_journal ORDER BY id DESC LIMIT 1"
            ).fetchone()
            prev = last[0] if last else GENESIS
            for c in changes:
                digest = entry_hash(prev, c)
                conn.execute(
                    "INSERT INTO agent_journal (t, agent, kind, queue, reason, set_by, actor, "
                    "call_id, status, prev_hash, hash, note) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        c.t, c.agent, c.kind, c.queue, c.reason,
                        c.set_by.value if c.set_by else None, c.actor, c.call_id,
                        c.status.value if c.status else None, prev, digest, c.note,
                    ),
                )  # fmt: skip
                prev = digest
                n += 1
        return n

    def journal(
        self, agent: str | None = None, since: int = 0, until: int = 2**62
    ) -> list[AgentChange]:
        sql = f"SELECT {COLUMNS} FROM agent_journal WHERE t >= ? AND t < ?"
        args: tuple[object, ...] = (since, until)
        if agent is not None:
            sql += " AND agent = ?"
            args += (agent,)
        with self._lock:
            rows = self.connection.execute(sql + " ORDER BY id", args).fetchall()
        return [change_of(row) for row in rows]

    def verify_journal(self) -> int | None:
        """The id of the first journal entry whose hash chain is broken, or None if intact."""
        prev = GENESIS
        with self._lock:
            rows = self.connection.execute(
                f"SELECT id, prev_hash, hash, {COLUMNS} FROM agent_journal ORDER BY id"
            ).fetchall()
        for row in rows:
            if row[1] != prev or row[2] != entry_hash(prev, change_of(row[3:])):
                return int(row[0])
            prev = row[2]
        return None


def change_of(r: tuple[Any, ...]) -> AgentChange:
    """A journal row (the columns of COLUMNS, in order) as an AgentChange."""
    return AgentChange(
        t=r[0], agent=r[1], kind=r[2], queue=r[3], reason=r[4],
        set_by=PauseSetBy(r[5]) if r[5] else None, actor=r[6], call_id=r[7],
        status=AgentStatus(r[8]) if r[8] else None, note=r[9],
    )  # fmt: skip
