"""Jinja filters: times in Asia/Shanghai, durations, rates (pure)."""

from __future__ import annotations

from jinja2 import Environment

from hotline.metrics.timefmt import local

TZ = "Asia/Shanghai"


def clock(ms: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "" if ms is None else local(int(ms), TZ).strftime(fmt)


def duration(ms: int | None) -> str:
    if ms is None:
        return ""
    s = max(0, int(ms) // 1000)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def install(env: Environment) -> None:
    env.filters["clock"] = clock
    env.filters["duration"] = duration
    env.filters["percent"] = percent
