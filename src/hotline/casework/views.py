"""Orders, findings and figures as rows for a table or CSV, and as JSON documents; citizens'
numbers and personal numbers in the text masked the way transcripts are
(:mod:`hotline.transcripts.redact`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from hotline.core.localtime import CHINA
from hotline.core.termtable import aligned_rows
from hotline.orders.figures import NAMES, DepartmentMonth
from hotline.orders.model import Entry, Order
from hotline.orders.rules import Finding
from hotline.transcripts.redact import mask, mask_phone

__all__ = [
    "FIGURE_COLUMNS", "ORDER_COLUMNS", "entry_doc", "finding_doc", "order_doc", "order_row",
    "report_rows", "when",
]  # fmt: skip

ORDER_COLUMNS = ("id", "type", "category", "state", "department", "deadline", "callers",
                 "content")  # fmt: skip
FIGURE_COLUMNS = ("department", "name", *NAMES)


def when(t: int | None) -> str:
    if t is None:
        return "-"
    return dt.datetime.fromtimestamp(t // 1000, CHINA).strftime("%Y-%m-%d %H:%M")


def order_row(o: Order) -> list[str]:
    return [o.id, o.type.value, o.category, o.state.value, o.department or "-", when(o.deadline),
            str(len(o.callers)), mask(o.content)]  # fmt: skip


def order_doc(o: Order) -> dict[str, object]:
    return {
        "id": o.id, "created": when(o.t_created), "t_created": o.t_created, "type": o.type.value,
        "category": o.category, "place": o.place, "content": mask(o.content),
        "state": o.state.value, "department": o.department, "deadline": o.deadline,
        "callers": [{"phone": mask_phone(c.phone), "call_id": c.call_id, "t": c.t}
                    for c in o.callers],
        "merged_into": o.merged_into, "merged": list(o.merged),
        "pending": o.pending.value if o.pending else None,
    }  # fmt: skip


def order_lines(o: Order) -> list[str]:
    """The order for people: one fact a line."""
    callers = ", ".join(
        f"{mask_phone(c.phone) or '-'} {c.call_id or ''} {when(c.t)}".strip() for c in o.callers
    )
    facts = [
        ("id", o.id), ("created", when(o.t_created)), ("type", o.type.value),
        ("category", o.category), ("place", o.place or "-"), ("content", mask(o.content)),
        ("state", o.state.value + (f" (waiting: {o.pending.value})" if o.pending else "")),
        ("department", o.department or "-"), ("deadline", when(o.deadline)),
        ("callers", callers or "-"), ("merged into", o.merged_into),
        ("merged", ", ".join(o.merged)),
    ]  # fmt: skip
    return aligned_rows([[k, v] for k, v in facts if v])


def entry_doc(e: Entry) -> dict[str, object]:
    doc = e.fields()
    doc["phone"] = mask_phone(e.phone)
    doc["text"] = mask(e.text)
    doc["when"] = when(e.t)
    return {k: v for k, v in doc.items() if v not in ("", None, [])}


def entry_line(e: Entry) -> str:
    """One line of a timeline for people."""
    parts = [when(e.t), e.user, e.action.value,
             f"{e.before.value if e.before else '-'}→{e.after.value}"]  # fmt: skip
    for label, value in (("to", e.department), ("contact", e.contact),
                         ("deadline", when(e.deadline) if e.deadline else ""),
                         ("resolved", "" if e.resolved is None else "yes" if e.resolved else "no"),
                         ("rating", e.rating.value if e.rating else ""),
                         ("call", e.call_id), ("phone", mask_phone(e.phone)),
                         ("order", e.target)):  # fmt: skip
        if value:
            parts.append(f"{label}={value}")
    if e.text:
        parts.append(f"「{mask(e.text)}」")
    if e.attachments:
        parts.append("attachments=" + ",".join(e.attachments))
    return "  ".join(parts)


def finding_doc(f: Finding) -> dict[str, object]:
    return {
        "rule": f.rule, "order": f.order, "departments": list(f.departments),
        "summary": mask(f.summary), "marks": list(f.marks),
        "timeline": [entry_doc(e) for e in f.timeline],
        "related": [entry_doc(e) for e in f.related],
    }  # fmt: skip


def _rate(dm: DepartmentMonth, name: str) -> str:
    fig = dm.figures[name]
    if name in ("received", "findings"):
        return str(fig.numerator)
    if fig.rate is None:
        return "-"
    return f"{fig.rate:.1%} ({fig.numerator}/{fig.denominator})"


def report_rows(months: Mapping[str, DepartmentMonth], names: Mapping[str, str]) -> list[list[str]]:
    """One row per department, ranked by 按时办结率 then fewest findings."""

    def rank(dm: DepartmentMonth) -> tuple[float, int, str]:
        rate = dm.figures["按时办结率"].rate
        return (-(rate or 0.0), dm.figures["findings"].numerator, dm.department)

    return [
        [dm.department, names.get(dm.department, dm.department), *(_rate(dm, n) for n in NAMES)]
        for dm in sorted(months.values(), key=rank)
    ]


def report_doc(months: Mapping[str, DepartmentMonth], names: Mapping[str, str],
               ) -> list[dict[str, object]]:  # fmt: skip
    rows = report_rows(months, names)
    return [
        {"department": row[0], "name": row[1],
         "figures": {n: months[row[0]].figures[n].to_json() for n in NAMES}}
        for row in rows
    ]  # fmt: skip


def timeline_lines(timeline: Sequence[Entry], marks: Sequence[int] = ()) -> list[str]:
    return [("▶ " if i in marks else "  ") + entry_line(e) for i, e in enumerate(timeline)]
