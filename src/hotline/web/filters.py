"""Jinja filters: times in Asia/Shanghai, durations, rates (pure)."""

from __future__ import annotations

import json

from jinja2 import Environment
from markupsafe import Markup

from hotline.core.localtime import TZ_NAME
from hotline.metrics.timefmt import local


def clock(ms: int | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "" if ms is None else local(int(ms), TZ_NAME).strftime(fmt)


def duration(ms: int | None) -> str:
    if ms is None:
        return ""
    s = max(0, int(ms) // 1000)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def json_script(value: object) -> Markup:
    """JSON to put inside <script type="application/json">: no character can end the
    element or start markup (``<``, ``>``, ``&`` are escaped as JSON \\u escapes)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)


def install(env: Environment) -> None:
    env.filters["json_script"] = json_script
    env.filters["clock"] = clock
    env.filters["duration"] = duration
    env.filters["percent"] = percent
