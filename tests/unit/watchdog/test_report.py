"""The per-agent shift report, from a journal (the Wuyi day) and from a hand-made one."""

from __future__ import annotations

from hotline.core.localtime import CHINA
from hotline.core.records import AgentChange
from hotline.queuelog import ParseProblem, build, parse_lines
from hotline.watchdog import AgentReport, Watchdog, replay, shift_report
from hotline.watchdog.render import report_csv, report_table

from .scenes import CENTER, ms, wuyi

S = 1000


def wuyi_rows() -> dict[str, AgentReport]:
    built = build(
        e
        for e in parse_lines(wuyi().text.splitlines(keepends=True))
        if not isinstance(e, ParseProblem)
    )
    alerts = replay(Watchdog(CENTER.watchdog, CENTER), built.agent_changes, built.calls)
    rows = shift_report(
        built.agent_changes, CENTER, start=ms("00:00"), end=ms("00:00", 1), alerts=alerts
    )
    return {r.agent: r for r in rows}


ROWS = wuyi_rows()


def test_where_wang_fang_s_day_went() -> None:
    wang = ROWS["王芳"]
    assert wang.logged_in_ms == ms("16:00:00") - ms("08:00:05")
    assert wang.talk_ms == (240 + 360 + 3 * 5) * S
    minutes = (34 + 50 / 60) + (14 + 20 / 60) + (14 + 30 / 60) + 40 + 3 + 5
    assert wang.busy_ms == wang.paused_ms == round(minutes * 60) * S
    assert wang.ready_ms == wang.logged_in_ms - wang.talk_ms - wang.paused_ms
    assert wang.acw_ms == 0  # queue_log has no wrap-up
    assert [(p.reason, p.label, p.kind, p.count, p.longest_ms) for p in wang.pauses] == [
        ("busy", "示忙", "busy", 5, 40 * 60 * S),
        ("", "无原因", "busy", 1, 3 * 60 * S),
    ]
    assert round(wang.busy_share or 0, 4) == round(wang.busy_ms / wang.logged_in_ms, 4)
    assert (wang.calls, wang.ring_no_answers, wang.alerts) == (5, 3, 12)
    assert dict(wang.alerts_by_rule)["long_pause"] == 2


def test_the_meal_break_is_a_break_not_busy() -> None:
    li = ROWS["李娜"]
    assert (li.busy_ms, li.busy_share) == (0, 0)
    assert [(p.reason, p.label, p.kind, p.count, p.total_ms) for p in li.pauses] == [
        ("meal", "用餐", "break", 1, 35 * 60 * S)
    ]
    assert li.alerts == 0
    assert 0 < (li.occupancy or 0) < 1


def test_after_call_work_and_a_pause_across_midnight() -> None:
    journal = [
        AgentChange(ms("22:00"), "王芳", "login", "intake"),
        AgentChange(ms("22:10"), "王芳", "connect", "intake", call_id="a"),
        AgentChange(ms("22:15"), "王芳", "complete", "intake", "caller", call_id="a"),
        AgentChange(ms("22:15:30"), "王芳", "wrap_up_end"),
        AgentChange(ms("23:30"), "王芳", "pause", "intake", "busy"),
        AgentChange(ms("00:30", 1), "王芳", "unpause", "intake"),
        AgentChange(ms("01:00", 1), "王芳", "logout", "intake"),
    ]
    [day1] = shift_report(journal, CENTER, start=ms("00:00"), end=ms("00:00", 1))
    [day2] = shift_report(journal, CENTER, start=ms("00:00", 1), end=ms("00:00", 2))
    assert (day1.talk_ms, day1.acw_ms, day1.busy_ms) == (300 * S, 30 * S, 1800 * S)
    assert day1.logged_in_ms == 2 * 3600 * S
    assert (day2.busy_ms, day2.logged_in_ms, day2.pauses[0].count) == (1800 * S, 3600 * S, 1)
    assert day1.occupancy == 330 / (330 + (7200 - 330 - 1800))


def test_renderings() -> None:
    rows = list(ROWS.values())
    table = report_table(rows, CHINA, "2026-11-23 all teams")
    assert table.splitlines()[0] == "2026-11-23 all teams"
    assert "示忙率" in table.splitlines()[1]
    assert "用餐×1 0:35:00 (max 0:35:00)" in table
    csv = report_csv(rows).splitlines()
    assert csv[0].startswith("agent,team,start,end,logged_in_s")
    assert len(csv) == 1 + len(rows)
    assert shift_report([], CENTER, start=0, end=1) == []
    assert report_table([], CHINA, "x") == "x\nno agent was logged in"
