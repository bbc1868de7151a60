"""Reports: every registry figure per queue, agent or interval, re-derivable (pure).

    report = compute(records, Params(), by=GroupBy.HOUR, since=t0, until=t1)
    report.total.figures["sl_strict"]       # Figure(value, numerator, denominator, ...)
    report.total.counts[Population.R]
    report.groups                           # one Group per key, sorted by key
    report.quality                          # calls left out, and why; precision; notes
    report.version                          # FormulaVersion: registry hash + params

A call counts in the window and the interval of its ``t_q`` (local time, ``Params.tz``);
``records`` may hold calls from before ``since``: they are read only to find repeat callers
(pass the N days before the window). Groups: by queue, the call's first queue; by agent,
the answering agent ("(none)" holds every call not answered, so the groups still add up to
the total); by interval, the local 15 min, hour, day or month of ``t_q``.

Each figure carries its numerator and denominator: for a rate, sums of population counts;
for a mean, the sum (ms for times) and n; for a percentile, the rank k of n (nearest rank:
the k-th smallest wait, k = ⌈p·n/100⌉); for a count, the count and |over|.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hotline.core.localtime import DAY_MS
from hotline.core.records import CallRecord, Precision, Source
from hotline.metrics.agenttime import AgentData, agent_time, call_acw
from hotline.metrics.changes import Period
from hotline.metrics.formulas import FormulaVersion, Quantity, version
from hotline.metrics.params import Params
from hotline.metrics.populations import CUT_BY_PBX, Exclusion, Population, Verdict, classify
from hotline.metrics.sums import Figure, Group, Sums, WaitSet
from hotline.metrics.timefmt import GroupBy, clock, interval_key

__all__ = [
    "NO_AGENT", "CallbackState", "Figure", "Group", "Quality", "Report", "add_call",
    "add_callback", "assemble", "compute",
]  # fmt: skip

NO_AGENT = "(none)"


@dataclass(frozen=True, slots=True)
class CallbackState:
    """A row of the callbacks table: when it was requested and whether it is done."""

    call_id: str
    t_requested: int
    t_done: int | None = None  # None: not done (yet)


@dataclass(frozen=True, slots=True)
class Quality:
    """What the figures leave out or know less precisely, over the window."""

    calls: int  # records in the window (by t_q, or arrival/end for calls without one)
    counted: int  # in R
    excluded: Mapping[Exclusion, int]
    to_the_second: int  # counted calls whose times are whole seconds
    from_queue_log: int  # counted calls built from queue_log alone (refusals invisible)
    no_arrival: int  # counted calls without t_arrival: outside the nav.* figures
    no_talk_end: int  # answered calls whose end of talk is unknown: outside AHT
    no_number: int  # counted calls without a caller number: outside the repeat figure
    no_acw: int = 0  # answered calls whose end of talk is not in the journal: outside AHT
    cut_by_pbx: int = 0  # counted calls the PBX cut off (PBX_DOWN, PBX_LOST): A or L as they were


@dataclass(frozen=True, slots=True)
class Report:
    version: FormulaVersion
    by: GroupBy
    since: int | None
    until: int | None
    total: Group
    groups: tuple[Group, ...]
    quality: Quality
    notes: tuple[str, ...] = ()
    in_force: tuple[Period, ...] = ()
    """What was recorded in force over the window, period by period (metrics_changes)."""
    params_from: str = "default"  # default | recorded | command line
    waits: Mapping[str, WaitSet] = field(default_factory=dict)
    """The total's waits (ms): "answered" (to answer), "abandoned" (to leaving)."""

    @property
    def params(self) -> Params:
        return self.version.params


@dataclass(frozen=True, slots=True)
class _Call:
    """One counted call with what the figures need beside its verdict."""

    record: CallRecord
    verdict: Verdict
    repeat: int | None
    acw: int | None
    callback: CallbackState | None


def add_call(sums: Sums, c: _Call) -> None:
    """Fold one counted call into ``sums``."""
    v, record = c.verdict, c.record
    sums.counts.update(v.populations)
    if Population.A in v.populations and v.wait_ms is not None:
        sums.stat(Quantity.WAIT, v.wait_ms)
        sums.waits.add(v.wait_ms)
        if v.talk_ms is not None:
            sums.stat(Quantity.TALK, v.talk_ms)
        if c.acw is not None:
            sums.stat(Quantity.ACW, c.acw)
            if v.talk_ms is not None:
                sums.stat(Quantity.HANDLE, v.talk_ms + c.acw)
    if Population.AB in v.populations and v.wait_ms is not None:
        sums.abandons.add(v.wait_ms)
    score = record.survey_score
    if score is not None:
        sums.stat(Quantity.SURVEY, score)
        sums.stat(Quantity.SATISFIED, int(score >= 4))
    sums.stat(Quantity.CALLBACK, int(bool(record.callback_number)))
    if record.callback_number:
        add_callback(sums, c.callback)
    if c.repeat is not None:
        sums.stat(Quantity.REPEAT, c.repeat)


def add_callback(sums: Sums, callback: CallbackState | None) -> None:
    """A requested callback: done (with its delay) or not."""
    done = callback is not None and callback.t_done is not None
    sums.stat(Quantity.CALLBACK_DONE, int(done))
    if callback is not None and callback.t_done is not None:
        sums.stat(Quantity.CALLBACK_DELAY, callback.t_done - callback.t_requested)


def repeats_of(
    verdicts: Iterable[tuple[CallRecord, Verdict]], days: int, last: dict[str, int] | None = None
) -> dict[str, int]:
    """call_id → 1 if its number asked for a human within ``days`` before it, else 0.

    ``last`` (number → the time of its latest call in R) carries the earlier calls over
    when the calls come batch by batch in time order (a rollup's build); it is updated.
    """
    last = {} if last is None else last
    by_number: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for record, v in verdicts:
        if Population.R in v.populations and record.caller and v.t_interval is not None:
            by_number[record.caller].append((v.t_interval, record.call_id))
    window = days * DAY_MS
    out: dict[str, int] = {}
    for number, calls in by_number.items():
        calls.sort()
        prev = last.get(number)
        for t, call_id in calls:
            out[call_id] = int(prev is not None and prev >= t - window)
            prev = t
        last[number] = calls[-1][0]
    return out


def _key(v: Verdict, by: GroupBy, tz: str, agents: AgentData, record: CallRecord) -> str:
    if by is GroupBy.PBX:
        return record.pbx
    if by is GroupBy.QUEUE:
        return v.queue
    if by is GroupBy.AGENT:
        return v.agent or NO_AGENT
    if by is GroupBy.TEAM:
        return agents.team(v.agent) if v.agent else NO_AGENT
    assert v.t_interval is not None  # every counted call has one
    return interval_key(v.t_interval, by, tz)


def compute(
    records: Iterable[CallRecord],
    params: Params | None = None,
    *,
    by: GroupBy = GroupBy.QUEUE,
    since: int | None = None,
    until: int | None = None,
    agents: AgentData | None = None,
    callbacks: Mapping[str, CallbackState] | None = None,
    in_force: tuple[Period, ...] = (),
    params_from: str = "default",
) -> Report:
    """The report over the calls whose ``t_q`` is in [since, until) (ms; None: open).

    ``agents``: the journal (from a day before ``since``, so each agent's state at the start
    is known), pause reasons and teams, for after-call work, AHT, occupancy and ``by=team``;
    ``callbacks``: the callbacks table by call_id, for the callbacks completed;
    ``in_force``: the recorded parameters and registry over the window
    (:func:`hotline.metrics.changes.in_force`), stated in the report with ``params_from``
    (where ``params`` came from); every call is counted with ``params``.
    """
    params = params or Params()
    agents = agents or AgentData()
    callbacks = callbacks or {}
    acw = call_acw(agents)
    lo = since if since is not None else -(2**62)
    hi = until if until is not None else 2**62
    verdicts = [(r, classify(r, params)) for r in records]
    repeats = repeats_of(verdicts, params.repeat_days)
    total = Sums()
    groups: defaultdict[str, Sums] = defaultdict(Sums)
    for record, v in verdicts:
        t = placement(record, v)
        if t is None or not lo <= t < hi:
            continue
        call = tally(total, record, v, repeats, acw, callbacks)
        if call is not None:
            add_call(groups[_key(v, by, params.tz, agents, record)], call)
    return assemble(
        total, groups, params, by=by, since=since, until=until, agents=agents,
        in_force=in_force, params_from=params_from,
    )  # fmt: skip


def placement(record: CallRecord, v: Verdict) -> int | None:
    """The time that places a call in a window and an interval: t_q (or t_request); for a
    call without either, its arrival or end (it is excluded, but counted under quality)."""
    if v.t_interval is not None:
        return v.t_interval
    return record.t_arrival if record.t_arrival is not None else record.t_end


def tally(
    sums: Sums,
    record: CallRecord,
    v: Verdict,
    repeats: Mapping[str, int],
    acw: Mapping[str, int],
    callbacks: Mapping[str, CallbackState],
) -> _Call | None:
    """Count one call of the window into ``sums`` (quality included); the counted call, or
    None when it is excluded."""
    q = sums.quality
    q["calls"] += 1
    if v.excluded is not None:
        q[v.excluded.value] += 1
        return None
    answered = Population.A in v.populations
    q["counted"] += 1
    q["to_the_second"] += record.precision is Precision.SECOND
    q["from_queue_log"] += record.source is Source.QUEUE_LOG
    q["no_arrival"] += record.t_arrival is None
    q["no_talk_end"] += answered and v.talk_ms is None
    q["no_number"] += not record.caller
    q["no_acw"] += answered and record.call_id not in acw
    q["cut_by_pbx"] += record.end_reason in CUT_BY_PBX
    call = _Call(
        record, v, repeats.get(record.call_id) if record.caller else None,
        acw.get(record.call_id) if answered else None, callbacks.get(record.call_id),
    )  # fmt: skip
    add_call(sums, call)
    return call


def quality_of(q: Mapping[str, int]) -> Quality:
    return Quality(
        q.get("calls", 0), q.get("counted", 0),
        {e: q[e.value] for e in Exclusion if q.get(e.value)},
        q.get("to_the_second", 0), q.get("from_queue_log", 0), q.get("no_arrival", 0),
        q.get("no_talk_end", 0), q.get("no_number", 0), q.get("no_acw", 0),
        q.get("cut_by_pbx", 0),
    )  # fmt: skip


def assemble(
    total: Sums,
    groups: Mapping[str, Sums],
    params: Params,
    *,
    by: GroupBy,
    since: int | None,
    until: int | None,
    agents: AgentData,
    in_force: tuple[Period, ...] = (),
    params_from: str = "default",
) -> Report:
    """The report from the sums of the total and of each group (any source of sums), with
    the agents' time from the journal."""
    groups = dict(groups)
    quality = quality_of(total.quality)
    times, total.times = agent_time(agents, by, since=since, until=until, tz=params.tz)
    if by is not GroupBy.QUEUE:
        for key, spent in times.items():
            groups.setdefault(key, Sums()).times = spent
        for acc in groups.values():
            acc.times = acc.times if acc.times is not None else Counter()
    return Report(
        version(params),
        by,
        since,
        until,
        total.group("total"),
        tuple(groups[k].group(k) for k in sorted(groups)),
        quality,
        _notes(params, quality, total.counts, by) + _change_notes(params, in_force),
        in_force,
        params_from,
        {"answered": total.waits, "abandoned": total.abandons},
    )


def _notes(
    params: Params, q: Quality, counts: Mapping[Population, int], by: GroupBy
) -> tuple[str, ...]:
    notes = []
    if q.from_queue_log:
        notes.append(
            f"{q.from_queue_log} calls were built from queue_log alone: it has no line for a "
            "caller refused at the door (JOINEMPTY, FULL), so R and L are undercounted for "
            "them, and it has no arrival time (outside the 含导航语音 figures)"
        )
    if q.to_the_second:
        notes.append(f"{q.to_the_second} calls have times to the second only")
    if params.short_abandon_ms:
        notes.append(
            f"S = {params.short_abandon_s} s: {counts.get(Population.ABS, 0)} short abandons "
            "(Ab≤S) are left out of the strict denominators"
        )
    if q.no_acw:
        notes.append(
            f"{q.no_acw} answered calls have no end of talk in the agent journal (e.g. "
            "imported from queue_log): outside AHT and after-call work"
        )
    if by is GroupBy.QUEUE:
        notes.append(
            "occupancy is per agent, team or interval: agents' time is not split between "
            "queues (the total has it)"
        )
    for why, n in sorted(q.excluded.items(), key=lambda item: item[0].value):
        notes.append(f"{n} calls excluded: {why.value}")
    return tuple(notes)


def _change_notes(params: Params, periods: tuple[Period, ...]) -> tuple[str, ...]:
    notes = []
    if len(periods) > 1:
        told = "; ".join(
            f"at {clock(p.since or 0, Precision.MILLISECOND, params.tz)}: "
            f"{p.started_by.text()} by {p.started_by.by} ({p.started_by.why})"
            for p in periods[1:]
            if p.started_by is not None
        )
        notes.append(
            f"the window spans {len(periods) - 1} recorded change(s): {told}; every call here "
            f"is counted with T = {params.threshold_s} s, S = {params.short_abandon_s} s, "
            f"N = {params.repeat_days} days and the formulas of this hotline"
        )
    if periods and periods[-1].params != params:
        last = periods[-1].params
        notes.append(
            f"the parameters used (T = {params.threshold_s} s, S = {params.short_abandon_s} s, "
            f"N = {params.repeat_days}) are not those recorded in force at the end of the "
            f"window (T = {last.threshold_s} s, S = {last.short_abandon_s} s, "
            f"N = {last.repeat_days})"
        )
    return tuple(notes)
