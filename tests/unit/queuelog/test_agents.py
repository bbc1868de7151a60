"""queue_log lines → the agent-state journal."""

from __future__ import annotations

import pytest

from hotline.core.records import AgentChange, PauseSetBy
from hotline.queuelog import QueueLogEntry, agent_changes, build, parse_line

from .fixtures import QUEUE_LOG, T0, entries, ms


def changes(text: str) -> tuple[AgentChange, ...]:
    entry = parse_line(text)
    assert isinstance(entry, QueueLogEntry)
    return agent_changes(entry)


def test_membership_and_pauses_with_chinese_reasons() -> None:
    assert changes("1795536010|MANAGER|labour|王芳|ADDMEMBER|") == (
        AgentChange(1795536010000, "王芳", "login", queue="labour"),
    )
    assert changes("1795536010|NONE|labour|王芳|PAUSE|午饭") == (
        AgentChange(1795536010000, "王芳", "pause", queue="labour", reason="午饭"),
    )
    assert changes("1795536010|NONE|labour|王芳|UNPAUSE|") == (
        AgentChange(1795536010000, "王芳", "unpause", queue="labour"),
    )
    assert changes("1795536010|MANAGER|labour|王芳|REMOVEMEMBER|") == (
        AgentChange(1795536010000, "王芳", "logout", queue="labour"),
    )


def test_added_paused_is_a_login_and_a_pause() -> None:
    # QueueAdd Paused: true writes ADDMEMBER|PAUSED and no PAUSE line
    assert [c.kind for c in changes("1795536011|MANAGER|labour|李娜|ADDMEMBER|PAUSED")] == [
        "login",
        "pause",
    ]


def test_autopause_is_set_by_the_system() -> None:
    (change,) = changes("1795536115|NONE|labour|李娜|PAUSE|Auto-Pause")
    assert change.set_by is PauseSetBy.SYSTEM
    (own,) = changes("1795536115|NONE|labour|李娜|PAUSE|示忙")
    assert own.set_by is None  # queue_log does not say who: the controller's journal does


def test_a_reason_with_a_pipe_is_whole() -> None:
    (change,) = changes("1795536000|NONE|intake|张伟|PAUSE|会议|临时")
    assert change.reason == "会议|临时"


@pytest.mark.parametrize(
    ("line", "kind", "reason"),
    [
        ("1795536115|c|labour|李娜|RINGNOANSWER|15000", "ring_no_answer", "15000"),
        # Kamailio's 486 for an agent talking on another PBX: refused at once, not let go
        ("1795536115|c|labour|李娜|RINGNOANSWER|0", "ring_end", "busy"),
        ("1795536316|c|labour|王芳|RINGCANCELED|4000", "ring_canceled", "4000"),
        ("1795536118|c|labour|王芳|CONNECT|18|x.3|3", "connect", ""),
        ("1795536178|c|labour|王芳|COMPLETEAGENT|18|60|1", "complete", "agent"),
        ("1795536178|c|labour|王芳|COMPLETECALLER|18|60|1", "complete", "caller"),
        ("1795536178|c|labour|王芳|BLINDTRANSFER|8001|ctx|18|60|1", "complete", "transfer"),
        ("1795536613|c|labour|李娜|AGENTDUMP|", "dump", ""),
    ],
)
def test_call_lines_of_an_agent(line: str, kind: str, reason: str) -> None:
    (change,) = changes(line)
    assert (change.kind, change.reason, change.call_id, change.queue) == (
        kind,
        reason,
        "c",
        "labour",
    )


@pytest.mark.parametrize(
    "line",
    [
        "1795536100|c|labour|NONE|ENTERQUEUE||138|1",
        "1795536100|c|labour|NONE|ABANDON|1|1|3",
        "1795536000|NONE|NONE|王芳|PAUSEALL|午饭",  # the per-queue PAUSE lines follow
        "1795536000|NONE|labour|PJSIP/agent1002|PENALTY|2",
        "1795536000|NONE|NONE|NONE|QUEUESTART|",
    ],
)
def test_lines_of_no_agent_change(line: str) -> None:
    assert changes(line) == ()


def test_agent_login_of_app_agent_pool_has_no_queue() -> None:
    (change,) = changes("1795536013|NONE|NONE|agent1004|AGENTLOGIN|PJSIP/agent1004")
    assert (change.kind, change.queue, change.call_id) == ("login", "", "")


def test_the_journal_of_the_field_notes() -> None:
    journal = build(entries(QUEUE_LOG / "field_notes.queue_log")).agent_changes
    assert [(c.t // 1000, c.agent, c.kind, c.reason) for c in journal] == [
        (1795463378, "agent1001", "login", ""),
        (1795463379, "agent1001", "pause", "lunch break"),
        (1795463384, "agentspeak", "connect", ""),
        (1795463391, "agentspeak", "complete", "agent"),
        (1795463395, "agent1001", "unpause", "back"),
        (1795463400, "agentnoans", "ring_no_answer", "3000"),
        (1795464868, "agent3001", "logout", ""),
        (1795465530, "agentspeak", "complete", "caller"),
    ]


def test_the_journal_of_the_day_has_each_pause_once() -> None:
    journal = build(entries(QUEUE_LOG / "synthetic_day.queue_log")).agent_changes
    lunch = [(c.t, c.queue) for c in journal if c.reason == "午饭"]
    assert lunch == [(ms(1000), "labour"), (ms(1000), "property")]  # PAUSEALL adds none
    assert [c.t for c in journal] == sorted(c.t for c in journal)
    assert journal[0].t == (T0 + 10) * 1000
