"""``hotline transcripts search|show``: find what was said, read a call by speaker.

    hotline transcripts search 物业 --purpose 工单2026-1234 [--from 2026-11-01 --to 2026-11-30]
        [--queue property] [--agent 1001|王芳] [--caller 138...] [--leg caller|agent]
        [--format table|json] [--limit 50] [--offset 0] [--unmask] [--db PATH]
    hotline transcripts show CALL_ID --purpose 工单2026-1234 [--unmask] [--format text|json]

Every search and show is written to the access log first (who: the OS user; when; what;
the ``--purpose`` given, which is required), and ``--unmask`` adds an ``unmask`` entry:
personal numbers (ID cards, mobiles, bank cards) and caller numbers are masked otherwise.
``hotline access`` (:mod:`hotline.cli.access`) reads the log.
Dates are Asia/Shanghai: ``--from D --to D`` covers whole days, both included.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hotline.center.config import CenterError
from hotline.cli.common import (
    DB_HELP,
    CLIError,
    db_path,
    failures,
    local_time,
    log_read,
    parse_when,
    print_json,
    read_center,
)
from hotline.core.termtable import aligned_rows
from hotline.host.settings import Settings
from hotline.ivr.loader import FlowError
from hotline.recordings.leg import Leg
from hotline.stores.access import AccessError
from hotline.stores.history import History
from hotline.stores.transcripts import Hit, SearchFilters, Total, TranscriptStore
from hotline.transcripts import redact, turns
from hotline.transcripts.fulltext import QueryError

__all__ = ["add_parsers", "run_transcripts"]

LEGS = {"caller": Leg.CALLER, "agent": Leg.AGENT}
MARK = ("【", "】")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("transcripts", help="search transcripts, show a call by speaker")
    p.set_defaults(handler=run_transcripts)
    ps = p.add_subparsers(dest="transcripts_command", required=True)

    s = ps.add_parser("search", help="calls where something was said (literal text)")
    s.add_argument("query", help="words to find; every one must match (Chinese: any length)")
    s.add_argument("--from", dest="since", help="YYYY-MM-DD[THH:MM] (Asia/Shanghai)")
    s.add_argument("--to", dest="until", help="YYYY-MM-DD (included) or a time")
    s.add_argument("--queue", help="any queue the call visited")
    s.add_argument("--agent", help="extension or name of the agent who answered")
    s.add_argument("--caller", help="the caller's number, exactly")
    s.add_argument("--leg", choices=list(LEGS), help="what the caller or the agent said")
    s.add_argument("--format", choices=["table", "json"], default="table")
    s.add_argument("--limit", type=int, default=50)
    s.add_argument("--offset", type=int, default=0)
    s.add_argument("--exact-count", action="store_true",
                   help="count every match (default: exact to 10,000, else 10,000+)")  # fmt: skip
    _privacy(s)

    w = ps.add_parser("show", help="one call's transcript, turn by turn")
    w.add_argument("call_id")
    w.add_argument("--format", choices=["text", "json"], default="text")
    _privacy(w)


def _privacy(p: argparse.ArgumentParser) -> None:
    p.add_argument("--purpose", required=True, help="why: the case / 工单 number (logged)")
    p.add_argument("--unmask", action="store_true", help="show personal numbers (logged)")
    p.add_argument("--db", help=DB_HELP)


def run_transcripts(settings: Settings, args: argparse.Namespace) -> int:
    if not args.purpose.strip():
        raise CLIError("say why you look (--purpose CASE): it goes into the access log")
    with failures(QueryError, AccessError):
        if args.transcripts_command == "search":
            return _search(settings, args)
        return _show(settings, args)


def _agent(settings: Settings, key: str) -> str:
    """An agent's MemberName from an extension or a name (center.yaml)."""
    try:
        agent = read_center(settings).agent(key)
    except (CLIError, CenterError, FlowError):
        return key  # without a readable centre: the name as given
    return agent.name if agent is not None else key


def _filters(settings: Settings, args: argparse.Namespace) -> SearchFilters:
    since = parse_when(args.since) if args.since else None
    until = parse_when(args.until, end=True) if args.until else None
    if since is not None and until is not None and until <= since:
        raise CLIError(f"--to {args.until} is not after --from {args.since}")
    return SearchFilters(
        since_ms=since,
        until_ms=until,
        queue=args.queue,
        agent=_agent(settings, args.agent) if args.agent else None,
        caller=args.caller,
        leg=LEGS[args.leg] if args.leg else None,
    )


def _marked(snippet: str, marks: tuple[tuple[int, int], ...]) -> str:
    out, at = [], 0
    for start, end in marks:
        out += [snippet[at:start], MARK[0], snippet[start:end], MARK[1]]
        at = end
    return "".join([*out, snippet[at:]])


def _search(settings: Settings, args: argparse.Namespace) -> int:
    filters = _filters(settings, args)
    db = db_path(settings, args.db)
    store = TranscriptStore.open(db)
    try:
        if args.exact_count:
            total = Total(store.search_count(args.query, filters))
        else:  # a common term at 1 M legs: seconds to count all, ms to count to the cap
            total = store.search_total(args.query, filters)
        hits = store.search(args.query, filters, limit=args.limit, offset=args.offset)
        detail = {
            "filters": {k: v for k, v in _filter_doc(filters).items() if v is not None},
            "total": total.n, "limit": args.limit, "offset": args.offset,
            "calls": sorted({h.call_id for h in hits}),
        }  # fmt: skip
        log_read(db, "search", args.query, args.purpose, detail)
        # a digit run searched against the unmasked index confirms hidden digits
        if args.unmask or redact.probes_numbers(args.query):
            log_read(db, "unmask", args.query, args.purpose, {"calls": detail["calls"]})
    finally:
        store.close()
    shown = hits if args.unmask else [h.masked() for h in hits]
    if args.format == "json":
        doc = {
            "query": args.query,
            "filters": _filter_doc(filters),
            "total": total.n,
            "total_more": total.more,  # true: at least "total" (the count stopped there)
            "offset": args.offset,
            "hits": [_hit_doc(h, args.unmask) for h in shown],
        }
        print_json(doc)
        return 0
    first, last = args.offset + 1, args.offset + len(shown)
    print(f"{total} transcribed legs match" + (f" (showing {first}-{last})" if shown else ""))
    rows = aligned_rows([_hit_row(h, args.unmask) for h in shown])
    for h, row in zip(shown, rows, strict=True):
        print(row)
        print(f"    {_marked(h.snippet, h.marks)}")
    return 0


def _hit_row(h: Hit, unmasked: bool) -> list[str]:
    """A hit's line as cells, aligned by display width (agents' names are Chinese)."""
    caller = h.caller if unmasked else redact.mask_phone(h.caller)
    at = turns.clock(h.start_ms) if h.start_ms is not None else "-"
    return [local_time(h.t_q or h.t_arrival), h.call_id, turns.label(h.leg), h.queue or "-",
            h.agent or "-", caller or "-", f"@{at}"]  # fmt: skip


def _filter_doc(f: SearchFilters) -> dict[str, Any]:
    return {"since_ms": f.since_ms, "until_ms": f.until_ms, "queue": f.queue, "agent": f.agent,
            "caller": f.caller, "leg": f.leg.value if f.leg else None}  # fmt: skip


def _hit_doc(h: Hit, unmasked: bool) -> dict[str, Any]:
    return {"call_id": h.call_id, "leg": h.leg.value, "snippet": h.snippet,
            "marks": [list(m) for m in h.marks], "start_ms": h.start_ms, "t_q": h.t_q,
            "queue": h.queue, "agent": h.agent,
            "caller": h.caller if unmasked else redact.mask_phone(h.caller)}  # fmt: skip


def _show(settings: Settings, args: argparse.Namespace) -> int:
    db = db_path(settings, args.db)
    store = TranscriptStore.open(db)
    history = History.open(db)
    try:
        legs = store.get(args.call_id)
        call = history.call(args.call_id)
        detail = {"legs": [t.leg.value for t in legs], "found": bool(legs)}
        log_read(db, "show", args.call_id, args.purpose, detail)
        if args.unmask:
            log_read(db, "unmask", args.call_id, args.purpose, detail)
    finally:
        store.close()
        history.close()
    if not legs:
        raise CLIError(f"no transcript of call {args.call_id!r} in {db}")
    if not args.unmask:
        legs = [redact.mask_transcript(t) for t in legs]
    merged = turns.merge(legs)
    caller = (call.caller if args.unmask else redact.mask_phone(call.caller)) if call else ""
    if args.format == "json":
        doc = {
            "call_id": args.call_id,
            "t_q": call.t_q if call else None, "queue": call.first_queue if call else "",
            "agent": call.agent if call else "", "caller": caller,
            "legs": [{"leg": t.leg.value, "engine": t.engine, "model": t.model,
                      "language": t.language, "duration_ms": t.duration_ms} for t in legs],
            "turns": [{"speaker": turn.speaker.value, "label": turns.label(turn.speaker),
                       "start_ms": turn.start_ms, "end_ms": turn.end_ms, "text": turn.text,
                       "words": [[w.text, w.start_ms, w.end_ms] for w in turn.words]}
                      for turn in merged],
        }  # fmt: skip
        print_json(doc)
        return 0
    if call is not None:
        print(
            f"call {args.call_id}  {local_time(call.t_q or call.t_arrival)}  "
            f"queue {call.first_queue or '-'}  agent {call.agent or '-'}  caller {caller or '-'}"
        )
    else:
        print(f"call {args.call_id} (not in the history)")
    for t in legs:
        seconds = t.duration_ms / 1000
        print(f"  {turns.label(t.leg)}: {t.engine} {t.model} ({t.language}), {seconds:.1f} s")
    print()
    sys.stdout.write(turns.render(merged))
    return 0
