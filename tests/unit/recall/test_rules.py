"""The recall rules: deadlines by the local time of the miss, the centre file's section."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from hotline.center.config import CenterError, load_center
from hotline.core.localtime import CHINA
from hotline.core.reader import Problem
from hotline.recall.rules import MINUTE_MS, RecallRules, Window, load_recall


def at(text: str) -> int:
    """Epoch ms of a local (Asia/Shanghai) time."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=CHINA).timestamp() * 1000)


RULES = RecallRules()


def test_a_miss_in_opening_hours_is_due_within_the_windows_minutes() -> None:
    assert RULES.deadline(at("2026-12-07T09:15:00")) == at("2026-12-07T09:45:00")
    assert RULES.deadline(at("2026-12-07T19:59:59")) == at("2026-12-07T20:29:59")


def test_a_miss_at_night_is_due_by_ten_the_next_morning() -> None:
    assert RULES.deadline(at("2026-12-07T20:00:00")) == at("2026-12-08T10:00:00")
    assert RULES.deadline(at("2026-12-07T23:30:00")) == at("2026-12-08T10:00:00")
    # after midnight, before opening: by ten the same morning
    assert RULES.deadline(at("2026-12-08T02:10:00")) == at("2026-12-08T10:00:00")
    assert RULES.deadline(at("2026-12-08T07:59:00")) == at("2026-12-08T10:00:00")


def test_a_window_can_wrap_past_midnight() -> None:
    night = Window(dt.time(22, 0), dt.time(6, 0), 120 * MINUTE_MS)
    rules = RecallRules(windows=(night,))
    assert rules.deadline(at("2026-12-07T23:00:00")) == at("2026-12-08T01:00:00")
    assert rules.deadline(at("2026-12-08T05:00:00")) == at("2026-12-08T07:00:00")
    assert rules.deadline(at("2026-12-08T12:00:00")) == at("2026-12-09T10:00:00")


@given(st.integers(min_value=at("2026-01-01T00:00:00"), max_value=at("2027-01-01T00:00:00")))
def test_every_deadline_is_after_the_miss_and_within_a_day_and_a_half(t: int) -> None:
    due = RULES.deadline(t)
    assert t < due <= t + 36 * 3_600_000


def test_retries_wait_as_configured_and_stop_after_the_last_attempt() -> None:
    rules = RecallRules(attempts=4, retry_ms=(60_000, 120_000))
    assert [rules.retry_after(n) for n in (1, 2, 3, 4)] == [60_000, 120_000, 120_000, None]


def load(section: object) -> tuple[RecallRules, list[Problem]]:
    problems: list[Problem] = []
    rules = load_recall(section, lambda node, msg: problems.append(Problem(node, msg)))
    return rules, problems


def test_the_section_is_read_whole() -> None:
    rules, problems = load(
        yaml.safe_load(
            """
            min_wait_seconds: 20
            deadlines:
              - {from: "08:30", to: "12:00", within_minutes: 20}
              - {from: "13:30", to: "17:30", within_minutes: 60}
            otherwise_by: "09:00"
            attempts: 5
            retry_minutes: [5]
            give_up_hours: 48
            """
        )
    )
    assert problems == []
    assert rules.min_wait_ms == 20_000
    assert rules.attempts == 5
    assert rules.retry_ms == (300_000,)
    assert rules.give_up_ms == 48 * 3_600_000
    assert rules.deadline(at("2026-12-07T12:30:00")) == at("2026-12-08T09:00:00")
    assert rules.deadline(at("2026-12-07T14:00:00")) == at("2026-12-07T15:00:00")
    assert load(None) == (RecallRules(), [])


def test_every_problem_in_the_section_is_named() -> None:
    _, problems = load(
        {
            "min_wait_seconds": -1,
            "deadlines": [{"from": "8:00", "to": "25:00", "within_minutes": 30},
                          {"from": "10:00", "to": "10:00", "within_minutes": 5}],
            "otherwise_by": "noon",
            "attempts": 0,
            "retry_minutes": [0, "ten"],
            "speed": 1,
        }
    )  # fmt: skip
    nodes = {p.node for p in problems}
    assert nodes == {
        "recall.speed",
        "recall.min_wait_seconds",
        "recall.attempts",
        "recall.deadlines.0.from",
        "recall.deadlines.0.to",
        "recall.deadlines.1",
        "recall.otherwise_by",
        "recall.retry_minutes.0",
        "recall.retry_minutes.1",
    }, problems


def test_a_broken_section_makes_the_centre_file_invalid() -> None:
    with pytest.raises(CenterError, match=r"recall\.attempts"):
        load_center("recall:\n  attempts: 99\n")
