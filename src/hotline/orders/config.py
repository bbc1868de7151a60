"""The ``orders:`` section of center.yaml: departments and their handlers, 限时办结, the
working calendar, duplicates and the bounce rules' thresholds (pure).

    orders:
      working_hours: {from: "09:00", to: "17:00"}
      holidays: ["2026-10-01", ...]        # no work on these days
      workdays: ["2026-09-27"]             # 调休: weekend days that work
      limits:
        sign: 2h                           # 签收 within
        types: {咨询: 1d, 求助: 3d, 投诉举报: 5d, 建议: 10d}
        categories: {供水: {求助: 4h}}      # a category's own limits, by type
      duplicates: {days: 30, similarity: 0.3}
      rules: {returns: 2, refused_finishes: 2, ...}   # see hotline.orders.rules.Thresholds
      chase: [{name: 催办, hours: -4}, {name: 督办, hours: 0}]   # hours from the deadline
      departments:
        greening: {name: 区绿化市容局, handlers: [zhang.lh]}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from hotline.core.reader import Fail, Reader
from hotline.core.validate import Kind
from hotline.orders.chase import DEFAULT_STEPS, ChaseStep
from hotline.orders.model import OrderType
from hotline.orders.rules import Thresholds
from hotline.orders.workdays import Limit, WorkCalendar, parse_limit

__all__ = ["Department", "OrdersConfig", "load_orders"]

DEFAULT_LIMITS: dict[OrderType, Limit] = {
    OrderType.CONSULT: Limit(1, "d"),
    OrderType.HELP: Limit(3, "d"),
    OrderType.COMPLAINT: Limit(5, "d"),
    OrderType.SUGGESTION: Limit(10, "d"),
}


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    handlers: tuple[str, ...] = ()  # web account names that act for it
    phone: str = ""  # the duty line (值班电话) transfers dial through the trunk; "" = none


@dataclass(frozen=True, slots=True)
class OrdersConfig:
    departments: Mapping[str, Department] = field(default_factory=dict)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    sign_limit: Limit = field(default_factory=lambda: Limit(2, "h"))
    types: Mapping[OrderType, Limit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    categories: Mapping[str, Mapping[OrderType, Limit]] = field(default_factory=dict)
    duplicate_days: int = 30
    duplicate_similarity: float = 0.3
    thresholds: Thresholds = field(default_factory=Thresholds)
    chase: tuple[ChaseStep, ...] = DEFAULT_STEPS

    def limit(self, type_: OrderType, category: str) -> Limit:
        """限时办结 for an order of TYPE and CATEGORY: the category's own, else the type's."""
        own = self.categories.get(category, {})
        return own.get(type_) or self.types.get(type_) or DEFAULT_LIMITS[type_]

    def department_of(self, user: str) -> Department | None:
        """The department USER handles orders for (None: not a handler)."""
        for d in self.departments.values():
            if user in d.handlers:
                return d
        return None


def _date(r: Reader, node: str, raw: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        r.fail(node, f"{raw!r}: write a date as YYYY-MM-DD")
        return None


def _limits(r: Reader, node: str, raw: object) -> dict[OrderType, Limit]:
    out: dict[OrderType, Limit] = {}
    for name, value in r.section(node, raw).items():
        kind = r.choice(f"{node}.{name}", name, OrderType)
        limit = parse_limit(value)
        if limit is None:
            r.fail(f"{node}.{name}", f"{value!r}: write a limit as 3d (working days) or 4h")
        elif kind is not None:
            out[kind] = limit
    return out


def _hhmm(r: Reader, node: str, raw: object, default: dt.time) -> dt.time:
    if raw is None:
        return default
    try:
        return dt.time.fromisoformat(str(raw))
    except ValueError:
        r.fail(node, f"{raw!r}: write a time as HH:MM")
        return default


def load_orders(raw: Any, fail: Fail) -> OrdersConfig:
    """The ``orders:`` section (None: no departments, the defaults); problems go to FAIL."""
    r = Reader(fail)
    keys = {"working_hours", "holidays", "workdays", "limits", "duplicates", "rules",
            "departments", "chase"}  # fmt: skip
    top = r.section("orders", raw, keys)
    hours = r.section("orders.working_hours", top.get("working_hours"), {"from", "to"})
    start = _hhmm(r, "orders.working_hours.from", hours.get("from"), dt.time(9))
    end = _hhmm(r, "orders.working_hours.to", hours.get("to"), dt.time(17))
    if end <= start:
        r.fail("orders.working_hours", f"ends ({end:%H:%M}) before it starts ({start:%H:%M})")
        start, end = dt.time(9), dt.time(17)
    days: dict[str, set[dt.date]] = {}
    for key in ("holidays", "workdays"):
        listed = r.items(f"orders.{key}", top.get(key))
        dates = [_date(r, f"orders.{key}.{i}", raw) for i, raw in enumerate(listed)]
        days[key] = {d for d in dates if d is not None}
    for d in sorted(days["holidays"] & days["workdays"]):
        r.fail("orders.workdays", f"{d} is a holiday as well as a make-up workday")
    calendar = WorkCalendar(frozenset(days["holidays"]), frozenset(days["workdays"]), start, end)

    limits = r.section("orders.limits", top.get("limits"), {"sign", "types", "categories"})
    sign = parse_limit(limits.get("sign", "2h"))
    if sign is None:
        r.fail("orders.limits.sign", f"{limits.get('sign')!r}: write 2h or 1d")
    types = {**DEFAULT_LIMITS, **_limits(r, "orders.limits.types", limits.get("types"))}
    categories = {
        name: _limits(r, f"orders.limits.categories.{name}", spec)
        for name, spec in r.section("orders.limits.categories", limits.get("categories")).items()
    }

    dup = r.section("orders.duplicates", top.get("duplicates"), {"days", "similarity"})
    dup_days = r.get("orders.duplicates", dup, "days", int, 30)
    r.number("orders.duplicates.days", dup_days, 1, 3650)
    sim = dup.get("similarity", 0.3)
    if isinstance(sim, bool) or not isinstance(sim, int | float) or not 0 <= sim <= 1:
        r.fail("orders.duplicates.similarity", f"{sim!r}: a number from 0 to 1")
        sim = 0.3

    names = {f.name for f in fields(Thresholds)}
    spec = r.section("orders.rules", top.get("rules"), names)
    values: dict[str, int] = {}
    for rule in sorted(names & set(spec)):
        got = r.get("orders.rules", spec, rule, int)
        if r.number(f"orders.rules.{rule}", got, 0) and got is not None:
            values[rule] = got

    chase: list[ChaseStep] = []
    raw_chase = top.get("chase")
    for i, raw_step in enumerate(r.items("orders.chase", raw_chase)):
        node = f"orders.chase.{i}"
        spec_s = r.mapping(node, raw_step, {"name", "hours"})
        sname = r.get(node, spec_s, "name", str)
        offset = r.get(node, spec_s, "hours", int)
        if (
            sname is not None
            and offset is not None
            and r.number(f"{node}.hours", offset, -720, 720)
        ):
            if sname in {c.name for c in chase}:
                r.fail(f"{node}.name", f"{sname!r} twice: each step has its own name")
            chase.append(ChaseStep(sname, offset))

    departments: dict[str, Department] = {}
    owner: dict[str, str] = {}
    for code, raw_d in r.section("orders.departments", top.get("departments")).items():
        node = f"orders.departments.{code}"
        r.kind(node, Kind.CODE, code)
        spec_d = r.mapping(node, raw_d, {"name", "handlers", "phone"})
        dname = r.get(node, spec_d, "name", str)
        phone = str(spec_d.get("phone", ""))
        if "phone" in spec_d:
            r.kind(f"{node}.phone", Kind.DID, phone)
        handlers = tuple(str(h) for h in r.items(f"{node}.handlers", spec_d.get("handlers")))
        for h in handlers:
            if h in owner:
                r.fail(f"{node}.handlers", f"{h!r} handles for {owner[h]} already")
            owner[h] = code
        departments[code] = Department(code, dname or code, handlers, phone)
    return OrdersConfig(
        departments, calendar, sign or Limit(2, "h"), types, categories,
        dup_days or 30, float(sim), Thresholds(**values),
        tuple(chase) if raw_chase is not None else DEFAULT_STEPS,
    )  # fmt: skip
