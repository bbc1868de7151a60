"""A report as JSON, CSV or a text table (pure: values in, text out).

    as_dict(report)          # the JSON shape of docs/metrics.md
    to_json(report)          # that, as text
    to_csv(report)           # long form: one row per (group, population or figure)
    to_table(report)         # for a terminal: one row per group, then the total in full

Rates are shown as percentages in the table and as fractions (0..1) in JSON and CSV;
times in seconds; each figure beside its numerator and denominator.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from hotline.core.termtable import width as width_of
from hotline.metrics.changes import Change, Period
from hotline.metrics.formulas import BY_ID, REGISTRY
from hotline.metrics.populations import Exclusion, Population
from hotline.metrics.report import Figure, Group, Report
from hotline.metrics.timefmt import local

__all__ = ["CSV_HEADER", "SCHEMA", "as_dict", "to_csv", "to_json", "to_table"]

SCHEMA = "hotline.metrics.report/2"
CSV_HEADER = (
    "by", "group", "metric", "kind", "label_zh", "label_en", "value", "numerator",
    "denominator", "unit", "formula_version",
)  # fmt: skip


def _when(ms: int | None, tz: str) -> str | None:
    return None if ms is None else local(ms, tz).isoformat(timespec="milliseconds")


def _figure(f: Figure) -> dict[str, object]:
    return {
        "value": f.value,
        "numerator": f.numerator,
        "denominator": f.denominator,
        "unit": f.unit,
    }


def _group(g: Group) -> dict[str, object]:
    return {
        "key": g.key,
        "counts": {p.value: n for p, n in g.counts.items()},
        "figures": {fid: _figure(f) for fid, f in g.figures.items()},
    }


def _change(c: Change | None, tz: str) -> dict[str, object] | None:
    if c is None:
        return None
    return {
        "at": _when(c.t, tz), "at_ms": c.t, "kind": c.kind.value, "name": c.name,
        "value": c.value, "previous": c.previous, "revision": c.revision, "by": c.by,
        "why": c.why, "text": c.text(),
    }  # fmt: skip


def _period(p: Period, tz: str) -> dict[str, object]:
    return {
        "from": _when(p.since, tz),
        "to": _when(p.until, tz),
        "from_ms": p.since,
        "to_ms": p.until,
        "params": p.params.as_dict(),
        "registry": _change(p.registry, tz),
        "changed_by": _change(p.started_by, tz),
    }


def as_dict(report: Report) -> dict[str, object]:
    p = report.params
    q = report.quality
    return {
        "schema": SCHEMA,
        "formula_version": report.version.as_dict(),
        "params_from": report.params_from,
        "in_force": [_period(x, p.tz) for x in report.in_force],
        "by": report.by.value,
        "window": {
            "from": _when(report.since, p.tz),
            "to": _when(report.until, p.tz),
            "from_ms": report.since,
            "to_ms": report.until,
            "tz": p.tz,
        },
        "formulas": [
            {
                "id": f.id,
                "zh": f.label_zh(p),
                "en": f.label_en(p),
                "kind": f.kind.value,
                "unit": f.unit,
                "expression": f.expression,
                "description": f.description,
            }
            for f in REGISTRY
        ],
        "total": _group(report.total),
        "groups": [_group(g) for g in report.groups],
        "data_quality": {
            "calls": q.calls,
            "counted": q.counted,
            "excluded": {e.value: q.excluded.get(e, 0) for e in Exclusion},
            "to_the_second": q.to_the_second,
            "from_queue_log": q.from_queue_log,
            "no_arrival": q.no_arrival,
            "no_talk_end": q.no_talk_end,
            "no_number": q.no_number,
            "no_acw": q.no_acw,
            "cut_by_pbx": q.cut_by_pbx,
        },
        "notes": list(report.notes),
    }


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), ensure_ascii=False, indent=2) + "\n"


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.6f}".rstrip("0").rstrip(".")


class _Lines:
    """A file-like sink for csv.writer."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)


def _rows(report: Report) -> Iterator[tuple[str, ...]]:
    p, vid, by = report.params, report.version.id, report.by.value
    for g in (report.total, *report.groups):
        for pop, n in g.counts.items():
            yield (by, g.key, pop.value, "population", "", "", str(n), str(n), "", "calls", vid)
        for fid, f in g.figures.items():
            formula = BY_ID[fid]
            yield (
                by, g.key, fid, formula.kind.value, formula.label_zh(p), formula.label_en(p),
                _num(f.value), _num(f.numerator), _num(f.denominator), f.unit, vid,
            )  # fmt: skip


def to_csv(report: Report) -> str:
    sink = _Lines()
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_rows(report))
    return "".join(sink.parts)


# -- the table ------------------------------------------------------------------------------

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("sl_strict", "{T}s严格"),
    ("answer_rate", "接通率"),
    ("loss_rate", "呼损率"),
    ("abandon_rate", "放弃率"),
    ("system_loss_rate", "系统呼损"),
    ("sl_answered_only", "仅接通{T}s"),
    ("sl2", "SL2"),
    ("asa", "ASA"),
    ("asa_p90", "P90"),
    ("aht", "AHT"),
    ("occupancy", "占用率"),
)
_COUNTS = (Population.R, Population.A, Population.A15, Population.AB, Population.ABS, Population.L)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - width_of(text))
    return gap + text if right else text + gap


def _shown(f: Figure) -> str:
    if f.value is None:
        return "—"
    if f.unit == "ratio":
        return f"{f.value * 100:.2f}%"
    if f.unit == "s":
        return f"{f.value:.1f}s"
    if f.unit == "calls":
        return str(f.numerator)
    return f"{f.value:.2f}"


def _in_force_line(x: Period, tz: str) -> str:
    why = x.started_by
    return (
        f"  in force from {_when(x.since, tz) or '…'}: T = {x.params.threshold_s} s, "
        f"S = {x.params.short_abandon_s} s, N = {x.params.repeat_days} days"
        + (f" ({why.text()}, by {why.by}: {why.why})" if why else "")
        + (f"; formulas revision {x.registry.revision}" if x.registry else "")
    )


def to_table(report: Report) -> str:
    p, q = report.params, report.quality
    labels = (label.replace("{T}", p.threshold_s) for _, label in _COLUMNS)
    header = ["group", *(pop.text for pop in _COUNTS), *labels]
    rows = [
        [g.key, *(str(g.counts[c]) for c in _COUNTS), *(_shown(g.figures[f]) for f, _ in _COLUMNS)]
        for g in (*report.groups, report.total)
    ]
    widths = [max(width_of(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        cells = [_pad(c, w, i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(cells).rstrip()

    since, until = _when(report.since, p.tz) or "…", _when(report.until, p.tz) or "…"
    out = [
        f"hotline metrics by {report.by.value}, {since} .. {until} ({p.tz}, by t_q)",
        f"formula version {report.version.id} (revision {report.version.revision}; "
        f"T = {p.threshold_s} s, S = {p.short_abandon_s} s, repeat window {p.repeat_days} days)",
        "",
        line(header),
    ]
    out[2:2] = [_in_force_line(x, p.tz) for x in report.in_force]
    out += [line(r) for r in rows[:-1]]
    out += ["-" * width_of(line(header)), line(rows[-1]), "", "total, every figure:"]
    for f in REGISTRY:
        fig = report.total.figures[f.id]
        parts = f"{_num(fig.numerator)} / {_num(fig.denominator)}"
        if f.unit == "s":
            parts += " (ms / n)" if f.kind.value == "mean" else " (rank / n)"
        out.append(f"  {f.label_zh(p)} · {f.label_en(p)}: {_shown(fig)}  [{parts}]  {f.expression}")
    excluded = ", ".join(f"{e.value} {q.excluded[e]}" for e in Exclusion if q.excluded.get(e))
    out += [
        "",
        f"data quality: {q.calls} calls in the window, {q.counted} counted"
        + (f"; excluded: {excluded}" if excluded else "; none excluded")
        + (f"; cut off by the PBX: {q.cut_by_pbx}" if q.cut_by_pbx else ""),
    ]
    out += [f"  note: {n}" for n in report.notes]
    return "\n".join(out) + "\n"
