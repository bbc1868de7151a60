"""The seed case replayed from a queue_log: the right alerts, with the right cost."""

from __future__ import annotations

from hotline.watchdog import Alert, RuleId, StepAction, Watchdog, audit_lines
from hotline.watchdog.audit import Audit

from .scenes import CENTER, ms, wuyi

WUYI = wuyi()


def audit() -> Audit:
    return audit_lines(WUYI.text.splitlines(keepends=True), Watchdog(CENTER.watchdog, CENTER))


AUDIT = audit()


def find(rule: RuleId, start: int | None = None) -> Alert:
    found = [a for a in AUDIT.alerts if a.rule is rule and (start is None or a.start == start)]
    assert len(found) == 1, found
    return found[0]


def test_only_the_agent_who_abused_busy_is_alerted() -> None:
    assert {a.agent for a in AUDIT.alerts} == {"王芳"}  # 李娜's 35-min meal, 张伟: nothing
    assert sorted((a.rule.value, a.start) for a in AUDIT.alerts) == sorted(
        [
            (RuleId.PAUSE_AFTER_RING_NO_ANSWER.value, ms("08:59:45")),
            (RuleId.PAUSED_WHILE_WAITING.value, ms("09:00:10")),
            (RuleId.LONG_PAUSE.value, ms("09:00:10")),
            (RuleId.SHIFT_BUSY_SHARE.value, ms("08:00:00")),
            (RuleId.SHIFT_BUSY_TOTAL.value, ms("08:00:00")),
            (RuleId.PAUSE_FLIP.value, ms("09:00:10")),
            (RuleId.PAUSED_WHILE_WAITING.value, ms("10:30:00")),
            (RuleId.LONG_PAUSE.value, ms("10:30:00")),
            (RuleId.SHORT_TALKS.value, ms("13:00:03")),
            (RuleId.RING_NO_ANSWER_COUNT.value, ms("08:59:45")),
            (RuleId.PAUSE_WITHOUT_REASON.value, ms("14:30:00")),
            (RuleId.PAUSE_NEAR_SHIFT_CHANGE.value, ms("15:40:00")),
        ]
    )


def test_flips_do_not_reset_the_clock() -> None:
    # 09:00:10 → 09:35:00, back after 40 s, 09:50:00, back after 30 s, 10:05:00: one episode
    long = find(RuleId.LONG_PAUSE, ms("09:00:10"))
    assert long.t_raised == ms("09:10:10")
    assert (long.end, long.value) == (ms("10:05:00"), ms("10:05:00") - ms("09:00:10"))
    assert long.periods == (
        (ms("09:00:10"), ms("09:35:00")),
        (ms("09:35:40"), ms("09:50:00")),
        (ms("09:50:30"), ms("10:05:00")),
    )
    assert find(RuleId.PAUSE_FLIP).t_raised == ms("09:50:30")


def expected_cost(periods: tuple[tuple[int, int | None], ...]) -> list[str]:
    """Calls whose t_q fell in the periods and that waited more than 15 s or gave up."""
    return sorted(
        cid
        for cid, (_, t_q, wait) in WUYI.calls_in.items()
        if any(a <= t_q <= (b or 1 << 62) for a, b in periods) and (wait is None or wait > 15)
    )


def test_the_cost_is_every_caller_failed_while_she_was_away() -> None:
    for start in (ms("09:00:10"), ms("10:30:00")):
        harm = find(RuleId.PAUSED_WHILE_WAITING, start)
        assert sorted(harm.cost.calls) == expected_cost(harm.periods)
        assert harm.cost.missed == harm.cost.answered_late + harm.cost.abandoned + harm.cost.lost
    first = find(RuleId.PAUSED_WHILE_WAITING, ms("09:00:10"))
    assert (first.cost.missed, first.cost.answered_late, first.cost.abandoned) == (21, 14, 7)
    assert first.t_raised == ms("09:02:20")  # the first caller after the pause, 20 s in
    assert first.severity.value == "critical"
    assert first.evidence.waiting.count == 21
    assert first.evidence.waiting.longest_ms == 60_000


def test_the_evidence_is_the_journal_of_the_episode() -> None:
    long = find(RuleId.LONG_PAUSE, ms("10:30:00"))
    assert [(c.kind, c.reason, c.queue) for c in long.evidence.journal] == [
        ("pause", "busy", "intake"),
        ("pause", "busy", "labour"),
        ("unpause", "", "intake"),
        ("unpause", "", "labour"),
    ]
    after_ring = find(RuleId.PAUSE_AFTER_RING_NO_ANSWER)
    assert after_ring.evidence.journal[0].kind == "ring_no_answer"
    assert after_ring.value == 25_000
    assert find(RuleId.PAUSE_NEAR_SHIFT_CHANGE).evidence.note == "shift change 16:00"


def test_the_escalation_that_would_have_run() -> None:
    harm = find(RuleId.PAUSED_WHILE_WAITING, ms("09:00:10"))
    steps = AUDIT.steps[harm.id]
    assert [(s.action, s.to, s.at) for s in steps] == [
        (StepAction.NOTE_AGENT, "王芳", ms("09:02:20")),
        (StepAction.ALERT_SUPERVISOR, "班长01", ms("09:03:20")),
    ]


def test_garbage_and_unknown_lines_are_reported_not_fatal() -> None:
    assert [p.reason.name for p in AUDIT.problems] == ["FIELDS", "FIELDS", "BINARY"]
    assert AUDIT.unknown == {"FROBNICATE": 1}
    clean = audit_lines(
        wuyi(garbage=False).text.splitlines(keepends=True), Watchdog(CENTER.watchdog, CENTER)
    )
    assert [a.facts() for a in clean.alerts] == [a.facts() for a in AUDIT.alerts]


def test_an_audit_is_deterministic() -> None:
    assert audit().alerts == AUDIT.alerts
