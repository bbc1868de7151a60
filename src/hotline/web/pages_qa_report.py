"""The quality report (质检报表) for inspectors: per agent or team over a range of weeks,
the calls scored, the average, the calls that failed a critical item and which items, the
flags by rule, and each week's average; as a page and as CSV for the centre's spreadsheets.

    GET /qa/report?from=2026-W45&to=2026-W49&by=agent|team
    GET /qa/report.csv?from=…&to=…&by=…

Only a call's effective score counts (a revised appeal replaces the first score). The
report names agents with their results, so, like the other QA pages, it needs the
session's purpose and each view goes into the access log.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from starlette.responses import Response

from hotline.qa.report import Line, report
from hotline.qa.sampling import week_bounds, week_of, weeks_from
from hotline.web import audit
from hotline.web.context import SignedIn
from hotline.web.errors import BadRequest
from hotline.web.qa_scoring import qa_store

SHOWN_WEEKS = 4  # the default range: this week and the three before it
GROUPS = ("agent", "team")


def _params(ctx: SignedIn) -> tuple[str, list[str]]:
    """``by`` and the weeks asked for (default: the last four, this one included)."""
    query = ctx.query()
    by = query.get("by", "agent")
    if by not in GROUPS:
        raise BadRequest(ctx.t("qa.bad_group", by=by[:20]))
    now = ctx.app.clock()
    last = query.get("to", "").strip() or week_of(now)
    first = query.get("from", "").strip() or week_of(now - (SHOWN_WEEKS - 1) * 7 * 86_400_000)
    try:
        return by, weeks_from(first, last)
    except ValueError as exc:
        raise BadRequest(ctx.t("qa.bad_weeks", error=str(exc)[:80])) from None


def _lines(ctx: SignedIn, by: str, weeks: list[str]) -> list[Line]:
    """The report's lines, the read logged (who looked at whose results, and why)."""
    since, until = week_bounds(weeks[0])[0], week_bounds(weeks[-1])[1]
    store = qa_store(ctx)
    lines = report(store.score_rows(since, until), store.flag_rows(since, until), by)
    detail = {"by": by, "lines": [ln.key for ln in lines]}
    audit.record(ctx, "qa_report", f"{weeks[0]}..{weeks[-1]}",
                 detail=json.dumps(detail, ensure_ascii=False))  # fmt: skip
    return lines


def _item_labels(ctx: SignedIn) -> dict[str, str]:
    """A form item's label by its key (a failed critical item is stored by key)."""
    return {i.key: i.label for f in ctx.app.center.qa.forms.values() for i in f.items}


def _row(line: Line, weeks: list[str]) -> dict[str, Any]:
    by_week = {w: (n, average) for w, n, average in line.trend()}
    return {
        "key": line.key,
        "scored": line.scored,
        "average": line.average,
        "failed_calls": line.failed_calls,
        "failed_items": sorted(line.failed_items.items()),
        "flags": sorted(line.flags.items()),
        "weeks": [by_week.get(w) for w in weeks],
    }


async def qa_report(ctx: SignedIn) -> Response:
    by, weeks = _params(ctx)
    shown: dict[str, Any] = {"by": by, "first": weeks[0], "last": weeks[-1], "weeks": weeks,
             "groups": GROUPS, "purpose": ctx.session.purpose, "back": "/qa/report"}  # fmt: skip
    if not ctx.session.purpose:
        return ctx.render("qa_report.html", listed=False, **shown)
    rows = [_row(ln, weeks) for ln in _lines(ctx, by, weeks)]
    return ctx.render("qa_report.html", listed=True, rows=rows, items=_item_labels(ctx), **shown)


async def qa_report_csv(ctx: SignedIn) -> Response:
    by, weeks = _params(ctx)
    rows = [_row(ln, weeks) for ln in _lines(ctx, by, weeks)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([by, "scored", "average", "failed_calls", "failed_items", "flags", *weeks])
    for r in rows:
        writer.writerow([
            r["key"], r["scored"], "" if r["average"] is None else r["average"],
            r["failed_calls"], " ".join(f"{k}:{n}" for k, n in r["failed_items"]),
            " ".join(f"{k}:{n}" for k, n in r["flags"]),
            *("" if w is None else w[1] for w in r["weeks"]),
        ])  # fmt: skip
    name = f"qa-{by}-{weeks[0]}-{weeks[-1]}.csv"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
