"""The populations and the per-call classification behind every figure (pure).

    v = classify(record, Params())        # a Verdict without words (fast, for reports)
    Population.A15 in v                   # answered within T
    v.excluded                            # None, or why the call is in no population

:func:`hotline.metrics.explain.verdict` adds the reasons in English and Chinese.

The rules (docs/domain.md, "Metrics"):

- A call belongs to the interval of its ``t_q`` (its first queue entry; a refusal at the
  door is a zero-length visit, so it has one too). A call that asked for a human without
  any queue visit (out of hours after the request) is placed by ``t_request``.
- R: the call asked for a human (a first queue visit, a refusal, a callback, out of hours
  after the request). Transfers and overflows between queues are one call, counted in its
  first queue, with every wait measured from ``t_q``.
- A: bridged to an agent (``t_answer``); A15: ``t_answer − t_q ≤ T`` in ms, inclusive.
- Ab: the caller left after ``t_q`` (hung up in the queue or while an agent rang, or pressed
  the leave key); Ab15 (for SL2): within T of ``t_q``; Ab≤S (short abandons): within S of
  ``t_q`` when S > 0.
- L: the system lost the call: queue timeout, every agent gone (leave-empty), refused at the
  door (no agent, queue full), withdrawn, channels incompatible, out of hours after the
  request, and a callback registered after one of those.
- A call the PBX cut off (it stopped, restarted or crashed: PBX_DOWN) counts as what it was
  when cut: answered (A, and A15 by its wait) if an agent had answered, else lost by the
  system (L); reports count these calls apart (data quality, ``cut_by_pbx``). A call whose
  PBX was lost (its AMI link down for HOTLINE_PBX_LOST_S with no word of the call's end:
  PBX_LOST) is presumed cut when the PBX was last heard and counts the same way.
- A callback chosen at the offer (no refusal, no timeout) is in R only: neither answered,
  nor abandoned, nor lost.
- Out of every population, with the reason: IVR_ONLY (never asked for a human), out of hours
  at the entry (never asked), VANISHED (the controller lost sight of it: unknown), a call
  still open (no end in the data), and a record whose answer makes no sense (answered
  before it queued; end reason answered without an answer time).
- 含导航语音 (nav.*): the same with ``t_arrival`` (entry into the IVR) instead of ``t_q``;
  unknown when the record has no ``t_arrival`` (built from queue_log alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hotline.core.records import CallRecord, EndReason, Precision
from hotline.metrics.params import Params

__all__ = [
    "ANSWERED_REASONS",
    "CUT_BY_PBX",
    "REFUSED",
    "Exclusion",
    "Population",
    "Verdict",
    "classify",
    "departure",
]


class Population(Enum):
    """The populations of docs/domain.md; the value is the key used in reports (JSON, CSV)."""

    R = "R"  # 人工服务请求: asked for a human
    A = "A"  # answered by an agent
    A15 = "A15"  # answered within T of t_q
    AB = "Ab"  # the caller abandoned after t_q
    AB15 = "Ab15"  # abandoned within T of t_q (SL2)
    ABS = "AbS"  # abandoned within S of t_q (short abandons; empty when S = 0)
    L = "L"  # system losses
    NAV_R = "nav.R"  # in R with a known arrival
    NAV_A = "nav.A"
    NAV_A15 = "nav.A15"  # answered within T of t_arrival
    NAV_AB = "nav.Ab"
    NAV_AB15 = "nav.Ab15"
    NAV_ABS = "nav.AbS"

    @property
    def text(self) -> str:
        """As the docs write it: Ab≤S, Ab≤15, nav.A15."""
        nav, _, name = self.value.rpartition(".")
        name = {"AbS": "Ab≤S", "Ab15": "Ab≤15"}.get(name, name)
        return f"{nav}.{name}" if nav else name


class Exclusion(Enum):
    """Why a call is in no population."""

    NO_REQUEST = "no_request"  # IVR_ONLY: never asked for a human
    CLOSED_AT_ENTRY = "closed_at_entry"  # out of hours before any request
    VANISHED = "vanished"  # the end is unknown
    OPEN = "open"  # no end in the data (in progress, or the log stops)
    INCONSISTENT = "inconsistent"  # the record contradicts itself


# end reasons that are the caller's own departure after t_q
_ABANDON = frozenset(
    {EndReason.ABANDONED_IN_QUEUE, EndReason.ABANDONED_RINGING, EndReason.LEFT_WITH_KEY}
)
# end reasons that are a loss by the system
_LOSS = frozenset(
    {
        EndReason.TIMEOUT,
        EndReason.LEAVE_EMPTY,
        EndReason.REFUSED_NO_AGENT,
        EndReason.REFUSED_FULL,
        EndReason.WITHDRAWN,
        EndReason.FAILED,
        EndReason.CLOSED,
        EndReason.PBX_DOWN,  # waiting or in the IVR after the request when the PBX went
        EndReason.PBX_LOST,  # the same when the PBX was lost (presumed cut)
    }
)
# end reasons of a call that was bridged to an agent
ANSWERED_REASONS = frozenset({EndReason.ANSWERED, EndReason.PBX_DOWN, EndReason.PBX_LOST})
CUT_BY_PBX = frozenset({EndReason.PBX_DOWN, EndReason.PBX_LOST})
"""End reasons of a call its PBX cut off (or was presumed to, when it was lost)."""
# visit outcomes after which a callback is the end of a loss, not the caller's choice
REFUSED = frozenset({"JOINEMPTY", "JOINUNAVAIL", "FULL"})
_LOST_VISIT = REFUSED | {"EXITWITHTIMEOUT", "EXITEMPTY"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """Where one call counts, with the times that decided it and the reasons in words."""

    call_id: str
    populations: frozenset[Population]
    excluded: Exclusion | None
    t_interval: int | None  # ms: t_q (or t_request): the interval the call belongs to
    queue: str  # the first queue: the call's queue in reports
    agent: str  # the answering agent
    wait_ms: int | None  # t_q → answer (A) or → departure (Ab)
    nav_wait_ms: int | None  # t_arrival → answer or departure
    talk_ms: int | None  # t_answer → talk_end
    lost_by: str  # for L: the end reason or visit outcome that made it a loss
    precision: Precision
    params: Params
    en: tuple[str, ...] = ()
    zh: tuple[str, ...] = ()

    def __contains__(self, population: object) -> bool:
        return population in self.populations


def departure(record: CallRecord) -> int | None:
    """When the caller left the queue (the last visit's close, else the end of the call)."""
    if record.visits and record.visits[-1].t_leave is not None:
        return record.visits[-1].t_leave
    return record.t_end


def _exclusion(record: CallRecord) -> Exclusion | None:
    reason = record.end_reason
    if reason is None:
        return Exclusion.OPEN
    if reason is EndReason.VANISHED:
        return Exclusion.VANISHED
    if reason is EndReason.IVR_ONLY:
        return Exclusion.NO_REQUEST
    if reason in CUT_BY_PBX and not record.visits and record.t_request is None:
        return Exclusion.NO_REQUEST  # cut off in the menus, before asking for a human
    if reason is EndReason.CLOSED and not record.visits and record.t_request is None:
        return Exclusion.CLOSED_AT_ENTRY
    if record.t_q is None and record.t_request is None:
        return Exclusion.INCONSISTENT  # asked for a human, but when?
    if reason is EndReason.ANSWERED and record.t_answer is None:
        return Exclusion.INCONSISTENT
    t_q = record.t_q
    if record.t_answer is not None and t_q is not None and record.t_answer < t_q:
        return Exclusion.INCONSISTENT
    return None


def classify(record: CallRecord, params: Params) -> Verdict:
    """The verdict without its words (what :func:`compute` needs, fast)."""
    excluded = _exclusion(record)
    t_q = record.t_q
    t_interval = t_q if t_q is not None else record.t_request
    answered = record.t_answer is not None and record.end_reason in ANSWERED_REASONS
    talk = None
    if answered and record.t_answer is not None and record.talk_end is not None:
        talk = record.talk_end - record.t_answer
    if excluded is not None:
        return Verdict(
            record.call_id, frozenset(), excluded, t_interval, record.first_queue,
            record.agent if answered else "", None, None, talk, "", record.precision, params,
        )  # fmt: skip
    pops = {Population.R}
    arrival = record.t_arrival
    if arrival is not None:
        pops.add(Population.NAV_R)
    wait = nav_wait = None
    lost_by = ""
    reason = record.end_reason
    moment: int | None = None
    kinds: tuple[Population, ...] = ()
    if answered:
        moment, kinds = record.t_answer, _ANSWERED
    elif reason in _ABANDON:
        moment, kinds = departure(record), _ABANDONED
    elif reason in _LOSS:
        lost_by = reason.value if reason is not None else ""
    elif reason is EndReason.CALLBACK:
        lost_by = next((v.outcome for v in record.visits if v.outcome in _LOST_VISIT), "")
    if lost_by:
        pops.add(Population.L)
    if kinds:
        pops.add(kinds[0])
        if arrival is not None:
            pops.add(_NAV[kinds[0]])
        if moment is not None and t_q is not None:
            wait = moment - t_q
            pops |= _within(wait, kinds, params)
        if moment is not None and arrival is not None:
            nav_wait = moment - arrival
            pops |= {_NAV[p] for p in _within(nav_wait, kinds, params)}
    return Verdict(
        record.call_id, frozenset(pops), None, t_interval, record.first_queue,
        record.agent if answered else "", wait, nav_wait, talk, lost_by, record.precision,
        params,
    )  # fmt: skip


_ANSWERED = (Population.A, Population.A15)
_ABANDONED = (Population.AB, Population.AB15, Population.ABS)


def _within(wait: int, kinds: tuple[Population, ...], params: Params) -> set[Population]:
    """The "within T" population of ``kinds``, and "within S" when it has one and S > 0."""
    out = set()
    if wait <= params.threshold_ms:
        out.add(kinds[1])
    if len(kinds) > 2 and params.short_abandon_ms > 0 and wait <= params.short_abandon_ms:
        out.add(kinds[2])
    return out


_NAV = {
    Population.A: Population.NAV_A,
    Population.A15: Population.NAV_A15,
    Population.AB: Population.NAV_AB,
    Population.AB15: Population.NAV_AB15,
    Population.ABS: Population.NAV_ABS,
}
