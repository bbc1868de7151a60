"""Every population edge case of docs/domain.md, call by call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.core.records import CallRecord, EndReason, Precision, QueueVisit
from hotline.metrics import Exclusion, MetricsError, Params, Population, classify, verdict

from .calls import (
    T0,
    S,
    abandoned,
    answered,
    callback_at_offer,
    ivr_only,
    refused,
    timed_out,
    vanished,
)

P = Population
DEFAULT = Params()


def pops(record: CallRecord, params: Params = DEFAULT) -> set[Population]:
    return set(classify(record, params).populations)


def test_answered_at_exactly_the_threshold_is_in_a15() -> None:
    assert pops(answered("c", 15_000)) == {P.R, P.A, P.A15}


def test_one_millisecond_over_is_not() -> None:
    assert pops(answered("c", 15_001)) == {P.R, P.A}


def test_to_the_second_the_same_rule_applies_to_whole_seconds() -> None:
    assert P.A15 in pops(answered("c", 15 * S, precision=Precision.SECOND))
    assert P.A15 not in pops(answered("c", 16 * S, precision=Precision.SECOND))


def test_the_threshold_is_a_parameter() -> None:
    record = answered("c", 17_208)
    assert P.A15 not in pops(record)
    assert P.A15 in pops(record, Params.of(threshold_s=20))
    assert P.A15 in pops(record, Params.of(threshold_s="17.208"))
    assert P.A15 not in pops(record, Params.of(threshold_s="17.207"))


def test_a_short_abandon_with_s_zero_stays_in_every_denominator() -> None:
    record = abandoned("c", 500)
    assert pops(record) == {P.R, P.AB, P.AB15}
    assert pops(abandoned("c", 0)) == {P.R, P.AB, P.AB15}  # S = 0 excludes nothing


def test_a_short_abandon_with_s_five_is_ab_le_s() -> None:
    five = Params.of(short_abandon_s=5)
    assert pops(abandoned("c", 500), five) == {P.R, P.AB, P.AB15, P.ABS}
    assert pops(abandoned("c", 5_000), five) == {P.R, P.AB, P.AB15, P.ABS}
    assert pops(abandoned("c", 5_001), five) == {P.R, P.AB, P.AB15}


def test_an_abandon_after_the_threshold_is_not_in_ab15() -> None:
    assert pops(abandoned("c", 20 * S)) == {P.R, P.AB}


def test_abandon_while_ringing_is_an_abandon() -> None:
    assert pops(abandoned("c", 7 * S, ringing=True)) == {P.R, P.AB, P.AB15}


def test_leaving_with_the_key_is_an_abandon() -> None:
    record = replace(abandoned("c", 10 * S), end_reason=EndReason.LEFT_WITH_KEY)
    assert pops(record) == {P.R, P.AB, P.AB15}


def test_an_overflow_counts_once_in_its_first_queue_waiting_from_its_first_entry() -> None:
    record = CallRecord(
        call_id="c",
        visits=(
            QueueVisit("labour", T0, 1, T0 + 120 * S, "EXITWITHTIMEOUT"),
            QueueVisit("intake", T0 + 120 * S + 10, 1, T0 + 124 * S, "CONNECT"),
        ),
        t_answer=T0 + 124 * S,
        agent="1009",
        talk_end=T0 + 200 * S,
        t_end=T0 + 201 * S,
        end_reason=EndReason.ANSWERED,
    )
    v = classify(record, DEFAULT)
    assert set(v.populations) == {P.R, P.A}  # 124 s from t_q, not 4 s from the overflow
    assert (v.queue, v.agent, v.wait_ms, v.t_interval) == ("labour", "1009", 124 * S, T0)


@pytest.mark.parametrize("outcome", ["JOINEMPTY", "FULL"])
def test_a_refusal_at_the_door_is_in_r_and_l(outcome: str) -> None:
    v = classify(refused("c", outcome=outcome), DEFAULT)
    assert set(v.populations) == {P.R, P.L}
    assert v.t_interval == T0  # the refusal is a zero-length visit: its t_q


def test_a_callback_after_a_refusal_is_in_r_and_l() -> None:
    v = classify(refused("c", callback=True), DEFAULT)
    assert set(v.populations) == {P.R, P.L}
    assert v.lost_by == "JOINEMPTY"


def test_a_callback_after_a_timeout_is_in_r_and_l() -> None:
    record = replace(timed_out("c"), callback_number="13800000003", end_reason=EndReason.CALLBACK)
    assert pops(record) == {P.R, P.L}


def test_a_callback_chosen_at_the_offer_is_in_r_only() -> None:
    assert pops(callback_at_offer("c")) == {P.R}


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        (EndReason.TIMEOUT, "EXITWITHTIMEOUT"),
        (EndReason.LEAVE_EMPTY, "EXITEMPTY"),
        (EndReason.WITHDRAWN, "WITHDRAW"),
        (EndReason.FAILED, "SYSCOMPAT"),
    ],
)
def test_system_losses_are_in_l(reason: EndReason, outcome: str) -> None:
    record = CallRecord(
        call_id="c",
        visits=(QueueVisit("labour", T0, 1, T0 + 30 * S, outcome),),
        t_end=T0 + 30 * S,
        end_reason=reason,
    )
    assert pops(record) == {P.R, P.L}


def test_ivr_only_is_not_in_r() -> None:
    v = classify(ivr_only("c"), DEFAULT)
    assert (set(v.populations), v.excluded) == (set(), Exclusion.NO_REQUEST)


def test_out_of_hours_at_the_entry_is_not_in_r_but_after_a_request_it_is_a_loss() -> None:
    closed = CallRecord(call_id="c", t_arrival=T0, t_end=T0 + 5 * S, end_reason=EndReason.CLOSED)
    assert classify(closed, DEFAULT).excluded is Exclusion.CLOSED_AT_ENTRY
    asked = replace(closed, t_request=T0 + 3 * S)
    v = classify(asked, DEFAULT)
    assert (set(v.populations), v.t_interval) == ({P.R, P.NAV_R, P.L}, T0 + 3 * S)


def test_vanished_is_excluded_and_said_to_be_unknown() -> None:
    v = verdict(vanished("c"))
    assert (set(v.populations), v.excluded) == (set(), Exclusion.VANISHED)
    assert any("unknown" in line and "VANISHED" in line for line in v.en)
    assert any("未知" in line for line in v.zh)


def test_an_open_call_is_excluded() -> None:
    record = replace(vanished("c"), end_reason=None)
    assert classify(record, DEFAULT).excluded is Exclusion.OPEN


def test_an_answer_before_the_queue_entry_is_inconsistent() -> None:
    record = replace(answered("c", 5 * S), t_answer=T0 - 1)
    assert classify(record, DEFAULT).excluded is Exclusion.INCONSISTENT
    assert "answered before it entered the queue" in verdict(record).en[-1]


def test_from_arrival_the_navigation_counts_against_the_threshold() -> None:
    record = answered("c", 10 * S, arrival=T0 - 20 * S)
    v = classify(record, DEFAULT)
    assert set(v.populations) == {P.R, P.A, P.A15, P.NAV_R, P.NAV_A}
    assert (v.wait_ms, v.nav_wait_ms) == (10 * S, 30 * S)
    quick = abandoned("d", 1 * S, arrival=T0 - 2 * S)
    assert pops(quick, Params.of(short_abandon_s=5)) == {
        P.R, P.AB, P.AB15, P.ABS, P.NAV_R, P.NAV_AB, P.NAV_AB15, P.NAV_ABS,
    }  # fmt: skip


def test_without_an_arrival_the_nav_populations_stay_empty() -> None:
    assert not {p for p in pops(answered("c", 1 * S)) if p.value.startswith("nav.")}


def test_parameters_are_exact_milliseconds() -> None:
    assert Params.of(threshold_s=0.1).threshold_ms == 100
    assert Params.of(threshold_s="15").threshold_s == "15"
    assert Params.of(short_abandon_s="2.5").short_abandon_s == "2.5"
    with pytest.raises(MetricsError):
        Params.of(threshold_s="0.0005")
    with pytest.raises(MetricsError):
        Params.of(short_abandon_s=-1)
    with pytest.raises(MetricsError):
        Params.of(threshold_s="fifteen")


def test_a_call_the_pbx_cut_off_counts_as_what_it_was_when_cut() -> None:
    talking = replace(answered("c", 9_000), end_reason=EndReason.PBX_DOWN)
    assert pops(talking) == {P.R, P.A, P.A15}
    v = verdict(talking)
    assert any("PBX went down" in line and "cut_by_pbx" in line for line in v.en)
    waiting = replace(abandoned("w", 40_000), end_reason=EndReason.PBX_DOWN)
    v = classify(waiting, DEFAULT)
    assert (set(v.populations), v.lost_by) == ({P.R, P.L}, "pbx_down")
    in_the_menus = replace(ivr_only("i"), end_reason=EndReason.PBX_DOWN)
    assert classify(in_the_menus, DEFAULT).excluded is Exclusion.NO_REQUEST


def test_a_call_whose_pbx_was_lost_counts_as_one_it_cut_off_and_says_so() -> None:
    talking = replace(answered("c", 9_000), end_reason=EndReason.PBX_LOST)
    assert pops(talking) == {P.R, P.A, P.A15}
    v = verdict(talking)
    assert any("PBX was lost" in line and "cut_by_pbx" in line for line in v.en)
    assert any("交换机失联" in line for line in v.zh)
    waiting = replace(abandoned("w", 40_000), end_reason=EndReason.PBX_LOST)
    v = verdict(waiting)
    assert (set(v.populations), v.lost_by) == ({P.R, P.L}, "pbx_lost")
    assert any("PBX was lost" in line for line in v.en)
    in_the_menus = replace(ivr_only("i"), end_reason=EndReason.PBX_LOST)
    assert classify(in_the_menus, DEFAULT).excluded is Exclusion.NO_REQUEST


def test_a_wait_to_the_second_near_the_threshold_says_the_verdict_could_flip() -> None:
    v = verdict(answered("c", 15 * S, precision=Precision.SECOND))
    assert any("could go the other way" in line for line in v.en)
    assert any("A15" in line and "not the counts" in line for line in v.en)
    v = verdict(answered("c", 9 * S, precision=Precision.SECOND))
    assert not any("could go the other way" in line for line in v.en)
