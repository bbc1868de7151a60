"""Pauses across midnight and shift changes; a journal that begins mid-pause (restart)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hotline.agents.model import AgentView, Membership
from hotline.agents.status import DeviceState, PauseKind, Phase
from hotline.core.localtime import CHINA
from hotline.core.records import AgentChange, AgentStatus
from hotline.stores.history import History
from hotline.watchdog import Resynced, RuleId, Shifts, Watchdog, replay, resynced

from .scenes import CENTER, ms

WANG, LIU = "王芳", "刘洋"  # team-a (08-16, 16-24), team-b (00-08)
MIN = 60_000


def c(t: int, agent: str, kind: str, reason: str = "", **kw: object) -> AgentChange:
    return AgentChange(t, agent, kind, "intake", reason, **kw)  # type: ignore[arg-type]


def rules(alerts: list) -> dict[str, list[int]]:  # type: ignore[type-arg]
    out: dict[str, list[int]] = {}
    for a in alerts:
        out.setdefault(a.rule.value, []).append(a.t_raised)
    return out


def test_team_windows_follow_the_shifts_in_local_time() -> None:
    team_a = Shifts(CENTER.teams["team-a"].shifts, CHINA)
    assert team_a.at(ms("12:00:00")).name == "day"
    evening = team_a.at(ms("23:59:59"))
    assert (evening.name, evening.start, evening.end) == ("evening", ms("16:00"), ms("00:00", 1))
    off = team_a.at(ms("03:00:00", 1))
    assert (off.name, off.start, off.end) == ("off", ms("00:00", 1), ms("08:00", 1))
    assert team_a.nearest_change(ms("23:40:00")) == ms("00:00", 1)
    night = Shifts(CENTER.teams["team-b"].shifts, CHINA).at(ms("07:00:00"))
    assert (night.name, night.start, night.end) == ("night", ms("00:00"), ms("08:00"))
    assert [w.name for w in team_a.between(ms("07:00"), ms("17:00"))] == ["off", "day", "evening"]
    assert Shifts((), CHINA).at(ms("12:00")).start == ms("00:00")  # no shifts: the day


def test_a_pause_across_midnight() -> None:
    # 王芳 works the evening shift; 示忙 from 23:50 to 00:20: too long at 00:00 exactly; its
    # minutes split between the evening (10) and the night off-shift (20): no shift total
    items = [c(ms("16:00:00"), WANG, "login"), c(ms("23:50:00"), WANG, "pause", "busy"),
             c(ms("00:20:00", 1), WANG, "unpause")]  # fmt: skip
    found = rules(replay(Watchdog(CENTER.watchdog, CENTER), items, []))
    assert found[RuleId.LONG_PAUSE.value] == [ms("00:00:00", 1)]
    assert found[RuleId.PAUSE_NEAR_SHIFT_CHANGE.value] == [ms("23:50:00")]
    assert RuleId.SHIFT_BUSY_TOTAL.value not in found
    # with 25 more minutes of 示忙 earlier in the evening, the evening total reaches 30 min
    earlier = [c(ms("20:00:00"), WANG, "pause", "busy"), c(ms("20:25:00"), WANG, "unpause")]
    found = rules(
        replay(Watchdog(CENTER.watchdog, CENTER), sorted(items + earlier, key=lambda x: x.t), [])
    )
    assert found[RuleId.SHIFT_BUSY_TOTAL.value] == [ms("23:55:00")]


def test_a_pause_across_a_shift_change_counts_in_both_shifts() -> None:
    items = [
        c(ms("08:00:00"), WANG, "login"),
        c(ms("11:00:00"), WANG, "pause", "busy"), c(ms("11:25:00"), WANG, "unpause"),
        c(ms("15:50:00"), WANG, "pause", "busy"), c(ms("16:25:00"), WANG, "unpause"),
    ]  # fmt: skip
    alerts = replay(Watchdog(CENTER.watchdog, CENTER), items, [])
    found = rules(alerts)
    assert found[RuleId.SHIFT_BUSY_TOTAL.value] == [ms("15:55:00")]  # day: 25 + 5
    assert found[RuleId.LONG_PAUSE.value] == [ms("11:10:00"), ms("16:00:00")]
    [day] = [a for a in alerts if a.rule is RuleId.SHIFT_BUSY_TOTAL]
    assert (day.end, day.value) == (ms("16:00:00"), 35 * MIN)  # clipped to the shift
    assert day.periods[-1] == (ms("15:50:00"), ms("16:00:00"))


def test_a_journal_that_begins_mid_pause_counts_from_asterisk_s_last_pause() -> None:
    # the controller restarted at 10:08; Asterisk says 王芳 has been paused since 10:02
    login = c(ms("10:08:00"), WANG, "login", "busy", status=AgentStatus.BUSY, note="resync")
    dog = Watchdog(CENTER.watchdog, CENTER)
    dog.feed(Resynced(login, paused=True, since=ms("10:02:00")))
    assert dog.tick(ms("10:11:59")) == []
    [alert] = dog.tick(ms("10:12:00"))
    assert (alert.rule, alert.start) == (RuleId.LONG_PAUSE, ms("10:02:00"))
    # without what Asterisk said, the pause counts from the entry (the status says paused)
    plain = Watchdog(CENTER.watchdog, CENTER)
    plain.feed(login)
    assert plain.tick(ms("10:17:59")) == []
    assert [a.start for a in plain.tick(ms("10:18:00"))] == [ms("10:08:00")]


def test_a_resync_already_past_the_limit_fires_at_once_with_the_exact_time() -> None:
    pause = c(ms("10:30:00"), WANG, "pause", "busy", note="resync")
    alerts = Watchdog(CENTER.watchdog, CENTER).feed(
        Resynced(pause, paused=True, since=ms("10:02:00"))
    )
    assert [(a.rule, a.t_raised) for a in alerts if a.rule is RuleId.LONG_PAUSE] == [
        (RuleId.LONG_PAUSE, ms("10:12:00"))
    ]


def test_resynced_writes_the_since_from_the_reducer_s_views_into_the_note() -> None:
    member = Membership("intake", "PJSIP/1001", paused=True, reason="busy", since=ms("10:02:00"))
    view = AgentView(WANG, (member,), DeviceState.NOT_INUSE, Phase.IDLE, "", None,
                     PauseKind.BUSY, AgentStatus.BUSY, ms("10:02:00"))  # fmt: skip
    login = c(ms("10:08:00"), WANG, "login", "busy", status=AgentStatus.BUSY, note="resync")
    ring = c(ms("10:08:00"), WANG, "ring", call_id="x")
    entries = resynced([login, ring], {WANG: view})
    assert entries == [replace(login, note=f"resync since={ms('10:02:00')} paused"), ring]
    assert Resynced.from_note(entries[0]) == Resynced(entries[0], True, ms("10:02:00"))
    assert Resynced.from_note(login) is None  # no since: counts from the entry


def test_the_stored_journal_keeps_the_restart_semantics(tmp_path: Path) -> None:
    # what the controller journals on a restart, read back from the history later
    login = c(ms("10:08:00"), WANG, "login", "busy", status=AgentStatus.BUSY,
              note=f"resync since={ms('10:02:00')} paused")  # fmt: skip
    history = History.open(tmp_path / "h.sqlite3")
    history.append_journal([login, c(ms("10:30:00"), WANG, "unpause")])
    journal = history.journal()
    history.close()
    alerts = replay(Watchdog(CENTER.watchdog, CENTER), journal, [])
    [long] = [a for a in alerts if a.rule is RuleId.LONG_PAUSE]
    assert (long.start, long.t_raised, long.end) == (ms("10:02:00"), ms("10:12:00"), ms("10:30:00"))


def test_a_team_b_night_pause_and_a_login_paused() -> None:
    items = [c(ms("00:00:00"), LIU, "login"), c(ms("07:45:00"), LIU, "pause", "busy"),
             c(ms("08:10:00"), LIU, "unpause")]  # fmt: skip
    found = rules(replay(Watchdog(CENTER.watchdog, CENTER), items, []))
    assert found[RuleId.PAUSE_NEAR_SHIFT_CHANGE.value] == [ms("07:45:00")]
    assert found[RuleId.LONG_PAUSE.value] == [ms("07:55:00")]


def test_after_a_restart_the_same_pause_keeps_its_alert_id() -> None:
    live = Watchdog(CENTER.watchdog, CENTER)
    live.feed(c(ms("09:00:00"), WANG, "login"))
    live.feed(c(ms("10:02:00") + 345, WANG, "pause", "busy"))  # AMI: to the ms
    [before] = [a for a in live.tick(ms("10:13:00")) if a.rule is RuleId.LONG_PAUSE]
    restarted = Watchdog(CENTER.watchdog, CENTER)  # QueueStatus: LastPause to the second
    note = f"resync since={ms('10:02:00')} paused"
    restarted.feed(c(ms("10:08:00"), WANG, "login", "busy", status=AgentStatus.BUSY, note=note))
    [after] = [a for a in restarted.tick(ms("10:13:00")) if a.rule is RuleId.LONG_PAUSE]
    assert after.id == before.id == f"long_pause/王芳/{ms('10:02:00') // 1000}"
