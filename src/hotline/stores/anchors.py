"""Anchors: the heads of the hash chains, kept outside the database.

A hash chain shows an edit to anyone who checks it, unless the editor recomputes every hash
after the row they changed: whoever can write the database can. The heads written down
elsewhere (``hotline audit anchor``: an append-only file on another mount, syslog, or a
copy the auditors keep) make that visible: the row an anchor names must still carry the
anchored hash (``hotline audit verify``).

The chains: the agent journal (disciplinary evidence), the access log (who read or heard
what), the disposal records (what retention destroyed), the work orders' journal (who
handled, returned or closed which order: evidence of bouncing), the knowledge base's
versions and links (what an answer said, and who gave which on which call or order).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from hotline.stores.dialect import Connection, has_table

__all__ = ["CHAINS", "Anchor", "check", "heads", "parse"]

CHAINS = ("agent_journal", "access_log", "disposals", "order_journal", "kb_versions", "kb_links")


@dataclass(frozen=True, slots=True)
class Anchor:
    chain: str
    id: int  # the row's id at the time
    hash: str
    t: int  # when it was written down (ms)

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def parse(text: str) -> list[Anchor]:
    """Anchors from JSON lines (others are skipped: an anchor file may hold notes)."""
    out = []
    for line in text.splitlines():
        try:
            d = json.loads(line)
            out.append(Anchor(str(d["chain"]), int(d["id"]), str(d["hash"]), int(d["t"])))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _exists(conn: Connection, table: str) -> bool:
    return has_table(conn, table)


def heads(conn: Connection, now: int) -> list[Anchor]:
    """The last row of every chain that has one."""
    out = []
    for table in CHAINS:
        if not _exists(conn, table):
            continue
        row = conn.execute(f"SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
        if row is not None:
            out.append(Anchor(table, int(row[0]), str(row[1]), now))
    return out


def check(conn: Connection, anchors: list[Anchor]) -> list[str]:
    """What the database contradicts: each anchor whose row is gone or carries another hash."""
    problems = []
    for a in anchors:
        if a.chain not in CHAINS:
            problems.append(f"{a.chain}: not a chain hotline keeps")
            continue
        row = None
        if _exists(conn, a.chain):
            row = conn.execute(f"SELECT hash FROM {a.chain} WHERE id = ?", (a.id,)).fetchone()
        if row is None:
            problems.append(f"{a.chain} #{a.id}: anchored at {a.t}, no longer in the database")
        elif row[0] != a.hash:
            problems.append(
                f"{a.chain} #{a.id}: its hash differs from the one anchored at {a.t}: the chain "
                "was rewritten up to there (an edit with its tail recomputed)"
            )
    return problems
