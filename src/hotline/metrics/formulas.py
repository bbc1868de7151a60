"""The formula registry: every published figure, named, labelled and defined (pure).

    for f in REGISTRY:
        f.id, f.label_zh(params), f.label_en(params), f.expression, f.description
    v = version(params)       # FormulaVersion: the hash of REGISTRY and params, in every report

A rate is a ratio of two sums of population counts (:class:`Term`), so anyone holding the
per-call verdicts can re-derive it; a time or a score is a statistic of one per-call
quantity over a population. The headline is the strict 人工服务15秒接通率 (docs/domain.md).

Changing a formula is never silent: the registry's hash changes, which changes the
:class:`FormulaVersion` printed in every report, and the test that pins the hash fails
until :data:`REVISION` is bumped and the change is written in docs/metrics.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum

from hotline.agents.timeline import Activity
from hotline.metrics.params import Params
from hotline.metrics.populations import Population

__all__ = [
    "BY_ID",
    "REGISTRY",
    "REVISION",
    "Formula",
    "FormulaVersion",
    "Kind",
    "Quantity",
    "Term",
    "version",
]

REVISION = 2
"""Bumped with every change of a formula; the history of changes is in docs/metrics.md."""

P = Population  # the registry below reads like the docs: P.A15, P.R


class Kind(Enum):
    RATIO = "ratio"  # Σ numerator terms / Σ denominator terms (population counts)
    MEAN = "mean"  # Σ quantity / n, over the calls of ``over`` where the quantity is known
    PERCENTILE = "percentile"  # nearest rank: the k-th smallest of n, k = ⌈p·n/100⌉
    MAX = "max"  # the n-th smallest of n
    COUNT = "count"  # how many calls of ``over`` have the quantity (value = numerator)
    TIME_SHARE = "time_share"  # Σ agent time of ``time_num`` / Σ of ``time_den`` (journal)


class Quantity(Enum):
    """A per-call quantity (integer: ms, a score, or 0/1)."""

    WAIT = "wait"  # t_answer − t_q, ms (A)
    TALK = "talk"  # talk_end − t_answer, ms (A, when the end of talk is known)
    ACW = "acw"  # after-call work after the talk, ms (A, when the journal has its end of talk)
    HANDLE = "handle"  # TALK + ACW, ms (A, when both are known)
    SURVEY = "survey"  # the survey score, 1-5 (when given)
    SATISFIED = "satisfied"  # 1 when the score is 4 or 5, else 0 (when given)
    CALLBACK = "callback"  # 1 when the caller asked to be called back
    CALLBACK_DONE = "callback_done"  # 1 when that callback is done (callbacks table), else 0
    CALLBACK_DELAY = "callback_delay"  # t_done − t_requested, ms (callbacks done)
    REPEAT = "repeat"  # 1 when the number asked for a human within N days before (known number)


@dataclass(frozen=True, slots=True)
class Term:
    population: P
    sign: int = 1


def _terms(*items: P | tuple[int, P]) -> tuple[Term, ...]:
    return tuple(Term(i[1], i[0]) if isinstance(i, tuple) else Term(i) for i in items)


@dataclass(frozen=True, slots=True)
class Formula:
    """One published figure. Labels may hold {T}, {S} and {N} (threshold, short abandon,
    repeat window), filled in from the report's parameters."""

    id: str
    zh: str
    en: str
    kind: Kind
    unit: str  # ratio (0..1), s, score, calls
    description: str
    numerator: tuple[Term, ...] = ()
    denominator: tuple[Term, ...] = ()
    quantity: Quantity | None = None
    over: P | None = None
    percentile: int | None = None
    time_num: tuple[Activity, ...] = ()
    time_den: tuple[Activity, ...] = ()

    def label_zh(self, params: Params) -> str:
        return _fill(self.zh, params)

    def label_en(self, params: Params) -> str:
        return _fill(self.en, params)

    @property
    def expression(self) -> str:
        """The definition in the docs' notation: "A15 / (R − Ab≤S)"."""
        if self.kind is Kind.RATIO:
            return f"{_sum(self.numerator)} / {_sum(self.denominator)}"
        if self.kind is Kind.TIME_SHARE:
            return f"{_times(self.time_num)} / {_times(self.time_den)} (agent time)"
        over = self.over.text if self.over else "?"
        q = self.quantity.value if self.quantity else "?"
        if self.kind is Kind.PERCENTILE:
            return f"p{self.percentile}({q}) over {over}, nearest rank"
        return f"{self.kind.value}({q}) over {over}"

    def canonical(self) -> dict[str, object]:
        return {
            "id": self.id,
            "zh": self.zh,
            "en": self.en,
            "kind": self.kind.value,
            "unit": self.unit,
            "numerator": [[t.sign, t.population.value] for t in self.numerator],
            "denominator": [[t.sign, t.population.value] for t in self.denominator],
            "quantity": self.quantity.value if self.quantity else None,
            "over": self.over.value if self.over else None,
            "percentile": self.percentile,
            "time_num": [a.value for a in self.time_num],
            "time_den": [a.value for a in self.time_den],
            "description": self.description,
        }


def _fill(text: str, params: Params) -> str:
    return (
        text.replace("{T}", params.threshold_s)
        .replace("{S}", params.short_abandon_s)
        .replace("{N}", str(params.repeat_days))
    )


def _sum(terms: tuple[Term, ...]) -> str:
    text = ""
    for i, t in enumerate(terms):
        name = t.population.text
        if i == 0:
            text = name if t.sign > 0 else f"−{name}"
        else:
            text += f" {'+' if t.sign > 0 else '−'} {name}"
    return f"({text})" if len(terms) > 1 else text


def _times(items: tuple[Activity, ...]) -> str:
    text = " + ".join(a.value for a in items)
    return f"({text})" if len(items) > 1 else text


def _ratio(
    id: str, zh: str, en: str, num: tuple[Term, ...], den: tuple[Term, ...], text: str
) -> Formula:
    return Formula(id, zh, en, Kind.RATIO, "ratio", text, num, den)


def _stat(
    id: str, zh: str, en: str, kind: Kind, q: Quantity, over: P, unit: str, text: str, p: int = 0
) -> Formula:
    return Formula(id, zh, en, kind, unit, text, quantity=q, over=over, percentile=p or None)


def _wait(id: str, zh: str, en: str, kind: Kind, p: int = 0) -> Formula:
    text = "Wait = t_answer − t_q over A (answered calls), from the first queue entry."
    return _stat(id, zh, en, kind, Quantity.WAIT, P.A, "s", text, p)


REGISTRY: tuple[Formula, ...] = (
    _ratio(
        "sl_strict", "人工服务{T}秒接通率", "{T}-second answer rate (strict)",
        _terms(P.A15), _terms(P.R, (-1, P.ABS)),
        "Headline. Calls answered by an agent within T s of first entering an agent queue, "
        "over every call that asked for a human (refusals, losses and abandons included), "
        "less the short abandons Ab≤S (none when S = 0).",
    ),
    _ratio(
        "answer_rate", "人工接通率", "human answer rate",
        _terms(P.A), _terms(P.R, (-1, P.ABS)),
        "Calls answered by an agent over the calls that asked for a human, less Ab≤S.",
    ),
    _ratio(
        "loss_rate", "呼损率", "loss rate (1 − answer rate)",
        _terms(P.R, (-1, P.ABS), (-1, P.A)), _terms(P.R, (-1, P.ABS)),
        "Calls that asked for a human and were not answered (abandons, system losses, "
        "callbacks), less Ab≤S, over R − Ab≤S: exactly 1 − 人工接通率.",
    ),
    _ratio(
        "abandon_rate", "主动放弃率", "abandon rate",
        _terms(P.AB), _terms(P.R),
        "Calls whose caller left after entering the queue (waiting, while an agent rang, or "
        "by the leave key), over R. Short abandons included.",
    ),
    _ratio(
        "system_loss_rate", "系统呼损率", "system loss rate",
        _terms(P.L), _terms(P.R),
        "Calls the system lost (queue timeout, every agent gone, refused at the door, "
        "withdrawn, out of hours after the request, a callback after one of those), over R.",
    ),
    _ratio(
        "sl_answered_only", "{T}秒接通率（仅计已接通）", "answered-only {T}-second rate",
        _terms(P.A15), _terms(P.A),
        "Asterisk's ServicelevelPerf: A15 / A. Published labelled, never as the headline: "
        "callers who gave up leave its denominator, so it can exceed the answer rate.",
    ),
    _ratio(
        "sl2", "{T}秒服务水平 SL2", "SL2 (answered or abandoned within {T} s)",
        _terms(P.A15, P.AB15), _terms(P.A, P.AB),
        "Asterisk's ServicelevelPerf2 in our populations: (A15 + Ab≤15) / (A + Ab). "
        "Asterisk itself counts per queue visit and counts timeouts as abandons.",
    ),
    _ratio(
        "nav_sl_strict", "人工服务{T}秒接通率（含导航语音）",
        "{T}-second answer rate (strict, from arrival)",
        _terms(P.NAV_A15), _terms(P.NAV_R, (-1, P.NAV_ABS)),
        "The headline with the wait measured from arrival (t_arrival, the IVR included), "
        "over the calls whose arrival is known.",
    ),
    _ratio(
        "nav_sl_answered_only", "{T}秒接通率（仅计已接通，含导航语音）",
        "answered-only {T}-second rate (from arrival)",
        _terms(P.NAV_A15), _terms(P.NAV_A),
        "nav.A15 / nav.A: answered-only, waits from arrival.",
    ),
    _ratio(
        "nav_sl2", "{T}秒服务水平 SL2（含导航语音）", "SL2 (from arrival)",
        _terms(P.NAV_A15, P.NAV_AB15), _terms(P.NAV_A, P.NAV_AB),
        "SL2 with waits from arrival.",
    ),
    _wait("asa", "平均应答速度 ASA", "ASA (mean wait to answer)", Kind.MEAN),
    _wait("asa_p50", "应答等待 P50", "wait to answer, p50", Kind.PERCENTILE, 50),
    _wait("asa_p90", "应答等待 P90", "wait to answer, p90", Kind.PERCENTILE, 90),
    _wait("asa_p99", "应答等待 P99", "wait to answer, p99", Kind.PERCENTILE, 99),
    _wait("asa_max", "最长应答等待", "longest wait to answer", Kind.MAX),
    _stat(
        "aht", "平均处理时长 AHT", "AHT (talk + after-call work)", Kind.MEAN, Quantity.HANDLE,
        P.A, "s",
        "(talk_end − t_answer) + the after-call work (话后整理) that followed, from the agent "
        "journal (AgentComplete to the end of wrap-up), over the answered calls whose end of "
        "talk is known in both the record and the journal.",
    ),
    _stat(
        "talk_mean", "平均通话时长", "mean talk time", Kind.MEAN, Quantity.TALK, P.A, "s",
        "talk_end − t_answer over the answered calls whose end of talk is known.",
    ),
    _stat(
        "acw_mean", "平均话后整理时长", "mean after-call work", Kind.MEAN, Quantity.ACW, P.A, "s",
        "After-call work after each answered call whose end of talk the journal has (0 when "
        "no wrap-up followed).",
    ),
    Formula(
        "occupancy", "坐席占用率", "occupancy", Kind.TIME_SHARE, "ratio",
        "(talk + after-call work) / (talk + after-call work + ready), agent time from the "
        "journal in the window; per agent, team or interval (agents' time is not split "
        "between queues). Pauses and breaks are in neither.",
        time_num=(Activity.TALK, Activity.ACW),
        time_den=(Activity.TALK, Activity.ACW, Activity.READY),
    ),
    _stat(
        "callbacks", "回拨登记量", "callbacks requested", Kind.COUNT, Quantity.CALLBACK, P.R,
        "calls", "Calls in R that left a number to be called back (at the offer, after a "
        "refusal or a timeout).",
    ),
    _stat(
        "callbacks_done", "回拨完成量", "callbacks completed", Kind.COUNT,
        Quantity.CALLBACK_DONE, P.R, "calls",
        "Of the callbacks requested by calls in the window, those marked done in the "
        "callbacks table (whenever that happened).",
    ),
    _stat(
        "callback_completion", "回拨完成率", "callback completion", Kind.MEAN,
        Quantity.CALLBACK_DONE, P.R, "ratio",
        "Callbacks done / callbacks requested, over the calls in the window that requested one.",
    ),
    _stat(
        "callback_delay", "平均回拨时长", "mean time to call back", Kind.MEAN,
        Quantity.CALLBACK_DELAY, P.R, "s",
        "t_done − t_requested over the callbacks done.",
    ),
    _stat(
        "survey_mean", "满意度平均分", "survey: mean score", Kind.MEAN, Quantity.SURVEY, P.R,
        "score", "Mean of the 1-5 scores the callers gave, over the calls with a score.",
    ),
    _stat(
        "survey_satisfied", "满意率（4-5分）", "survey: share of 4-5", Kind.MEAN,
        Quantity.SATISFIED, P.R, "ratio", "Scores of 4 or 5 over the calls with a score.",
    ),
    _stat(
        "repeat_rate", "重复来电率（{N}天内）", "repeat callers ({N} days)", Kind.MEAN,
        Quantity.REPEAT, P.R, "ratio",
        "Calls in R whose number had asked for a human within the N days before "
        "(t_q to t_q), over the calls in R with a known number.",
    ),
)  # fmt: skip

BY_ID: dict[str, Formula] = {f.id: f for f in REGISTRY}


@dataclass(frozen=True, slots=True)
class FormulaVersion:
    """What a report's figures mean: the registry (hashed) and the parameters."""

    id: str  # 16 hex digits of sha256(registry hash, params): changes with either
    registry: str  # sha256 of the canonical registry
    revision: int
    params: Params

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "registry_sha256": self.registry,
            "revision": self.revision,
            "params": self.params.as_dict(),
        }


def _canonical(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def registry_hash(registry: tuple[Formula, ...] = REGISTRY) -> str:
    return hashlib.sha256(_canonical([f.canonical() for f in registry])).hexdigest()


def version(params: Params, registry: tuple[Formula, ...] = REGISTRY) -> FormulaVersion:
    digest = registry_hash(registry)
    both = hashlib.sha256(_canonical([digest, REVISION, params.as_dict()])).hexdigest()
    return FormulaVersion(both[:16], digest, REVISION, params)
