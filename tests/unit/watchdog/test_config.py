"""The ``watchdog:`` section of center.yaml."""

from __future__ import annotations

import pytest

from hotline.center.config import CenterError, load_center
from hotline.watchdog import RuleId, Severity, StepAction, Thresholds
from hotline.watchdog.config import DEFAULT_POLICIES, THRESHOLD_KEYS

from .scenes import CENTER, CENTER_TEXT


def test_the_shipped_section_states_the_defaults() -> None:
    config = CENTER.watchdog
    assert config.defaults == Thresholds()  # every default written out, none changed
    assert config.thresholds("team-a", "day") == Thresholds()
    assert config.thresholds("team-b", "night").wait_ms == 30_000
    assert config.thresholds("team-b", "off").wait_ms == 20_000
    assert config.thresholds("nobody").busy_max_ms == 600_000
    harm = config.policy(RuleId.PAUSED_WHILE_WAITING)
    assert harm.severity is Severity.CRITICAL
    assert [(s.action, s.after_ms) for s in harm.escalation] == [
        (StepAction.NOTE_AGENT, 0),
        (StepAction.ALERT_SUPERVISOR, 60_000),
    ]
    assert set(DEFAULT_POLICIES) == set(RuleId)


def test_a_center_without_the_section_has_the_defaults() -> None:
    text = CENTER_TEXT[: CENTER_TEXT.index("\n# The busy-abuse watchdog")]
    assert load_center(text).watchdog.thresholds("team-a", "day") == Thresholds()


def test_teams_and_shifts_override_in_turn() -> None:
    text = CENTER_TEXT.replace(
        "  teams:\n    team-b:\n      shifts:",
        "  teams:\n    team-a:\n      busy_max_minutes: 5\n      shifts:\n"
        "        evening: {flips: 3}\n    team-b:\n      shifts:",
    )
    config = load_center(text).watchdog
    assert config.thresholds("team-a", "day").busy_max_ms == 300_000
    evening = config.thresholds("team-a", "evening")
    assert (evening.busy_max_ms, evening.flips) == (300_000, 3)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("busy_max_minutes: 10 ", "busy_max_minuets: 10 ", "watchdog.thresholds.busy_max_minuets"),
        ("shift_busy_share: 0.15", "shift_busy_share: 15", "watchdog.thresholds.shift_busy_share"),
        ("flips: 2 ", "flips: 0 ", "watchdog.thresholds.flips"),
        ("    team-b:\n      shifts:", "    team-z:\n      shifts:", "watchdog.teams.team-z"),
        ("night: {wait", "noon: {wait", "watchdog.teams.team-b.shifts.noon"),
        ("severity: critical", "severity: dire", "watchdog.rules.paused_while_waiting.severity"),
        ("action: note_agent", "action: sms", "watchdog.rules.paused_while_waiting.escalation.0"),
        ("  rules:  ", "  rulez:  ", "watchdog.rulez"),
    ],
)
def test_a_broken_section_names_its_node(old: str, new: str, expected: str) -> None:
    assert old in CENTER_TEXT
    with pytest.raises(CenterError) as caught:
        load_center(CENTER_TEXT.replace(old, new, 1))
    assert any(str(p).startswith(expected) for p in caught.value.problems), caught.value.problems


def test_every_threshold_key_names_a_field() -> None:
    assert {name for name, _ in THRESHOLD_KEYS.values()} == set(Thresholds.__dataclass_fields__)


def test_the_section_is_read_like_the_whole_file() -> None:
    text = CENTER_TEXT.replace("severity: critical", "severity: dire", 1).replace(
        "  rules:  ", "  rules:\n    short_talks: {enabled: 1}\n  ", 1
    )
    with pytest.raises(CenterError) as caught:
        load_center(text)
    assert [str(p) for p in caught.value.problems] == [
        "watchdog.rules.short_talks.enabled: expected bool, got 1",
        "watchdog.rules.paused_while_waiting.severity: 'dire': use info, warning or critical",
    ]
