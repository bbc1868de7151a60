"""``hotline metrics report ... --chart DIR``: the report's charts as SVG and PNG files.

SVG comes from :mod:`hotline.metrics.charts` (pure); PNG from CairoSVG, which renders the
text with the system's fonts through fontconfig (setup installs fonts-wqy-zenhei, so the
Chinese labels are not boxes). Volume and service level are per hour (per day over more
than two days), whatever ``--by`` the report itself was.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from hotline.cli.metrics_load import load_report
from hotline.core.localtime import DAY_MS
from hotline.host.settings import Settings
from hotline.metrics.charts import charts
from hotline.metrics.report import Report
from hotline.metrics.timefmt import GroupBy

__all__ = ["png", "write_charts"]


def png(svg: str) -> bytes:
    """The SVG rendered to PNG (CairoSVG; white background, 1:1)."""
    import cairosvg  # type: ignore[import-untyped]  # only here: the one heavy dependency

    out: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"))
    return out


def interval_for(since: int, until: int) -> GroupBy:
    return GroupBy.HOUR if until - since <= 2 * DAY_MS else GroupBy.DAY


def write_charts(
    settings: Settings, args: argparse.Namespace, report: Report, since: int, until: int
) -> Iterator[str]:
    """Write the charts into ``args.chart``; yield one line per file written."""
    by = interval_for(since, until)
    timed = report if report.by is by else load_report(settings, args, since, until, by)
    out = args.chart
    out.mkdir(parents=True, exist_ok=True)
    for name, svg in charts(timed).items():
        path = out / name
        path.write_text(svg, encoding="utf-8")
        yield f"chart: {path}"
        path.with_suffix(".png").write_bytes(png(svg))
        yield f"chart: {path.with_suffix('.png')}"
