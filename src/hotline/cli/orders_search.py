"""``hotline orders search QUERY --purpose CASE --as AUDITOR``: the orders and their linked
calls' transcripts, searched together (:func:`hotline.casework.search.search`), logged in
the access log with the purpose before anything is printed. Numbers are masked; ``--unmask``
shows them (the CLI's user holds the file already) and is logged as an unmask."""

from __future__ import annotations

import argparse
from typing import Any

from hotline.casework.desk import Desk
from hotline.casework.search import search
from hotline.cli.common import print_json
from hotline.core.termtable import table
from hotline.orders.model import Actor
from hotline.stores.order_search import OrderHit, OrderSearch
from hotline.stores.transcripts import TranscriptStore

__all__ = ["add_arguments", "run_search"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help="literal text: every term must match (Chinese: any substring)")
    p.add_argument("--purpose", required=True, help="why: the case / 工单 number (logged)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--unmask", action="store_true", help="show personal numbers (logged)")


def _doc(h: OrderHit) -> dict[str, Any]:
    doc: dict[str, Any] = {"source": h.source.value, "orders": list(h.orders), "field": h.field,
                           "snippet": h.snippet, "marks": [list(m) for m in h.marks]}  # fmt: skip
    if h.call is not None:
        doc["call"] = {"id": h.call.call_id, "leg": h.call.leg.value,
                       "start_ms": h.call.start_ms, "t_q": h.call.t_q}  # fmt: skip
    return doc


def run_search(desk: Desk, actor: Actor, args: argparse.Namespace, now: int) -> int:
    desk.purpose = args.purpose
    transcripts = TranscriptStore.open(desk.store.file)
    try:
        found = search(desk, OrderSearch(desk.store, transcripts), actor, args.query, now=now,
                       limit=args.limit, offset=args.offset, unmask=args.unmask)  # fmt: skip
    finally:
        transcripts.close()
    if args.format == "json":
        print_json({"orders": found.orders, "transcripts": found.transcripts,
                    "unmasked": found.unmasked, "hits": [_doc(h) for h in found.hits]})  # fmt: skip
        return 0
    rows = [[", ".join(h.orders), h.source.value,
             h.field if h.call is None else f"{h.call.call_id} {h.field}",
             h.snippet.replace("\n", " ")] for h in found.hits]  # fmt: skip
    print(table(["orders", "found in", "where", "snippet"], rows))
    print(f"{found.orders} orders, {found.transcripts} transcripts of linked calls match")
    return 0
