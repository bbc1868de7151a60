"""The verdict in words: what `hotline metrics explain` prints."""

from __future__ import annotations

from dataclasses import replace

from hotline.core.records import Precision
from hotline.metrics import Params, verdict

from .calls import T0, S, abandoned, answered, callback_at_offer, ivr_only, refused

LABELS = {"labour": "劳动保障"}
ENTERED = T0 + 2 * 60 * S + 3 * S + 412  # 10:02:03.412 in Shanghai


def test_the_example_of_the_issue() -> None:
    v = verdict(answered("c", 17_208, t_q=ENTERED, agent="1007"), labels=LABELS)
    assert v.en[1] == (
        "entered 劳动保障 (labour) at 2026-11-25 10:02:03.412, answered 17.208 s later by "
        "agent 1007: in R and A, not in A15 (17.208 s > 15.000 s)"
    )
    assert v.zh[1] == (
        "2026-11-25 10:02:03.412 进入 劳动保障 (labour)，17.208 秒后由坐席 1007 接听："
        "计入 R、A，不计入 A15（17.208 秒 > 15.000 秒）"
    )
    assert v.en[0] == "call c: times to the millisecond (ami)"


def test_times_are_shown_in_shanghai() -> None:
    v = verdict(answered("c", 5 * S, t_q=T0))  # 02:00 UTC
    assert "at 2026-11-25 10:00:00.000" in v.en[1]
    assert "counted in the hour 2026-11-25 10:00 and the day 2026-11-25" in "\n".join(v.en)


def test_a_record_from_queue_log_says_to_the_second() -> None:
    v = verdict(answered("c", 15 * S, precision=Precision.SECOND))
    assert "to the second" in v.en[0]
    assert "精确到秒" in v.zh[0]
    assert "answered 15 s later" in v.en[1]
    assert "in A15 (15 s ≤ 15.000 s)" in v.en[1]
    assert "10:00:00," in v.en[1]  # no milliseconds shown


def test_short_abandons_say_what_s_does() -> None:
    record = abandoned("c", 500, ringing=True)
    zero = "\n".join(verdict(record).en)
    assert "hung up while an agent's phone rang" in zero
    assert "S = 0: no abandon leaves the strict denominators" in zero
    five = "\n".join(verdict(record, short_abandon_s=5).en)
    assert "in Ab≤S (0.500 s ≤ S = 5.000 s): left out of the strict denominators" in five


def test_an_overflow_says_it_counts_once() -> None:
    record = answered("c", 124 * S)
    first = record.visits[0]
    record = replace(
        record,
        visits=(
            replace(first, t_leave=T0 + 120 * S, outcome="EXITWITHTIMEOUT"),
            replace(first, queue="intake", t_enter=T0 + 120 * S, outcome="CONNECT"),
        ),
    )
    text = "\n".join(verdict(record, labels=LABELS).en)
    assert "counted once, in 劳动保障 (labour) (its first queue)" in text
    assert "answered 124.000 s later" in text


def test_refusals_callbacks_and_the_menus() -> None:
    assert (
        "refused at the door: no agent logged in (JOINEMPTY): in R and L"
        in verdict(refused("c")).en[1]
    )
    assert "chose a callback instead of waiting: in R only" in verdict(callback_at_offer("c")).en[1]
    assert verdict(ivr_only("c")).en[-1].endswith("not in R")


def test_navigation_and_talk_and_survey() -> None:
    record = answered("c", 10 * S, arrival=T0 - 20 * S, survey=4, talk=61_500)
    text = "\n".join(verdict(record).en)
    assert "含导航语音: answered 30.000 s after arrival: not in nav.A15" in text
    assert "talked 61.500 s; the agent journal has no end of this talk: outside AHT" in text
    with_acw = "\n".join(verdict(record, acw_ms=30_000).en)
    assert (
        "talked 61.500 s, then 30.000 s of after-call work (journal): handling time 91.500 s"
        in with_acw
    )
    assert "survey score 4 of 5" in text
    assert "13800000001" not in text + "\n".join(verdict(record).zh)  # never the number


def test_params_win_over_the_keyword_thresholds() -> None:
    v = verdict(answered("c", 17 * S), threshold_s=15, params=Params.of(threshold_s=20))
    assert "in A15 (17.000 s ≤ 20.000 s)" in v.en[1]
