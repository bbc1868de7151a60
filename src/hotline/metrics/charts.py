"""Charts of a report as SVG text (pure, deterministic: the same report gives the same bytes).

    hourly = compute(records, params, by=GroupBy.HOUR, since=t0, until=t1)
    charts(hourly)      # {"volume.svg": ..., "service_level.svg": ..., "waits.svg": ...}

- volume: calls per interval, stacked: answered within T, answered later, abandoned, lost
  (and the rest of R: callbacks chosen at the offer);
- service level: the strict rate (headline), answered-only and SL2 per interval, 0-100 %;
- waits: the distribution of waits to answer and to abandon, in 5 s bins, with T marked.

Labels are Chinese with English beside them; the text names a CJK font first (WenQuanYi Zen
Hei, Noto Sans CJK) so that a renderer without one still falls back to sans-serif.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from hotline.metrics.populations import Population
from hotline.metrics.report import Group, Report

__all__ = ["FONT", "charts", "service_level", "volume", "waits"]

FONT = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif"
W, H = 960, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 50, 70
COLORS = {
    "a15": "#2e7d32", "late": "#9ccc65", "ab": "#ef6c00", "lost": "#c62828", "other": "#90a4ae",
    "strict": "#1565c0", "answered_only": "#8e24aa", "sl2": "#00897b", "grid": "#e0e0e0",
}  # fmt: skip


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


class _Svg:
    def __init__(self, title: str) -> None:
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
            f'viewBox="0 0 {W} {H}" font-family="{escape(FONT)}" font-size="13">',
            f'<rect width="{W}" height="{H}" fill="#ffffff"/>',
            f'<text x="{LEFT}" y="28" font-size="17" font-weight="bold">{escape(title)}</text>',
        ]

    def rect(self, x: float, y: float, w: float, h: float, color: str, cls: str = "") -> None:
        attr = f' class="{cls}"' if cls else ""
        self.parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
            f'fill="{color}"{attr}/>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, color: str, width: float = 1,
             dash: str = "") -> None:  # fmt: skip
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'stroke="{color}" stroke-width="{_num(width)}"{extra}/>'
        )

    def text(self, x: float, y: float, s: str, anchor: str = "start", size: int = 13,
             rotate: bool = False) -> None:  # fmt: skip
        turn = f' transform="rotate(-45 {_num(x)} {_num(y)})"' if rotate else ""
        self.parts.append(
            f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}"'
            f"{turn}>{escape(s)}</text>"
        )

    def polyline(self, points: Sequence[tuple[float, float]], color: str) -> None:
        if not points:
            return
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in points)
        self.parts.append(
            f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>'
        )
        for x, y in points:
            self.parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{color}"/>')

    def legend(self, items: Sequence[tuple[str, str]]) -> None:
        x = W - RIGHT + 16
        for i, (label, color) in enumerate(items):
            y = TOP + 10 + i * 22
            self.rect(x, y - 11, 14, 14, color)
            self.text(x + 20, y, label, size=12)

    def frame(self, ymax: float, ticks: int, fmt: str, ylabel: str) -> None:
        plot_h = H - TOP - BOTTOM
        for i in range(ticks + 1):
            y = H - BOTTOM - plot_h * i / ticks
            self.line(LEFT, y, W - RIGHT, y, COLORS["grid"])
            self.text(LEFT - 8, y + 4, fmt.format(ymax * i / ticks), anchor="end", size=11)
        self.line(LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM, "#424242")
        self.text(16, TOP - 12, ylabel, size=12)

    def done(self) -> str:
        return "\n".join([*self.parts, "</svg>"]) + "\n"


def _nice(x: float) -> float:
    """A round upper bound for an axis: 1, 2, 5 × 10^k."""
    if x <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= x:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= x:
            return m * step
    return 10 * step


def _slots(n: int) -> tuple[float, float]:
    """(width of one group's slot, left edge) over the plot."""
    plot_w = W - LEFT - RIGHT
    return plot_w / max(n, 1), LEFT


def _xlabels(svg: _Svg, groups: Sequence[Group], slot: float) -> None:
    every = max(1, len(groups) // 24)
    for i, g in enumerate(groups):
        if i % every == 0:
            label = g.key[11:] if len(g.key) > 11 else g.key  # "2026-11-25 10:00" -> "10:00"
            svg.text(LEFT + slot * (i + 0.5), H - BOTTOM + 16, label, "end", 11, rotate=True)


def _window(report: Report) -> str:
    return " … ".join(g.key for g in report.groups[:1] + report.groups[-1:]) or "—"


def volume(report: Report) -> str:
    """Calls per interval (the report's groups), stacked by how they ended."""
    p = report.params
    svg = _Svg(f"来电量 calls per {report.by.value} — {_window(report)}")
    groups = report.groups
    stacks = []
    for g in groups:
        c = g.counts
        a15 = c[Population.A15]
        late = c[Population.A] - a15
        ab, lost = c[Population.AB], c[Population.L]
        other = max(0, c[Population.R] - c[Population.A] - ab - lost)
        stacks.append((a15, late, ab, lost, other))
    top = _nice(max((sum(s) for s in stacks), default=0))
    svg.frame(top, 5, "{:.0f}", "来电 calls")
    slot, _ = _slots(len(groups))
    plot_h = H - TOP - BOTTOM
    keys = ("a15", "late", "ab", "lost", "other")
    for i, stack in enumerate(stacks):
        y = float(H - BOTTOM)
        for key, n in zip(keys, stack, strict=True):
            h = plot_h * n / top
            if h > 0:
                svg.rect(LEFT + slot * i + slot * 0.12, y - h, slot * 0.76, h, COLORS[key], key)
            y -= h
    _xlabels(svg, groups, slot)
    svg.legend(
        [
            (f"{p.threshold_s}秒内接通 ≤{p.threshold_s}s", COLORS["a15"]),
            ("超时接通 answered later", COLORS["late"]),
            ("放弃 abandoned", COLORS["ab"]),
            ("系统呼损 lost", COLORS["lost"]),
            ("其他 (回拨) other", COLORS["other"]),
        ]
    )
    return svg.done()


def service_level(report: Report) -> str:
    """The strict rate, answered-only and SL2 per interval, in percent."""
    p = report.params
    svg = _Svg(f"服务水平 service level per {report.by.value} — {_window(report)}")
    svg.frame(100, 5, "{:.0f}%", "%")
    groups = report.groups
    slot, _ = _slots(len(groups))
    plot_h = H - TOP - BOTTOM
    series = (
        ("sl_strict", f"{p.threshold_s}秒接通率 strict", "strict"),
        ("sl_answered_only", "仅计已接通 answered-only", "answered_only"),
        ("sl2", "SL2", "sl2"),
    )
    for fid, _, color in series:
        points = []
        for i, g in enumerate(groups):
            value = g.figures[fid].value
            if value is not None:
                points.append((LEFT + slot * (i + 0.5), H - BOTTOM - plot_h * value))
        svg.polyline(points, COLORS[color])
    _xlabels(svg, groups, slot)
    svg.legend([(label, COLORS[color]) for _, label, color in series])
    return svg.done()


def waits(report: Report, bin_s: int = 5) -> str:
    """How long callers waited: to an answer, and before giving up; T marked."""
    p = report.params
    answered: Sequence[int] = report.waits["answered"].values() if report.waits else []
    abandoned: Sequence[int] = report.waits["abandoned"].values() if report.waits else []
    longest = max([*answered[-1:], *abandoned[-1:], p.threshold_ms, 1])
    bins = min(60, longest // (bin_s * 1000) + 1)
    width = bin_s * 1000

    def histogram(values: Sequence[int]) -> list[int]:
        out = [0] * bins
        for v in values:
            out[min(bins - 1, v // width)] += 1
        return out

    ha, hb = histogram(answered), histogram(abandoned)
    top = _nice(max([*ha, *hb, 0]))
    svg = _Svg(
        f"等待时长分布 wait distribution — {len(answered)} answered, {len(abandoned)} abandoned"
    )
    svg.frame(top, 5, "{:.0f}", "来电 calls")
    slot, _ = _slots(bins)
    plot_h = H - TOP - BOTTOM
    for i in range(bins):
        x = LEFT + slot * i
        for n, color, off in ((ha[i], COLORS["a15"], 0.1), (hb[i], COLORS["ab"], 0.5)):
            h = plot_h * n / top
            if h > 0:
                svg.rect(x + slot * off, H - BOTTOM - h, slot * 0.4, h, color, "bin")
        if i % max(1, bins // 15) == 0:
            svg.text(x, H - BOTTOM + 16, f"{i * bin_s}s", "middle", 11)
    tx = LEFT + slot * p.threshold_ms / width
    svg.line(tx, TOP, tx, H - BOTTOM, COLORS["lost"], 2, "6,4")
    svg.text(tx + 4, TOP + 12, f"T = {p.threshold_s} s", size=12)
    last = "+" if longest >= bins * width else ""
    svg.text(W - RIGHT, H - BOTTOM + 40, f"等待 wait, {bin_s} s bins{last}", "end", 12)
    svg.legend([("接通 answered", COLORS["a15"]), ("放弃 abandoned", COLORS["ab"])])
    return svg.done()


def charts(report: Report) -> dict[str, str]:
    """The three charts of an interval report (by 15min, hour, day or month), by file name."""
    return {
        "volume.svg": volume(report),
        "service_level.svg": service_level(report),
        "waits.svg": waits(report),
    }
