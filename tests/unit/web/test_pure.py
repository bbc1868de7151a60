"""The web's pure parts: ranges, throttle, scopes, charts, texts, JSON in script tags."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from hotline.agents.status import PausePolicy
from hotline.center.config import load_center
from hotline.core.records import AgentChange
from hotline.host.settings import DEFAULT_CENTER
from hotline.web import board, charts, errors, i18n
from hotline.web.filters import duration, json_script
from hotline.web.ranges import Unsatisfiable, parse_range
from hotline.web.roles import Access, Role, Scope, User
from hotline.web.throttle import Throttle

CENTER = load_center(DEFAULT_CENTER.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("header", "span"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("bytes = 0 - 0", (0, 0)),
    ],
)
def test_ranges(header: str | None, span: tuple[int, int] | None) -> None:
    assert parse_range(header, 1000) == span


@pytest.mark.parametrize(
    "header",
    [
        "bytes=1000-",
        "bytes=5-2",
        "bytes=-0",
        "bytes=-",
        "bytes=0-1,5-6",
        "items=0-1",
        "bytes=0x10-",
        "bytes=../etc",
        "bytes=١-٢",
    ],
)
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_throttle_locks_after_free_failures_and_doubles() -> None:
    t = Throttle(free=3, first_lock_ms=1000)
    for i in range(2):
        t.failed("k", i)
        assert t.wait_ms("k", i) == 0
    t.failed("k", 10)
    assert t.wait_ms("k", 10) == 1000
    t.failed("k", 20)
    assert t.wait_ms("k", 20) == 2000
    assert t.wait_ms("other", 20) == 0
    t.cleared("k")
    assert t.wait_ms("k", 21) == 0


def test_failures_outside_the_window_are_forgotten() -> None:
    t = Throttle(free=2, window_ms=100)
    t.failed("k", 0)
    t.failed("k", 500)
    assert t.wait_ms("k", 500) == 0


def test_scopes() -> None:
    team_a = Scope(teams=frozenset({"team-a"}))
    assert team_a.sees_agent("王芳", CENTER)
    assert not team_a.sees_agent("刘洋", CENTER)  # team-b
    assert not team_a.sees_agent("nobody", CENTER)
    assert team_a.queues_of(CENTER) == {"intake", "labour", "property", "environment"}
    by_queue = Scope(queues=frozenset({"property"}))
    assert by_queue.sees_agent("刘洋", CENTER)  # serves property
    assert not by_queue.sees_queue("labour", CENTER)
    assert Scope(all=True).sees_agent("anyone", CENTER)
    assert Scope.from_json(team_a.to_json()) == team_a


def test_access() -> None:
    sup = User("s", Role.SUPERVISOR)
    assert Access.of(Role.SUPERVISOR).allows(sup)
    assert not Access.of(Role.AUDITOR).allows(sup)
    assert not Access.of(Role.SUPERVISOR).allows(None)
    assert not Access.of(Role.SUPERVISOR).allows(User("s", Role.SUPERVISOR, disabled=True))


def test_the_wallboard_hides_caller_numbers() -> None:
    docs = {
        "queue": {
            "intake": {"waiting": [{"uniqueid": "1.1", "since": 5, "caller": "13800000001"}]}
        },
        "call": {"1.1": {"call_id": "1.1", "caller": "13800000001", "queue": "intake"}},
    }
    shown = board.wallboard_docs(docs, Scope(all=True), CENTER)
    assert "13800000001" not in repr(shown)
    assert shown["queue"]["intake"]["waiting"] == [{"since": 5}]


def test_a_team_supervisor_sees_only_team_alerts_and_queues() -> None:
    scope = Scope(teams=frozenset({"team-b"}))
    assert board.doc_visible("alert", "a", {"team": "team-b", "agent": "刘洋"}, scope, CENTER)
    assert not board.doc_visible("alert", "a", {"team": "team-a", "agent": "王芳"}, scope, CENTER)
    assert not board.doc_visible("call", "c", {"queue": "environment"}, scope, CENTER)
    assert board.doc_visible("setting", "notice", {"value": ""}, scope, CENTER)
    assert not board.doc_visible("mystery", "x", {}, scope, CENTER)


def test_agent_segments_follow_the_journal() -> None:
    policy = PausePolicy.from_reasons(CENTER.reasons.values())
    j = [
        AgentChange(0, "王芳", "login", "intake"),
        AgentChange(10, "王芳", "pause", "", "busy"),
        AgentChange(20, "王芳", "unpause"),
        AgentChange(25, "王芳", "connect"),
        AgentChange(30, "王芳", "complete"),
        AgentChange(35, "王芳", "pause", "", "meal"),
        AgentChange(40, "王芳", "logout"),
    ]
    segs = charts.agent_segments(j, policy, 5, 50)["王芳"]
    assert [(s.start, s.end, s.state) for s in segs] == [
        (5, 10, "ready"),
        (10, 20, "busy"),
        (20, 25, "ready"),
        (25, 30, "talking"),
        (30, 35, "ready"),
        (35, 40, "break"),
    ]


def test_waiting_steps() -> None:
    assert charts.waiting_steps([(0, 10), (5, 20), (30, 40)], 0, 35) == [
        (0, 0),
        (0, 1),
        (5, 2),
        (10, 1),
        (20, 0),
        (30, 1),
        (35, 0),
    ]


def test_charts_escape_what_they_show() -> None:
    svg = charts.hourly_svg([charts.Hour("<b>", 3, 2, 0.5)], "t<script>", ["a&b", "x", "y"])
    assert "<script>" not in svg
    assert "&lt;b&gt;" in svg
    assert svg.startswith("<svg")
    seg = charts.Segment(0, 60_000, "busy")
    tl = charts.timeline_svg(
        [("王<芳>", [seg])], [(0, 1)], 0, 120_000, "Asia/Shanghai", "t", "w", [("st-busy", "示忙")]
    )
    assert "王&lt;芳&gt;" in tl
    assert 'class="st-busy"' in tl


def test_json_in_a_script_tag_cannot_close_it() -> None:
    out = str(json_script({"x": "</script><script>alert(1)</script>&"}))
    assert "<" not in out
    assert "&" not in out


def test_durations() -> None:
    assert duration(None) == ""
    assert duration(59_999) == "0:59"
    assert duration(3_600_000 + 61_000) == "1:01:01"


def test_every_text_used_by_a_template_exists_in_both_languages() -> None:
    used: set[str] = set()
    templates = resources.files("hotline.web").joinpath("templates")
    for entry in templates.iterdir():
        used |= set(re.findall(r"(?<![\w.])t\('([a-z_.]+)'\)", entry.read_text(encoding="utf-8")))
    assert used, "no texts found"
    missing = sorted(k for k in used if k not in i18n.TEXTS)
    assert missing == []
    for key, (zh, en) in i18n.TEXTS.items():
        assert zh, key
        assert en, key
    assert i18n.text("login.throttled", "zh", seconds=30) == "尝试过多，请 30 秒后再试"
    assert i18n.text("login.title", "en") == "Sign in"


def test_every_web_error_has_its_http_status() -> None:
    classes = [errors.WebError, *errors.WebError.__subclasses__()]
    assert len({c.error_id for c in classes}) == len(classes)  # each id its own
    assert {c.error_id for c in classes} == set(errors.HTTP_STATUS)
    assert errors.HTTP_STATUS[errors.PurposeRequired.error_id] == 428
    assert errors.HTTP_STATUS[errors.IntegrityFailure.error_id] == 409


def test_a_login_counts_against_the_name_from_its_address_and_the_address() -> None:
    from hotline.web.throttle import login_keys

    assert login_keys("banzhang01", "10.1.2.3") == [("pair", "banzhang01|10.1.2.3"),
                                                    ("ip", "10.1.2.3")]  # fmt: skip
    t = Throttle(free=3, first_lock_ms=1000, max_ms=4000)
    assert [t.lock_ms(n) for n in range(1, 7)] == [0, 0, 1000, 2000, 4000, 4000]


def test_every_end_reason_has_its_words_in_both_languages() -> None:
    from hotline.core.records import EndReason

    for reason in EndReason:
        zh, en = i18n.TEXTS[f"end.{reason.value}"]
        assert zh != en
    assert i18n.text("end.abandoned_in_queue", "zh") == "排队中挂断"


def test_a_controller_reply_in_the_readers_language() -> None:
    details = {"task": "7", "agent": "王芳", "device": "UNAVAILABLE"}
    assert i18n.reply_text("phone_cannot", details, "zh") == "回拨任务 7：王芳 的话机未注册"
    assert (
        i18n.reply_text("phone_cannot", details, "en")
        == "Recall task 7: 王芳's phone is not registered"
    )
    assert (
        i18n.reply_text("pause", {"agent": "王芳", "queues": "intake"}, "zh")
        == "王芳 已示忙：intake"
    )
    # a key the interface does not know, or details that do not fill it: the English message
    assert i18n.reply_text("no_such_reply", {}, "zh") is None
    assert i18n.reply_text("phone_cannot", {"task": "7"}, "zh") is None
    # every reply text fills from the names it uses, in both languages
    for key, (zh, en) in i18n.TEXTS.items():
        if key.startswith("reply."):
            assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
