"""``hotline kb``: the knowledge base (知识库) from the command line.

    hotline kb add --category 欠薪 --title "农民工工资被拖欠怎么办" --text "..." \\
        [--tag 欠薪 ...] [--serves unpaid-wages ...] [--valid-from D] [--valid-until D] --as USER
    hotline kb edit ID [--text ...] [--title ...] [--tag ...] [--seen N] --as USER
    hotline kb show ID [--versions]
    hotline kb search QUERY [--category C] [--all-versions] --format table|json
    hotline kb propose --call CALL_ID           # ranked answers for a stored call
    hotline kb link ID --call CALL_ID|--order ORDER_ID [--version N] --as USER
    hotline kb conflicts [--days 30] --format table|json

``--as USER`` is a web account (``hotline users``): an admin or a supervisor may add and
edit answers, an agent or a supervisor links the answer they gave. Every edit is a new
version (who, when, what changed); search is the transcripts' Chinese search. Numbers in
``conflicts`` are masked; ``propose`` (which reads the call's transcript) and ``conflicts``
(callers and their orders) go into the access log. See docs/kb.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from hotline.cli.common import (
    DB_HELP,
    CLIError,
    db_path,
    local_time,
    log_read,
    parse_when,
    print_json,
)
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Database, Settings
from hotline.kb.conflicts import Conflict, Use, find
from hotline.kb.errors import KbError
from hotline.kb.model import EDIT_ROLES, USE_ROLES, Answer, Content, Version
from hotline.kb.propose import propose
from hotline.orders.errors import OrderError
from hotline.orders.machine import replay
from hotline.stores.history import History
from hotline.stores.kb import KbHit, KbStore, Link
from hotline.stores.orders import OrderStore
from hotline.stores.transcripts import TranscriptStore
from hotline.transcripts.fulltext import QueryError
from hotline.transcripts.redact import mask_phone
from hotline.web.accounts import Accounts

__all__ = ["add_parsers", "run_kb"]


def _fmt(p: argparse.ArgumentParser, *, user: bool = False) -> None:
    if user:
        p.add_argument("--as", dest="user", required=True,
                       help="who: a web account (hotline users)")  # fmt: skip
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--db", help=DB_HELP)


def _content_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--category", required=required, help="the matter: 欠薪, 物业, 供水 ...")
    p.add_argument("--title", required=required)
    p.add_argument("--text", required=required, help="what the agent tells the citizen")
    p.add_argument("--tag", action="append", help="a tag (again for more; edit: replaces)")
    p.add_argument("--serves", action="append",
                   help="an IVR tag (unpaid-wages) or path prefix (main:2>labour)")  # fmt: skip
    p.add_argument("--valid-from", help="YYYY-MM-DD: valid from that day ('' for always)")
    p.add_argument("--valid-until", help="YYYY-MM-DD: valid through that day ('' for no end)")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("kb", help="knowledge base (知识库): answers, versions, search, links")
    p.set_defaults(handler=run_kb)
    ps = p.add_subparsers(dest="kb_command", required=True)
    add = ps.add_parser("add", help="a new answer (prints its id)")
    _content_options(add, required=True)
    _fmt(add, user=True)
    edit = ps.add_parser("edit", help="a new version of an answer (only what is given changes)")
    edit.add_argument("id", help="the answer's id")
    _content_options(edit, required=False)
    edit.add_argument("--seen", type=int, help="the version you edited (refused if newer)")
    _fmt(edit, user=True)
    show = ps.add_parser("show", help="an answer, its current version or every version")
    show.add_argument("id")
    show.add_argument("--versions", action="store_true", help="every version, what changed")
    _fmt(show)
    search = ps.add_parser("search", help="answers by words (the transcripts' Chinese search)")
    search.add_argument("query", help="words, all must match ('' lists every answer)")
    search.add_argument("--category")
    search.add_argument("--all-versions", action="store_true", help="old versions too")
    search.add_argument("--limit", type=int, default=20)
    _fmt(search)
    prop = ps.add_parser("propose", help="answers for a stored call: its IVR path and words")
    prop.add_argument("--call", required=True, help="the call's id")
    prop.add_argument("--limit", type=int, default=5)
    _fmt(prop)
    link = ps.add_parser("link", help="note the answer given on a call or an order")
    link.add_argument("id", help="the answer's id")
    target = link.add_mutually_exclusive_group(required=True)
    target.add_argument("--call", help="the call's id")
    target.add_argument("--order", help="the work order's id")
    link.add_argument("--version", type=int, help="the version given (default: the current)")
    _fmt(link, user=True)
    conf = ps.add_parser("conflicts", help="contradictory answers to one caller or order")
    conf.add_argument("--days", type=int, default=30, help="at most this many days apart")
    conf.add_argument("--since", help="YYYY-MM-DD: links from that day on")
    _fmt(conf)


# -- helpers ---------------------------------------------------------------------------------


def _answer_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CLIError(f"answer {text!r}: an answer's id is a number (hotline kb search)") from None
    if value < 1:
        raise CLIError(f"answer {value}: ids start at 1")
    return value


def _check_user(db: Database, username: str, roles: frozenset[str], doing: str) -> str:
    accounts = Accounts.open(db)
    try:
        user = accounts.user(username)
    finally:
        accounts.close()
    if user is None:
        raise CLIError(f"no user {username!r} (hotline users list)", 2)
    if user.disabled:
        raise CLIError(f"{username}'s account is disabled", 2)
    if user.role.value not in roles:
        may = " or ".join(sorted(roles))
        raise CLIError(f"{username} is an {user.role.value}: only an {may} may {doing}", 2)
    return username


def _day(text: str | None, *, end: bool = False) -> int | None:
    return parse_when(text, end=end) if text else None


@contextmanager
def _store(settings: Settings, args: argparse.Namespace) -> Iterator[KbStore]:
    store = KbStore.open(db_path(settings, args.db))
    try:
        yield store
    except (KbError, QueryError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        store.close()


def _version_doc(v: Version) -> dict[str, object]:
    c = v.content
    return {
        "answer": v.answer, "version": v.n, "category": c.category, "title": c.title,
        "text": c.text, "tags": list(c.tags), "serves": list(c.serves),
        "valid_from": c.valid_from, "valid_until": c.valid_until, "by": v.user, "t": v.t,
        "when": local_time(v.t), "change": v.change,
    }  # fmt: skip


def _answer_doc(a: Answer, versions: bool) -> dict[str, object]:
    doc = _version_doc(a.current)
    if versions:
        doc["versions"] = [_version_doc(v) for v in a.versions]
    return doc


def _print_answer(a: Answer, versions: bool) -> None:
    v, c = a.current, a.content
    print(f"answer {a.id} · version {v.n} · {c.category} · {c.title}")
    print(f"  tags: {' '.join(c.tags) or '-'}   serves: {' '.join(c.serves) or '-'}")
    if c.valid_from is not None or c.valid_until is not None:
        print(f"  valid: {local_time(c.valid_from)} to {local_time(c.valid_until)}")
    print()
    print(c.text)
    print()
    if versions:
        rows = [[str(x.n), local_time(x.t), x.user, x.change] for x in a.versions]
        print(table(["version", "when", "by", "what changed"], rows))
    else:
        print(f"version {v.n} by {v.user} at {local_time(v.t)}: {v.change}")


def _link_doc(link: Link) -> dict[str, object]:
    return {"id": link.id, "answer": link.answer, "version": link.version, "kind": link.kind,
            "target": link.target, "by": link.user, "t": link.t}  # fmt: skip


# -- the commands ----------------------------------------------------------------------------


def run_kb(settings: Settings, args: argparse.Namespace) -> int:
    db = db_path(settings, args.db)
    name = args.kb_command
    if name in ("add", "edit"):
        _check_user(db, args.user, EDIT_ROLES, "add or edit answers")
    elif name == "link":
        _check_user(db, args.user, USE_ROLES, "link an answer they gave")
    with _store(settings, args) as store:
        if name == "add":
            return _add(store, args)
        if name == "edit":
            return _edit(store, args)
        if name == "show":
            a = store.answer(_answer_id(args.id))
            if a is None:
                raise CLIError(f"no answer {args.id} (hotline kb search)")
            if args.format == "json":
                print_json(_answer_doc(a, args.versions))
            else:
                _print_answer(a, args.versions)
            return 0
        if name == "search":
            return _search(store, args)
        if name == "propose":
            return _propose(store, db, args)
        if name == "link":
            return _link(store, db, args)
        return _conflicts(store, db, args)


def _add(store: KbStore, args: argparse.Namespace) -> int:
    content = Content(args.category, args.title, args.text, tuple(args.tag or ()),
                      tuple(args.serves or ()), _day(args.valid_from),
                      _day(args.valid_until, end=True))  # fmt: skip
    a = store.add(content, user=args.user, t=wall_ms())
    if args.format == "json":
        print_json(_answer_doc(a, False))
    else:
        print(a.id)
    return 0


def _edit(store: KbStore, args: argparse.Namespace) -> int:
    answer = _answer_id(args.id)
    before = store.answer(answer)
    if before is None:
        raise CLIError(f"no answer {answer} (hotline kb search)")
    c = before.content
    given = {
        "category": args.category, "title": args.title, "text": args.text,
        "tags": tuple(args.tag) if args.tag is not None else None,
        "serves": tuple(args.serves) if args.serves is not None else None,
    }  # fmt: skip
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if args.valid_from is not None:
        changes["valid_from"] = _day(args.valid_from)
    if args.valid_until is not None:
        changes["valid_until"] = _day(args.valid_until, end=True)
    if not changes:
        raise CLIError("nothing to change: give --text, --title, --category, --tag, --serves "
                       "or a validity")  # fmt: skip
    a = store.edit(answer, replace(c, **changes), user=args.user, t=wall_ms(), seen=args.seen)
    if args.format == "json":
        print_json(_version_doc(a.current))
    else:
        print(f"answer {a.id} version {a.current.n}: {a.current.change}")
    return 0


def _search(store: KbStore, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        raise CLIError(f"--limit {args.limit}: use 1 to 1000")
    hits = store.search(args.query, category=args.category, every_version=args.all_versions,
                        limit=args.limit)  # fmt: skip
    if args.format == "json":
        print_json([_hit_doc(h) for h in hits])
        return 0
    rows = [[str(h.version.answer), str(h.version.n), h.version.content.category,
             h.version.content.title, h.snippet.replace("\n", " ")] for h in hits]  # fmt: skip
    print(table(["answer", "version", "category", "title", "text"], rows))
    return 0


def _hit_doc(h: KbHit) -> dict[str, object]:
    return {**_version_doc(h.version), "snippet": h.snippet,
            "marks": [list(m) for m in h.marks], "in_title": h.in_title}  # fmt: skip


def _propose(store: KbStore, db: Database, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise CLIError(f"--limit {args.limit}: use 1 to 100")
    history = History.open(db)
    try:
        call = history.call(args.call)
    finally:
        history.close()
    if call is None:
        raise CLIError(f"no call {args.call!r} in the history (hotline calls list)")
    transcripts = TranscriptStore.open(db)
    try:
        words = " | ".join(t.text for t in transcripts.get(call.call_id))
    finally:
        transcripts.close()
    found = propose(store.answers(), ivr_path=call.ivr_path, tag=call.tag, words=words,
                    now=wall_ms(), limit=args.limit)  # fmt: skip
    log_read(db, "kb propose", call.call_id, "", {"answers": [p.answer for p in found]})
    if args.format == "json":
        print_json({"call": call.call_id, "ivr_path": call.ivr_path, "tag": call.tag,
                    "transcribed": bool(words),
                    "answers": [{"answer": p.answer, "version": p.version, "title": p.title,
                                 "category": p.category, "level": p.level, "match": p.match,
                                 "score": p.score, "shared": list(p.shared)}
                                for p in found]})  # fmt: skip
        return 0
    print(f"call {call.call_id}: IVR {call.ivr_path or '-'}, tag {call.tag or '-'}, "
          f"{'transcribed' if words else 'no transcript'}")  # fmt: skip
    rows = [[str(n), str(p.answer), str(p.version), p.category, p.title, p.match or "-",
             f"{p.score:.3f}",
             " ".join(p.shared) or "-"] for n, p in enumerate(found, start=1)]  # fmt: skip
    print(table(["rank", "answer", "version", "category", "title", "IVR", "words", "shared"],
                rows))  # fmt: skip
    return 0


def _link(store: KbStore, db: Database, args: argparse.Namespace) -> int:
    answer = _answer_id(args.id)
    if args.call is not None:
        kind, target = "call", args.call
        history = History.open(db)
        try:
            known = history.call(target) is not None
        finally:
            history.close()
        if not known:
            raise CLIError(f"no call {target!r} in the history (hotline calls list)")
    else:
        kind, target = "order", args.order
        orders = OrderStore.open(db)
        try:
            orders.order(target)
        except OrderError as exc:
            raise CLIError(str(exc)) from None
        finally:
            orders.close()
    link = store.link(answer, kind, target, user=args.user, t=wall_ms(), version=args.version)
    if args.format == "json":
        print_json(_link_doc(link))
    else:
        print(f"answer {link.answer} version {link.version} linked to {kind} {target} "
              f"by {link.user} at {local_time(link.t)}")  # fmt: skip
    return 0


def _uses(store: KbStore, db: Database, since: int | None) -> list[Use]:
    """Each link with the caller and the order (the matter) of its call or order."""
    pairs = store.uses(since=since)
    orders = OrderStore.open(db)
    try:
        known = {oid: replay(entries) for oid, entries in orders.timelines().items()}
    finally:
        orders.close()
    by_call: dict[str, str] = {}
    for o in known.values():
        for c in o.callers:
            if c.call_id:
                by_call.setdefault(c.call_id, o.id)

    def kept(order_id: str) -> str:  # a merged order's matter is the order it went into
        seen: set[str] = set()
        while order_id in known and known[order_id].merged_into and order_id not in seen:
            seen.add(order_id)
            order_id = known[order_id].merged_into
        return order_id

    history = History.open(db)
    try:
        callers = {}
        for link, _ in pairs:
            if link.kind == "call" and link.target not in callers:
                call = history.call(link.target)
                callers[link.target] = call.caller if call else ""
    finally:
        history.close()
    uses = []
    for link, v in pairs:
        if link.kind == "call":
            caller = callers.get(link.target, "")
            matter = kept(by_call[link.target]) if link.target in by_call else ""
        else:
            order = known.get(link.target)
            caller = order.phone if order else ""
            matter = kept(link.target)
        uses.append(Use(link.id, link.answer, link.version, v.content.title, v.content.category,
                        v.content.text, link.kind, link.target, link.t, link.user, caller,
                        matter))  # fmt: skip
    return uses


def _use_doc(u: Use) -> dict[str, object]:
    return {"link": u.link, "answer": u.answer, "version": u.version, "title": u.title,
            "kind": u.kind, "target": u.target, "by": u.user, "t": u.t,
            "when": local_time(u.t), "caller": mask_phone(u.caller),
            "order": u.matter}  # fmt: skip


def _conflict_doc(c: Conflict) -> dict[str, object]:
    return {"category": c.category, "why": list(c.why), "difference": c.difference,
            "days": c.days, "first": _use_doc(c.first), "second": _use_doc(c.second)}  # fmt: skip


def _conflicts(store: KbStore, db: Database, args: argparse.Namespace) -> int:
    if not 0 <= args.days <= 3660:
        raise CLIError(f"--days {args.days}: use 0 to 3660")
    since = _day(args.since)
    found = find(_uses(store, db, since), days=args.days)
    log_read(
        db, "kb conflicts", "", "", {"days": args.days, "since": args.since, "found": len(found)}
    )
    if args.format == "json":
        print_json([_conflict_doc(c) for c in found])
        return 0
    rows = [[c.category, f"{c.first.kind} {c.first.target}", f"{c.second.kind} {c.second.target}",
             f"{c.days:g}", ", ".join(c.why), c.difference] for c in found]  # fmt: skip
    print(table(["category", "first", "second", "days", "why", "difference"], rows))
    return 0
