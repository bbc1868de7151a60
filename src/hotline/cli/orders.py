"""``hotline orders``: work orders (工单) from the command line, through the same service as
the order pages (:class:`hotline.casework.desk.Desk`).

    hotline orders create --as wangfang --type 投诉举报 --category 绿化 --content "..." \\
        [--call CALL_ID] [--phone N] [--place P]          # prints the order's id
    hotline orders dispatch ID --to greening --as banzhang01
    hotline orders sign|reply|return|finish ID ... --as lvhua01
    hotline orders review ID accept|reject --why "..." [--to DEPT] --as banzhang01
    hotline orders visit ID --resolved yes --rating 满意 --as banzhang01
    hotline orders show|list|departments|findings|report ... --as USER
    hotline orders search QUERY --purpose CASE --as AUDITOR [--unmask]  # with their calls

``--as USER`` is a web account (``hotline users``): a supervisor acts for the centre, an
agent takes orders, a department's handler (listed in center.yaml ``orders.departments``)
acts on its department's orders only, an auditor reads. Every step is journaled with who,
when and why (``hotline audit verify`` checks the chain); every read (show, list, findings'
orders, report) goes into the access log with the OS user who ran the command.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hotline.casework import views
from hotline.casework.desk import Desk
from hotline.cli import orders_search
from hotline.cli.common import DB_HELP, CLIError, center_file, db_path, print_json
from hotline.cli.live import send_command
from hotline.commands.plan import Command, Verb
from hotline.core.termtable import table
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.orders.errors import OrderError
from hotline.orders.figures import NAMES
from hotline.orders.machine import Step
from hotline.orders.model import Action, Actor, OrderType, Rating, Side, State
from hotline.stores.access import AccessError, AccessLog
from hotline.stores.orders import OrderStore
from hotline.web.accounts import Accounts
from hotline.web.roles import order_actor

__all__ = ["add_parsers", "run_orders"]


def _common(p: argparse.ArgumentParser, formats: tuple[str, ...] = ("table", "json")) -> None:
    p.add_argument("--as", dest="user", required=True, help="who: a web account (hotline users)")
    p.add_argument("--format", choices=formats, default="table")
    p.add_argument("--db", help=DB_HELP)


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("orders", help="work orders (工单): create, dispatch, handle, review")
    p.set_defaults(handler=run_orders)
    ps = p.add_subparsers(dest="orders_command", required=True)
    c = ps.add_parser("create", help="受理: a new order (prints its id)")
    c.add_argument("--type", required=True, choices=[t.value for t in OrderType])
    c.add_argument("--category", required=True)
    c.add_argument("--content", required=True)
    c.add_argument("--call", default="", help="the call's id (its recording and transcript)")
    c.add_argument("--phone", default="", help="the citizen's number")
    c.add_argument("--place", default="")
    c.add_argument("--answer", default="", help="a 咨询 answered on the call: 直接办结")
    verbs = {
        "dispatch": "派单 to a department", "sign": "签收", "reply": "答复",
        "return": "退单: ask the centre to take it back", "finish": "办结: ask to close it",
        "review": "审核 the pending request", "visit": "回访 and 评价",
        "urge": "催办 / 督办", "reopen": "take a badly rated order again",
        "merge": "fold a duplicate into another order",
        "link": "another call about the order (the citizen called again)",
        "show": "an order and its timeline",
        "visit-call": "回访 by phone: the IVR calls the citizen and records their 评价",
    }  # fmt: skip
    q = {name: ps.add_parser(name, help=text) for name, text in verbs.items()}
    for name, parser in q.items():
        parser.add_argument("id", help="the order's id")
        if name not in ("show",):
            _common(parser)
    _common(q["show"])
    q["dispatch"].add_argument("--to", required=True, help="a department (orders departments)")
    q["reply"].add_argument("--text", required=True)
    q["reply"].add_argument("--contact", default="",
                            help="how the citizen was reached: 电话, 上门, 短信 ...")  # fmt: skip
    q["return"].add_argument("--reason", required=True)
    q["finish"].add_argument("--evidence", default="")
    q["finish"].add_argument("--attach", action="append", default=[], help="an attachment name")
    q["review"].add_argument("decision", choices=["accept", "reject"])
    q["review"].add_argument("--why", required=True)
    q["review"].add_argument("--to", default="", help="accepting a return: 改派 to")
    q["visit"].add_argument("--resolved", required=True, choices=["yes", "no"])
    q["visit"].add_argument("--rating", required=True, choices=[r.value for r in Rating])
    q["visit"].add_argument("--text", default="")
    q["urge"].add_argument("--text", required=True)
    q["reopen"].add_argument("--why", required=True)
    q["merge"].add_argument("--into", required=True)
    q["link"].add_argument("--call", default="")
    q["link"].add_argument("--phone", default="")
    _common(c)
    lst = ps.add_parser("list", help="orders, by state and department")
    lst.add_argument("--state", choices=[s.value for s in State])
    lst.add_argument("--department")
    _common(lst)
    _common(ps.add_parser("departments", help="the departments and their handlers"))
    f = ps.add_parser("findings", help="bounce findings with their evidence")
    f.add_argument("--department")
    _common(f)
    ch = ps.add_parser("chase", help="催办/督办 due now (center.yaml orders.chase)")
    ch.add_argument("--apply", action="store_true", help="record each on its order")
    _common(ch)
    se = ps.add_parser("search", help="orders and their calls' transcripts (auditors)")
    orders_search.add_arguments(se)
    _common(se)
    r = ps.add_parser("report", help="each department's figures for a month")
    r.add_argument("--month", required=True, help="YYYY-MM")
    r.add_argument("--by", choices=["department"], default="department")
    _common(r, ("table", "json", "csv"))


@contextmanager
def _desk(settings: Settings, args: argparse.Namespace) -> Iterator[tuple[Desk, Actor]]:
    center = center_file(settings.center, code=2)
    db = db_path(settings, args.db)
    accounts = Accounts.open(db)
    try:
        user = accounts.user(args.user)
    finally:
        accounts.close()
    if user is None:
        raise CLIError(f"no user {args.user!r} (hotline users list)", 2)
    actor = order_actor(user, center.orders)
    if isinstance(actor, str):
        raise CLIError(actor, 2)
    store = OrderStore.open(db)
    access = AccessLog.open(db)
    try:
        yield Desk(store, center.orders, access, f"cli:{getpass.getuser()}"), actor
    except (OrderError, AccessError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        store.close()
        access.close()


def _step(args: argparse.Namespace, actor: Actor, now: int) -> Step:
    name = args.orders_command
    if name == "sign":
        return Step(Action.SIGN, actor, now)
    if name == "reply":
        return Step(Action.REPLY, actor, now, text=args.text, contact=args.contact)
    if name == "return":
        return Step(Action.RETURN, actor, now, text=args.reason)
    if name == "finish":
        return Step(Action.FINISH, actor, now, text=args.evidence,
                    attachments=tuple(args.attach))  # fmt: skip
    if name == "urge":
        return Step(Action.URGE, actor, now, text=args.text)
    return Step(Action.REOPEN, actor, now, text=args.why)


def run_orders(settings: Settings, args: argparse.Namespace) -> int:
    name = args.orders_command
    now = wall_ms()
    with _desk(settings, args) as (desk, actor):
        if name == "visit-call":  # the running controller dials; the IVR asks
            if actor.side is not Side.CENTRE:
                raise CLIError(f"{actor.user}: 回访 is the centre's (a supervisor's) to make")
            command = Command(id=uuid.uuid4().hex, verb=Verb.VISIT, agent="", actor=actor.user,
                              issued_at=now, task=args.id)  # fmt: skip
            return send_command(settings, command)
        if name == "create":
            made = desk.create(actor, OrderType(args.type), args.category, args.content,
                               now=now, place=args.place, phone=args.phone,
                               call_id=args.call)  # fmt: skip
            order = made.order
            if args.answer:
                order = desk.act(actor, order.id, Step(Action.CLOSE_ON_SPOT, actor, now,
                                                       text=args.answer))  # fmt: skip
            if args.format == "json":
                print_json({"order": views.order_doc(order),
                            "duplicates": [{"order": p.order, "why": p.why(),
                                            "similarity": p.similarity}
                                           for p in made.proposals]})  # fmt: skip
                return 0
            print(order.id)
            for p in made.proposals:
                hint = f"hotline orders merge {order.id} --into {p.order}"
                print(f"possible duplicate: {p.order} ({p.why()}); {hint}", file=sys.stderr)
            return 0
        if name == "search":
            return orders_search.run_search(desk, actor, args, now)
        if name == "chase":
            chased = desk.chase(actor, now=now, apply=args.apply)
            rows = [[c.order, c.department, c.step.name, views.when(c.t_due),
                     views.when(c.deadline)] for c in chased]  # fmt: skip
            if args.format == "json":
                print_json([dict(zip(("order", "department", "step", "due", "deadline"), row,
                                     strict=True)) for row in rows])  # fmt: skip
            else:
                print(table(["order", "department", "step", "due", "deadline"], rows))
            return 0
        if name in ("show", "list", "departments", "findings", "report"):
            return _read(desk, actor, args, now)
        if name == "dispatch":
            order = desk.dispatch(actor, args.id, args.to, now=now)
        elif name == "review":
            order = desk.review(actor, args.id, args.decision == "accept", why=args.why,
                                now=now, to=args.to)  # fmt: skip
        elif name == "visit":
            order = desk.visit(actor, args.id, resolved=args.resolved == "yes",
                               rating=Rating(args.rating), now=now, text=args.text)  # fmt: skip
        elif name == "link":
            order = desk.link(actor, args.id, now=now, phone=args.phone, call_id=args.call)
        elif name == "merge":
            order = desk.merge(actor, args.id, args.into, now=now)
        else:
            order = desk.act(actor, args.id, _step(args, actor, now))
        if args.format == "json":
            print_json(views.order_doc(order))
        else:
            print(f"{order.id}  {order.state.value}  {order.department or '-'}  "
                  f"deadline {views.when(order.deadline)}")  # fmt: skip
    return 0


def _read(desk: Desk, actor: Actor, args: argparse.Namespace, now: int) -> int:
    name, fmt = args.orders_command, args.format
    if name == "show":
        shown = desk.show(actor, args.id, now=now)
        if fmt == "json":
            print_json({"order": views.order_doc(shown.order),
                        "timeline": [views.entry_doc(e) for e in shown.timeline],
                        "findings": [views.finding_doc(f) for f in shown.findings]})  # fmt: skip
            return 0
        print("\n".join(views.order_lines(shown.order)))
        print("\ntimeline:")
        print("\n".join(views.timeline_lines(shown.timeline)))
        for f in shown.findings:
            print(f"\nfinding {f.rule}: {f.summary}")
        return 0
    if name == "list":
        state = State(args.state) if args.state else None
        orders = desk.orders(actor, now=now, state=state, department=args.department)
        if fmt == "json":
            print_json([views.order_doc(o) for o in orders])
        else:
            print(table(views.ORDER_COLUMNS, [views.order_row(o) for o in orders]))
        return 0
    if name == "departments":
        depts = desk.config.departments.values()
        if fmt == "json":
            print_json([{"code": d.code, "name": d.name, "handlers": list(d.handlers)}
                        for d in depts])  # fmt: skip
        else:
            print(table(["code", "name", "handlers"],
                        [[d.code, d.name, ", ".join(d.handlers)] for d in depts]))  # fmt: skip
        return 0
    if name == "findings":
        if args.department and args.department not in desk.config.departments:
            raise CLIError(f"no department {args.department!r}", 2)
        found = desk.findings(actor, now=now, department=args.department)
        if fmt == "json":
            print_json([views.finding_doc(f) for f in found])
            return 0
        for f in found:
            print(f"{f.order}  {f.rule}  {', '.join(f.departments) or '-'}  {f.summary}")
            print("\n".join(views.timeline_lines(f.timeline, f.marks)))
            print()
        if not found:
            print("no findings")
        return 0
    return _report(desk, actor, args, now)


def _report(desk: Desk, actor: Actor, args: argparse.Namespace, now: int) -> int:
    month = args.month
    if (
        len(month) != 7
        or month[4] != "-"
        or not (month[:4] + month[5:]).isdigit()
        or not (1 <= int(month[5:]) <= 12)
    ):
        raise CLIError(f"--month {month!r}: write YYYY-MM", 2)
    months = desk.report(actor, month, now=now)
    names = {d.code: d.name for d in desk.config.departments.values()}
    rows = views.report_rows(months, names)
    if args.format == "json":
        print_json({"month": month, "departments": views.report_doc(months, names)})
    elif args.format == "csv":
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["department", "name", *NAMES])
        out.writerows(rows)
    else:
        print(table(["department", "name", *NAMES], rows, limit=24))
    return 0
