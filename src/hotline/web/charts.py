"""Server-rendered SVG charts for the wallboard (pure: values in, markup out).

    hourly_svg(hours, lang)          # calls per hour (bars) and the strict 15 s rate (line)
    waits_svg(answered, abandoned)   # the wait distribution, with the 15 s line
    timeline_svg(rows, waiting, t0, t1, tz)   # each agent's pauses against waiting callers

Every number is escaped text in the markup; colours and fonts come from classes the
page's stylesheet defines (the CSP allows no inline style).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from hotline.agents import timeline
from hotline.agents.status import PausePolicy
from hotline.core.records import AgentChange
from hotline.metrics.timefmt import local

WAIT_BINS_S = (0, 5, 10, 15, 20, 30, 60, 120)


@dataclass(frozen=True, slots=True)
class Hour:
    label: str  # "09"
    requests: int
    answered: int
    rate: float | None  # the strict 15 s rate, 0..1


@dataclass(frozen=True, slots=True)
class Segment:
    start: int
    end: int
    state: str  # ready, talking, wrap_up, busy, break, forced


def _svg(width: int, height: int, body: Iterable[str], label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, cls: str, title: object = None) -> str:
    tip = f"<title>{escape(str(title))}</title>" if title is not None else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" class="{cls}">{tip}</rect>'
    )


def _line(x1: float, x2: float, y1: float, y2: float, cls: str) -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" class="{cls}"/>'


def _text_width(text: str, size: float) -> float:
    """About how wide TEXT is at SIZE px: a CJK character is square, others about half."""
    return sum(size if ord(c) > 0x2E80 else size * 0.56 for c in text)


def _legend(items: Sequence[tuple[str, str]], right: float, size: float = 12) -> list[str]:
    """Colour boxes with their names, in a row that ends at RIGHT (class, name)."""
    widths = [12 + 5 + _text_width(name, size) + 16 for _, name in items]
    x = right - sum(widths)
    out = []
    for (cls, name), width in zip(items, widths, strict=True):
        out.append(_rect(x, 10, 12, 12, cls))
        out.append(_text(x + 17, 21, name, "lbl", "start"))
        x += width
    return out


def _text(x: float, y: float, text: object, cls: str = "lbl", anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">'
        f"{escape(str(text))}</text>"
    )


def hourly_svg(hours: Sequence[Hour], title: str, legend: Sequence[str]) -> str:
    """Bars: calls asking for a human (grey) and answered (blue); line: strict rate (%)."""
    w, h, left, bottom, top = 720, 260, 44, 28, 34
    plot_w, plot_h = w - left - 44, h - bottom - top
    peak = max([x.requests for x in hours] + [1])
    step = plot_w / max(len(hours), 1)
    body = [_text(left, 20, title, "title", "start")]
    body += _legend([(f"k{i}", name) for i, name in enumerate(legend)], w - 8)
    for frac in (0, 0.5, 1) if peak > 1 else (0, 1):
        y = top + plot_h * (1 - frac)
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        body.append(_text(left - 6, y + 4, round(peak * frac), "lbl", "end"))
        body.append(_text(left + plot_w + 6, y + 4, f"{round(frac * 100)}%", "lbl", "start"))
    points = []
    for i, x in enumerate(hours):
        x0 = left + i * step + step * 0.15
        bw = step * 0.7
        for value, cls in ((x.requests, "k0"), (x.answered, "k1")):
            bh = plot_h * value / peak
            body.append(
                f'<rect x="{x0:.1f}" y="{top + plot_h - bh:.1f}" width="{bw:.1f}" '
                f'height="{bh:.1f}" class="{cls}"><title>{escape(x.label)}: {value}</title></rect>'
            )
        body.append(_text(x0 + bw / 2, h - 10, x.label))
        if x.rate is not None:
            points.append((x0 + bw / 2, top + plot_h * (1 - x.rate)))
    if points:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        body.append(f'<polyline points="{path}" class="line k2"/>')
        body.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" class="k2"/>' for px, py in points)
    return _svg(w, h, body, title)


def _bin(seconds: float) -> int:
    return max(i for i, lo in enumerate(WAIT_BINS_S) if seconds >= lo)


def waits_svg(
    answered_ms: Iterable[int], abandoned_ms: Iterable[int], title: str, legend: Sequence[str]
) -> str:
    """How long callers waited: answered (blue) and abandoned (red) per band, 15 s marked."""
    counts = [[0, 0] for _ in WAIT_BINS_S]
    for col, values in enumerate((answered_ms, abandoned_ms)):
        for ms in values:
            counts[_bin(ms / 1000)][col] += 1
    w, h, left, bottom, top = 720, 260, 44, 28, 34
    plot_w, plot_h = w - left - 20, h - bottom - top
    peak = max([a + b for a, b in counts] + [1])
    step = plot_w / len(WAIT_BINS_S)
    body = [_text(left, 20, title, "title", "start")]
    body += _legend(list(zip(("k1", "k3"), legend, strict=False)), w - 8)
    for i, (lo, (a, b)) in enumerate(zip(WAIT_BINS_S, counts, strict=True)):
        x0 = left + i * step + step * 0.15
        bw = step * 0.7
        ha, hb = plot_h * a / peak, plot_h * b / peak
        y = top + plot_h
        body.append(_rect(x0, y - ha, bw, ha, "k1", a))
        body.append(_rect(x0, y - ha - hb, bw, hb, "k3", b))
        if a + b:
            body.append(_text(x0 + bw / 2, y - ha - hb - 4, a + b))
        hi = WAIT_BINS_S[i + 1] if i + 1 < len(WAIT_BINS_S) else None
        body.append(_text(x0 + bw / 2, h - 10, f"{lo}-{hi}s" if hi else f"≥{lo}s"))
        if lo == 15:
            body.append(_line(x0 - step * 0.15, x0 - step * 0.15, top, y, "mark"))
    body.append(_line(left, left + plot_w, top + plot_h, top + plot_h, "grid"))
    return _svg(w, h, body, title)


def agent_segments(
    changes: Iterable[AgentChange], policy: PausePolicy, t0: int, t1: int
) -> dict[str, list[Segment]]:
    """Each agent's logged-in time in [t0, t1) as segments of one state, from the same
    timeline the shift report and the metrics read (:mod:`hotline.agents.timeline`).

    ``changes``: the journal from before ``t0`` (the state at t0 needs the last login).
    """
    per_agent: dict[str, list[AgentChange]] = {}
    for change in sorted(changes, key=lambda c: c.t):
        per_agent.setdefault(change.agent, []).append(change)
    out: dict[str, list[Segment]] = {}
    for name, entries in per_agent.items():
        merged: list[Segment] = []
        for seg in timeline.segments(entries, policy, start=t0, end=t1):
            state = _STATES[seg.activity] if seg.pause is None else seg.pause.kind
            if merged and merged[-1].state == state and merged[-1].end == seg.start:
                merged[-1] = Segment(merged[-1].start, seg.end, state)
            else:
                merged.append(Segment(seg.start, seg.end, state))
        if merged:
            out[name] = merged
    return out


_STATES = {
    timeline.Activity.TALK: "talking",
    timeline.Activity.ACW: "wrap_up",
    timeline.Activity.READY: "ready",
    timeline.Activity.PAUSED: "busy",  # (a paused segment has its pause's kind)
}


def waiting_steps(spans: Iterable[tuple[int, int]], t0: int, t1: int) -> list[tuple[int, int]]:
    """(time, callers waiting from then) for the waits [enter, leave) clipped to [t0, t1)."""
    deltas: dict[int, int] = {}
    for a, b in spans:
        a, b = max(a, t0), min(b, t1)
        if b > a:
            deltas[a] = deltas.get(a, 0) + 1
            deltas[b] = deltas.get(b, 0) - 1
    steps, level = [(t0, 0)], 0
    for t in sorted(deltas):
        level += deltas[t]
        steps.append((t, level))
    return steps


def timeline_svg(
    rows: Sequence[tuple[str, Sequence[Segment]]],
    waiting: Sequence[tuple[int, int]],
    t0: int,
    t1: int,
    tz: str,
    title: str,
    waiting_label: str,
    legend: Sequence[tuple[str, str]],
) -> str:
    """One row per agent (coloured by state) under the callers-waiting curve, same time axis."""
    left, top, row_h, wave_h = 110, 58, 26, 70
    w = 1180
    plot_w = w - left - 20
    h = top + wave_h + 12 + row_h * max(len(rows), 1) + 30
    span = max(t1 - t0, 1)

    def x(t: int) -> float:
        return left + plot_w * (t - t0) / span

    body = [_text(10, 20, title, "title", "start")]
    body += _legend(legend, w - 12, 14)
    peak = max([n for _, n in waiting] + [1])
    base = top + wave_h
    pts = [f"{x(t0):.1f},{base}"]
    for (ta, n), (tb, _) in itertools.pairwise([*waiting, (t1, 0)]):
        y = base - wave_h * n / peak
        pts += [f"{x(ta):.1f},{y:.1f}", f"{x(tb):.1f},{y:.1f}"]
    pts.append(f"{x(t1):.1f},{base}")
    body.append(f'<polygon points="{" ".join(pts)}" class="wave"/>')
    body.append(_text(left - 8, base - wave_h / 2, waiting_label, "lbl", "end"))
    body.append(_text(left - 8, top + 4, f"{peak}", "lbl", "end"))
    step = next(
        (m * 60_000 for m in (1, 5, 10, 15, 30, 60, 120) if span / (m * 60_000) <= 12), 240 * 60_000
    )
    ticks = range((t0 // step + 1) * step, t1, step)
    for t in ticks:
        body.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{h - 24}" class="grid"/>'
        )
        body.append(_text(x(t), h - 8, local(t, tz).strftime("%H:%M")))
    for i, (name, segments) in enumerate(rows):
        y = base + 12 + i * row_h
        body.append(_text(left - 8, y + row_h * 0.65, name, "lbl", "end"))
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{plot_w}" height="{row_h - 6}" class="off"/>'
        )
        for s in segments:
            sw = max(x(s.end) - x(s.start), 1.0)
            body.append(
                f'<rect x="{x(s.start):.1f}" y="{y + 3}" width="{sw:.1f}" height="{row_h - 6}" '
                f'class="st-{s.state}"><title>{escape(name)} {escape(s.state)} '
                f"{local(s.start, tz):%H:%M:%S}–{local(s.end, tz):%H:%M:%S}</title></rect>"
            )
    return _svg(w, h, body, title)
