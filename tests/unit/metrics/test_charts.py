"""The report's charts: deterministic SVG with Chinese labels, and a PNG that really renders."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

from hotline.cli.metrics_chart import png
from hotline.metrics import GroupBy, Params, compute
from hotline.metrics.charts import charts, waits

from .calls import HOUR, T0, S, abandoned, answered, timed_out

NS = "{http://www.w3.org/2000/svg}"


def hourly():  # type: ignore[no-untyped-def]
    calls = [answered(f"a{i}", (i % 30) * S, t_q=T0 + (i % 3) * HOUR) for i in range(30)]
    calls += [abandoned(f"b{i}", (10 + i) * S, t_q=T0 + HOUR) for i in range(6)]
    calls += [timed_out("l1", t_q=T0 + 2 * HOUR)]
    return compute(calls, Params(), by=GroupBy.HOUR, since=T0, until=T0 + 3 * HOUR)


def test_three_charts_deterministic_and_well_formed() -> None:
    first, second = charts(hourly()), charts(hourly())
    assert first == second
    assert set(first) == {"volume.svg", "service_level.svg", "waits.svg"}
    for svg in first.values():
        root = ET.fromstring(svg)
        assert root.tag == f"{NS}svg"
        assert "WenQuanYi Zen Hei" in (root.get("font-family") or "")
    assert "来电量" in first["volume.svg"]
    assert "15秒接通率 strict" in first["service_level.svg"]


def test_the_volume_bars_add_up_to_the_calls() -> None:
    root = ET.fromstring(charts(hourly())["volume.svg"])
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class")]
    # 37 calls in R; the axis tops at 20 (the busiest hour has 16): 300 px per 20 calls
    assert sum(float(r.get("height") or 0) for r in bars) == 37 * 300 / 20
    lost = [r for r in bars if r.get("class") == "lost"]
    assert [float(r.get("height") or 0) for r in lost] == [15.0]  # the timeout


def test_the_wait_chart_marks_the_threshold_and_counts_each_wait() -> None:
    report = hourly()
    svg = waits(report)
    assert "T = 15 s" in svg
    assert "30 answered, 6 abandoned" in svg
    root = ET.fromstring(svg)
    bins = [float(r.get("height") or 0) for r in root.iter(f"{NS}rect") if r.get("class")]
    # answered waits 0..29 s: 5 per 5 s bin; abandons 10..15 s: the axis tops at 5 calls
    assert sum(bins) == (30 + 6) * 300 / 5


def test_png_renders_with_its_size() -> None:
    data = png(charts(hourly())["volume.svg"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (960, 420)
