"""A site's hash chains checked together: the agent journal, the access log, the disposal
records, the work orders' journal, the knowledge base's versions and links, and the
anchors of their heads kept outside the database.

    with site_chains(db) as chains:
        problems = chains.broken() + chains.unanchored(read_anchors(path) or [])

Used by ``hotline audit verify`` and by a restore's check, so both say the same of a site.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hotline.host.settings import Database
from hotline.stores import anchors
from hotline.stores.access import AccessLog
from hotline.stores.history import History
from hotline.stores.kb import KbStore
from hotline.stores.orders import OrderStore
from hotline.stores.retention import RetentionStore

__all__ = ["SiteChains", "read_anchors", "site_chains"]


@dataclass(frozen=True, slots=True)
class SiteChains:
    history: History
    access: AccessLog
    retention: RetentionStore
    orders: OrderStore
    kb: KbStore

    def broken(self) -> list[str]:
        """One line per chain broken, naming the first row that does not follow."""
        return [
            f"{name} #{row}: the hash chain is broken from this row on"
            for name, row in (
                ("agent_journal", self.history.verify_journal()),
                ("access_log", self.access.verify()),
                ("disposals", self.retention.verify()),
                ("order_journal", self.orders.verify()),
                *self.kb.verify().items(),
            )
            if row is not None
        ]

    def unanchored(self, anchored: list[anchors.Anchor]) -> list[str]:
        """One line per anchor the chains no longer hold."""
        return anchors.check(self.history.connection, anchored)


@contextlib.contextmanager
def site_chains(db: Database) -> Iterator[SiteChains]:
    history = History.open(db)
    access = AccessLog.open(db)
    retention = RetentionStore.open(db)
    orders = OrderStore.open(db)
    kb = KbStore.open(db)
    try:
        yield SiteChains(history, access, retention, orders, kb)
    finally:
        kb.close()
        orders.close()
        history.close()
        access.close()
        retention.close()


def read_anchors(path: Path) -> list[anchors.Anchor] | None:
    """The anchors written to PATH, or None when there is no such file."""
    try:
        return anchors.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
