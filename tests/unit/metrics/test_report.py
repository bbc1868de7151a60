"""Reports: grouping (queue, agent, local intervals), the window, data quality, formats."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

from hotline.core.records import CallRecord, EndReason, Precision
from hotline.metrics import Exclusion, GroupBy, Params, Population, compute
from hotline.metrics.render import CSV_HEADER, SCHEMA, as_dict, to_csv, to_json, to_table
from hotline.metrics.report import NO_AGENT

from .calls import DAY, HOUR, T0, S, abandoned, answered, ivr_only, refused, vanished

# 2026-11-24 23:30 UTC is 2026-11-25 07:30 in Shanghai; 00:30 UTC the next day is 08:30.
UTC_2330 = T0 - 2 * HOUR - 30 * 60 * S
UTC_0030 = T0 - HOUR - 30 * 60 * S
MIDNIGHT_SH = T0 - 10 * HOUR  # 2026-11-25 00:00:00.000 Shanghai = 16:00 UTC the day before


def test_by_hour_in_shanghai_across_midnight_utc() -> None:
    calls = [
        answered("before-utc-midnight", 5 * S, t_q=UTC_2330 + 15 * 60 * S),  # 23:45 UTC
        answered("after-utc-midnight", 5 * S, t_q=UTC_0030 - 15 * 60 * S),  # 00:15 UTC
        answered("same-hour", 5 * S, t_q=UTC_0030),
    ]
    report = compute(calls, by=GroupBy.HOUR)
    assert [(g.key, g.counts[Population.R]) for g in report.groups] == [
        ("2026-11-25 07:00", 1),
        ("2026-11-25 08:00", 2),
    ]
    by_day = compute(calls, by=GroupBy.DAY)
    assert [(g.key, g.counts[Population.R]) for g in by_day.groups] == [("2026-11-25", 3)]


def test_midnight_in_shanghai_cuts_the_day_to_the_millisecond() -> None:
    calls = [
        answered("last", 5 * S, t_q=MIDNIGHT_SH - 1),
        answered("first", 5 * S, t_q=MIDNIGHT_SH),
    ]
    by_day = compute(calls, by=GroupBy.DAY)
    assert [g.key for g in by_day.groups] == ["2026-11-24", "2026-11-25"]
    by_15 = compute(calls, by=GroupBy.MIN15)
    assert [g.key for g in by_15.groups] == ["2026-11-24 23:45", "2026-11-25 00:00"]
    assert [g.key for g in compute(calls, by=GroupBy.MONTH).groups] == ["2026-11"]


def test_a_call_belongs_to_the_interval_of_its_queue_entry_not_its_arrival() -> None:
    record = answered("c", 5 * S, t_q=MIDNIGHT_SH + 10 * S, arrival=MIDNIGHT_SH - 50 * S)
    assert [g.key for g in compute([record], by=GroupBy.DAY).groups] == ["2026-11-25"]
    window = compute([record], since=MIDNIGHT_SH, until=MIDNIGHT_SH + DAY)
    assert window.total.counts[Population.R] == 1
    before = compute([record], since=MIDNIGHT_SH - DAY, until=MIDNIGHT_SH)
    assert before.total.counts[Population.R] == 0


def test_by_agent_and_by_queue_add_up_to_the_total() -> None:
    calls = [
        answered("a", 5 * S, agent="1007"),
        answered("b", 20 * S, agent="1007", queue="property"),
        answered("c", 5 * S, agent="1008"),
        abandoned("d", 3 * S, queue="property"),
        refused("e"),
    ]
    by_agent = compute(calls, by=GroupBy.AGENT)
    assert [(g.key, g.counts[Population.R]) for g in by_agent.groups] == [
        (NO_AGENT, 2),
        ("1007", 2),
        ("1008", 1),
    ]
    assert by_agent.groups[1].figures["sl_answered_only"].numerator == 1
    by_queue = compute(calls, by=GroupBy.QUEUE)
    assert [(g.key, g.counts[Population.R]) for g in by_queue.groups] == [
        ("labour", 3),
        ("property", 2),
    ]
    assert (
        sum(g.counts[Population.R] for g in by_queue.groups) == by_queue.total.counts[Population.R]
    )


def test_data_quality_counts_what_is_left_out() -> None:
    calls = [
        answered("ms", 5 * S, arrival=T0 - 9 * S),
        answered("s", 5 * S, precision=Precision.SECOND, talk=None, caller=""),
        vanished("v"),
        ivr_only("i"),
    ]
    report = compute(calls)
    q = report.quality
    assert (q.calls, q.counted) == (4, 2)
    assert q.excluded == {Exclusion.VANISHED: 1, Exclusion.NO_REQUEST: 1}
    assert (q.to_the_second, q.from_queue_log, q.no_arrival, q.no_talk_end, q.no_number) == (
        1, 1, 1, 1, 1,
    )  # fmt: skip
    notes = "\n".join(report.notes)
    assert "1 calls excluded: vanished" in notes
    assert "refused at the door" in notes


def test_calls_the_pbx_cut_off_are_counted_apart() -> None:
    cut = dataclasses.replace(answered("cut", 5 * S), end_reason=EndReason.PBX_DOWN)
    lost = dataclasses.replace(answered("lost", 5 * S), end_reason=EndReason.PBX_LOST)
    report = compute([answered("a", 5 * S), cut, lost])
    assert report.quality.cut_by_pbx == 2
    assert report.total.counts[Population.A] == 3
    assert as_dict(report)["data_quality"]["cut_by_pbx"] == 2  # type: ignore[index]
    assert "cut off by the PBX: 2" in to_table(report)


def sample() -> list[CallRecord]:
    return [
        answered("a", 5 * S, agent="1007", survey=5),
        answered("b", 17_208, agent="王芳", queue="property"),
        abandoned("c", 500),
        refused("d"),
    ]


def test_json_has_the_documented_keys() -> None:
    report = compute(sample(), Params.of(short_abandon_s=5), since=T0 - HOUR, until=T0 + HOUR)
    doc = json.loads(to_json(report))
    assert doc == as_dict(report)
    assert set(doc) == {
        "schema", "formula_version", "params_from", "in_force", "by", "window", "formulas",
        "total", "groups", "data_quality", "notes",
    }  # fmt: skip
    assert doc["schema"] == SCHEMA
    assert set(doc["formula_version"]) == {"id", "registry_sha256", "revision", "params"}
    assert doc["formula_version"]["params"]["short_abandon_ms"] == 5000
    assert doc["window"]["from"] == "2026-11-25T09:00:00.000+08:00"
    assert set(doc["total"]) == {"key", "counts", "figures"}
    assert doc["total"]["counts"]["AbS"] == 1
    strict = doc["total"]["figures"]["sl_strict"]
    assert strict == {"value": 1 / 3, "numerator": 1, "denominator": 3, "unit": "ratio"}
    assert [g["key"] for g in doc["groups"]] == ["labour", "property"]
    assert set(doc["data_quality"]["excluded"]) == {e.value for e in Exclusion}
    assert {f["id"] for f in doc["formulas"]} == set(doc["total"]["figures"])


def test_csv_parses_with_its_header() -> None:
    report = compute(sample(), by=GroupBy.AGENT)
    text = to_csv(report)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(next(csv.reader(io.StringIO(text)))) == CSV_HEADER
    groups = {r["group"] for r in rows}
    assert groups == {"total", NO_AGENT, "1007", "王芳"}
    strict = next(r for r in rows if r["group"] == "total" and r["metric"] == "sl_strict")
    assert (strict["value"], strict["numerator"], strict["denominator"]) == ("0.25", "1", "4")
    assert strict["label_zh"] == "人工服务15秒接通率"
    r_count = next(r for r in rows if r["group"] == "total" and r["metric"] == "R")
    assert (r_count["kind"], r_count["value"]) == ("population", "4")
    assert {r["formula_version"] for r in rows} == {report.version.id}


def test_the_table_shows_groups_total_and_every_figure() -> None:
    text = to_table(compute(sample()))
    lines = text.splitlines()
    assert lines[0].startswith("hotline metrics by queue")
    assert "formula version" in lines[1]
    assert any(line.startswith("labour") for line in lines)
    assert any(line.startswith("total") for line in lines)
    assert "人工服务15秒接通率 · 15-second answer rate (strict): 25.00%  [1 / 4]" in text
    assert "data quality: 4 calls in the window, 4 counted; none excluded" in text
    assert "15s严格" in lines[3]
    assert "20s严格" in to_table(compute(sample(), Params.of(threshold_s=20))).splitlines()[3]
