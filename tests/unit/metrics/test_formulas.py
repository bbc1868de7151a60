"""The registry's figures on a small known set equal the values computed by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hotline.core.records import CallRecord
from hotline.metrics import BY_ID, REGISTRY, Params, compute, version
from hotline.metrics.formulas import REVISION, Kind, registry_hash
from hotline.metrics.populations import Population

from .calls import (
    DAY,
    HOUR,
    T0,
    S,
    abandoned,
    answered,
    callback_at_offer,
    ivr_only,
    refused,
    timed_out,
)

P = Population


def known_set() -> list[CallRecord]:
    """Ten calls; by hand (T = 15 s, S = 0): R 9, A 4, A15 3, Ab 2, Ab≤15 1, L 2."""
    return [
        answered("a1", 5 * S, talk=30 * S, survey=5, caller="13800000001"),
        answered("a2", 14_999, talk=60 * S, survey=4, caller="13800000002"),
        answered("a3", 15_000, talk=90 * S, survey=2, caller="13800000003"),
        answered("a4", 40 * S, talk=None, caller="13800000004"),
        abandoned("b1", 3 * S, t_q=T0 + HOUR, caller="13800000001"),  # a1's number again
        abandoned("b2", 20 * S, ringing=True, caller="13800000005"),
        timed_out("l1"),  # 13800000003: a3's number, a repeat
        refused("l2"),  # 13800000004: a4's number, a repeat
        callback_at_offer("c1"),  # no number
        ivr_only("i1"),  # out of R
        answered("old", 5 * S, t_q=T0 - 8 * DAY, caller="13800000002"),  # before the window
    ]


def figures(params: Params) -> dict[str, tuple[float | None, int | None, int | None]]:
    report = compute(known_set(), params, since=T0 - HOUR, until=T0 + DAY)
    return {k: (f.value, f.numerator, f.denominator) for k, f in report.total.figures.items()}


def test_counts_by_hand() -> None:
    report = compute(known_set(), since=T0 - HOUR, until=T0 + DAY)
    counts = {p: n for p, n in report.total.counts.items() if n}
    assert counts == {P.R: 9, P.A: 4, P.A15: 3, P.AB: 2, P.AB15: 1, P.L: 2}
    assert report.quality.calls == 10  # the old call is outside the window
    assert report.quality.counted == 9


def test_rates_by_hand_with_s_zero() -> None:
    f = figures(Params())
    assert f["sl_strict"] == (pytest.approx(3 / 9), 3, 9)
    assert f["answer_rate"] == (pytest.approx(4 / 9), 4, 9)
    assert f["loss_rate"] == (pytest.approx(5 / 9), 5, 9)
    assert f["abandon_rate"] == (pytest.approx(2 / 9), 2, 9)
    assert f["system_loss_rate"] == (pytest.approx(2 / 9), 2, 9)
    assert f["sl_answered_only"] == (pytest.approx(3 / 4), 3, 4)
    assert f["sl2"] == (pytest.approx(4 / 6), 4, 6)
    assert f["nav_sl_strict"] == (None, 0, 0)  # no arrival known: not computable


def test_rates_by_hand_with_s_five() -> None:
    f = figures(Params.of(short_abandon_s=5))  # b1 (3 s) is a short abandon
    assert f["sl_strict"] == (pytest.approx(3 / 8), 3, 8)
    assert f["answer_rate"] == (pytest.approx(4 / 8), 4, 8)
    assert f["loss_rate"] == (pytest.approx(4 / 8), 4, 8)
    assert f["abandon_rate"] == (pytest.approx(2 / 9), 2, 9)  # short abandons included


def test_times_scores_callbacks_and_repeats_by_hand() -> None:
    f = figures(Params())
    assert f["asa"] == (pytest.approx(74_999 / 4 / 1000), 74_999, 4)  # 5 + 14.999 + 15 + 40
    assert f["asa_p50"] == (14.999, 2, 4)  # nearest rank: ⌈0.5·4⌉ = 2nd smallest
    assert f["asa_p90"] == (40.0, 4, 4)
    assert f["asa_p99"] == (40.0, 4, 4)
    assert f["asa_max"] == (40.0, 4, 4)
    assert f["talk_mean"] == (60.0, 180_000, 3)  # a4's end of talk is unknown
    assert f["aht"] == (None, 0, 0)  # no journal: after-call work unknown (test_agent_time)
    assert f["callbacks"] == (1.0, 1, 9)
    assert f["survey_mean"] == (pytest.approx(11 / 3), 11, 3)
    assert f["survey_satisfied"] == (pytest.approx(2 / 3), 2, 3)
    # b1 (a1's number, 1 h later), l1 (a3's), l2 (a4's); a2's number called 8 days before
    assert f["repeat_rate"] == (pytest.approx(3 / 8), 3, 8)
    assert figures(Params(repeat_days=10))["repeat_rate"] == (pytest.approx(4 / 8), 4, 8)


def test_the_loss_rate_is_one_minus_the_answer_rate() -> None:
    for params in (Params(), Params.of(short_abandon_s=5), Params.of(threshold_s=20)):
        total = compute(known_set(), params).total.figures
        answer, loss = total["answer_rate"], total["loss_rate"]
        assert answer.denominator is not None
        assert answer.numerator is not None
        assert (loss.numerator, loss.denominator) == (
            answer.denominator - answer.numerator,
            answer.denominator,
        )


def test_answered_only_exceeds_the_answer_rate_when_callers_give_up() -> None:
    # docs/domain.md: under answered-only, callers who give up vanish from the denominator
    calls = [answered("a1", 5 * S), answered("a2", 10 * S)]
    calls += [abandoned(f"b{i}", 30 * S + i) for i in range(8)]
    f = compute(calls).total.figures
    assert f["sl_answered_only"].value == 1.0  # "100 % answered within 15 s"
    assert f["answer_rate"].value == pytest.approx(0.2)
    assert f["sl_strict"].value == pytest.approx(0.2)  # what the auditor needs to see


def test_every_formula_is_well_formed() -> None:
    assert len(BY_ID) == len(REGISTRY)
    for f in REGISTRY:
        if f.kind is Kind.RATIO:
            assert (bool(f.numerator), bool(f.denominator), f.quantity) == (True, True, None)
        elif f.kind is Kind.TIME_SHARE:
            assert (bool(f.time_num), bool(f.time_den), f.quantity) == (True, True, None)
        else:
            assert (f.quantity is None, f.over is None) == (False, False)
        assert all((f.description, f.zh, f.en))
    assert BY_ID["sl_strict"].expression == "A15 / (R − Ab≤S)"
    assert BY_ID["sl2"].expression == "(A15 + Ab≤15) / (A + Ab)"
    assert BY_ID["sl_strict"].label_zh(Params.of(threshold_s=20)) == "人工服务20秒接通率"


def test_the_registry_is_pinned_so_a_formula_change_is_recorded() -> None:
    # A formula changed? Bump REVISION, write the change in docs/metrics.md ("Changes"),
    # then pin the new hash here.
    assert (REVISION, registry_hash()) == (
        2,
        "c23a3320a343571d4d69e72ffcd94ae2bd4550a2184684068c3abf1db102d0b5",
    )


def test_the_version_changes_with_the_parameters_and_the_registry() -> None:
    base = version(Params())
    assert version(Params()) == base
    assert version(Params.of(threshold_s=20)).id != base.id
    assert version(Params.of(short_abandon_s=5)).id != base.id
    changed = (replace(REGISTRY[0], numerator=REGISTRY[1].numerator), *REGISTRY[1:])
    assert version(Params(), changed).registry != base.registry
    report = compute([answered("a", S)])
    assert report.version == base


def test_the_docs_define_every_formula_and_record_this_revision() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "metrics.md").read_text()
    missing = [f.id for f in REGISTRY if f"`{f.id}`" not in docs]
    assert missing == []
    assert f"| {REVISION} | `{registry_hash()}` |" in docs
