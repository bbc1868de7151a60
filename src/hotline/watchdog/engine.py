"""The watchdog: one engine for the live controller and the retrospective audit (pure).

    watchdog = Watchdog(center.watchdog, center)
    for item in journal_entries_and_call_records:     # time order
        alerts = watchdog.feed(item)                  # AgentChange | Resynced | CallRecord
    alerts = watchdog.tick(now)                        # about once a second while nothing happens
    watchdog.alerts()                                  # every alert, latest version
    watchdog.escalation(alert, now)                    # the escalation steps due by now

``feed`` of a journal entry first moves the clock to its time (firing what fell due), then
folds it in. A call record (complete, or in progress from the live calls reducer: feed each
new version) does not move the clock. ``feed`` and ``tick`` return the alerts that are new
or changed; an alert keeps its ``id`` across versions and the latest one is the alert.
With ``batch`` set (the audit: only the final versions matter) they return nothing and the
alerts are made once, when :meth:`Watchdog.alerts` is asked.

Why live and audit agree: every rule's threshold crossing is computed exactly from the
state between two entries (a pause reaches 10 min at start + 10 min), and an alert carries
that time (``t_raised``), not the time someone looked. So the alerts do not depend on how
often ``tick`` is called, nor on whether a call record arrives whole or piece by piece; a
figure that depends on calls still open (a cost) is completed as their records come in.
The rules: :mod:`hotline.watchdog.rules`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections.abc import Iterable
from dataclasses import replace

from hotline.agents.roster import Roster
from hotline.agents.status import PausePolicy
from hotline.core.localtime import CHINA
from hotline.core.records import SUPERVISION_KINDS, AgentChange, CallRecord
from hotline.watchdog.alerts import Action, Alert, AlertState, Transition, transition
from hotline.watchdog.basis import Basis, Overlap, sync
from hotline.watchdog.config import WatchdogConfig
from hotline.watchdog.escalation import Step, escalation
from hotline.watchdog.evidence import MAX_WAIT_MS, CallStore
from hotline.watchdog.rules import AUTO_PAUSE, Rules
from hotline.watchdog.shifts import Shifts
from hotline.watchdog.track import Resynced, Track

__all__ = ["AUTO_PAUSE", "Item", "Watchdog"]

Item = AgentChange | Resynced | CallRecord
REFRESH_MS = 2 * 3600_000  # an alert that ended this long ago no longer changes
KEEP_MS = 26 * 3600_000  # journal, spans and calls kept this long (a shift and more)
_FOREVER = 1 << 62


class Watchdog(Rules):
    """Feed journal entries and calls in time order; read alerts."""

    def __init__(
        self,
        config: WatchdogConfig,
        center: Roster,
        *,
        tz: dt.tzinfo = CHINA,
        journal_limit: int = 200,
        batch: bool = False,
        keep_alerts: bool = True,
    ) -> None:
        self.config = config
        self.center = center
        self.tz = tz
        self.journal_limit = journal_limit
        self.batch = batch
        # the controller forgets an alert that no longer changes (its store keeps it), so a
        # month of running holds a day's alerts; a batch (the audit) keeps all to the end
        self.keep_alerts = keep_alerts
        self.policy = PausePolicy.from_reasons(center.reasons.values())
        self._reasons = {x: r for r in center.reasons.values() for x in (r.code, r.label)}
        self.now = 0
        self.calls = CallStore()
        self._tracks: dict[str, Track] = {}
        self._teams: dict[str, dict[str, int]] = {}
        self._overlaps: dict[str, Overlap] = {}
        self._shifts: dict[str, Shifts] = {}
        self._alerts: dict[str, Alert] = {}
        self._bases: dict[str, Basis] = {}  # alerts that may still change
        self._by_agent: dict[str, set[str]] = {}
        self._dirty: dict[str, Basis] = {}  # changed since their alert was last made
        self._out: dict[str, Alert] = {}  # new versions not yet handed out
        self._adopted: dict[str, tuple[AlertState, tuple[Transition, ...]]] = {}
        self._paused: set[str] = set()  # agents paused now
        self._heap: list[tuple[int, int, str, str]] = []
        self._due: dict[tuple[str, str], int] = {}
        self._seq = 0
        self._tidied = 0
        self._pruned = 0

    # -- reading -------------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        """Every alert raised, latest version, by time raised."""
        self._make()  # what it makes is still handed out by the next feed or tick
        return sorted(self._alerts.values(), key=lambda a: (a.t_raised, a.id))

    def alert(self, alert_id: str) -> Alert | None:
        self._make()
        return self._alerts.get(alert_id)

    def active(self) -> list[Alert]:
        """The alerts that may still change (their episode goes on or ended lately)."""
        self._make()
        return [self._alerts[i] for i in sorted(self._bases) if i in self._alerts]

    def adopt(self, alert_id: str, state: AlertState, history: tuple[Transition, ...]) -> None:
        """Give the alert ``alert_id``, when it is made, a lifecycle it had before.

        After a controller restart the same episode gets the same id (see ``alert_id``);
        a supervisor's acknowledgement stored then must survive the new versions.
        """
        alert = self._alerts.get(alert_id)
        if alert is not None:
            self._alerts[alert_id] = replace(alert, state=state, history=history)
        else:
            self._adopted[alert_id] = (state, history)

    def escalation(self, alert: Alert, now: int) -> list[Step]:
        """The steps due by ``now`` (the controller runs each ``Step.id`` once)."""
        team = self.center.teams.get(alert.team)
        supervisor = team.supervisor if team is not None else ""
        return escalation(alert, now, self.config.policy(alert.rule), supervisor)

    def transition(self, alert_id: str, action: Action, *, by: str, at: int, comment: str) -> Alert:
        """Acknowledge, close or reopen; later versions of the alert keep the lifecycle."""
        self._make()
        alert = transition(self._alerts[alert_id], action, by=by, at=at, comment=comment)
        self._alerts[alert_id] = alert
        return alert

    # -- input ---------------------------------------------------------------------------------

    def feed(self, item: Item) -> list[Alert]:
        """Fold in a journal entry (after ticking to its time) or a call record."""
        if isinstance(item, CallRecord):
            self._call(item)
            return self._handout()
        resync = item if isinstance(item, Resynced) else Resynced.from_note(item)
        change = item.change if isinstance(item, Resynced) else item
        if change.kind in SUPERVISION_KINDS:  # what was done about alerts: not evidence
            return self._handout()
        self._tick(change.t)
        t = change.t
        track = self._track(change.agent)
        if track.journal and track.journal[-1].t > t:  # late: keep the excerpt in order
            bisect.insort_right(track.journal, change, key=lambda c: c.t)
        else:
            track.journal.append(change)
        limits = self._limits(track.team, t)
        was_busy = self._busy(track)
        track.evaluated = min(resync.since, t) if resync is not None else max(track.evaluated, t)
        notes = track.apply(
            change,
            policy=self.policy,
            flip_ms=limits.flip_ms,
            short_ms=limits.short_talk_ms,
            resync=resync,
        )
        track.update_down(t)
        if track.paused:
            self._paused.add(track.name)
        else:
            self._paused.discard(track.name)
        self._events(track, change, notes)
        self._touch(track.name, change)
        self._advance(track, max(t, self.now))
        if track.team and self._busy(track) != was_busy:
            self._team(track, t)
        return self._handout()

    def tick(self, now: int) -> list[Alert]:
        """Fire what fell due by ``now`` (ms); the clock never goes back."""
        self._tick(now)
        return self._handout()

    def _tick(self, now: int) -> None:
        if now < self.now:
            return
        self.now = now
        while self._heap and self._heap[0][0] <= now:
            due, _, kind, name = heapq.heappop(self._heap)
            if self._due.get((kind, name)) != due:
                continue  # rescheduled since
            del self._due[(kind, name)]
            if kind == "a":
                self._advance(self._tracks[name], now)
            else:
                self._advance_team(name, now)
        if now - self._tidied >= 60_000:
            self._tidy(now)

    def _track(self, name: str) -> Track:
        track = self._tracks.get(name)
        if track is None:
            agent = self.center.agent(name)
            track = self._tracks[name] = Track(name, agent.team if agent else "")
        return track

    def _schedule(self, key: tuple[str, str], due: int | None) -> None:
        if due is None:
            self._due.pop(key, None)
        elif self._due.get(key) != due:
            self._due[key] = due
            self._seq += 1
            heapq.heappush(self._heap, (due, self._seq, *key))

    # -- alerts --------------------------------------------------------------------------------

    def _register(self, basis: Basis, t: int) -> None:
        self._bases[basis.id] = basis
        self._sync(basis, t)
        self._dirty[basis.id] = basis

    def _sync(self, basis: Basis, t: int) -> None:
        members = basis.overlap.members if basis.overlap is not None else {basis.agent}
        queues = {q for a in members if (tr := self._tracks.get(a)) for q in tr.members}
        sync(basis, self._tracks.get(basis.agent), t, queues)
        for agent in basis.agents:
            self._by_agent.setdefault(agent, set()).add(basis.id)

    def _refresh(self, basis: Basis, t: int, change: AgentChange | None = None) -> None:
        before = basis.state()
        self._sync(basis, t)
        if basis.state() != before or (change is not None and basis.covers(change)):
            self._dirty[basis.id] = basis

    def _touch(self, agent: str, change: AgentChange) -> None:
        """Bring the agent's alerts up to date after one of its entries."""
        for alert_id in sorted(self._by_agent.get(agent, ())):
            basis = self._bases.get(alert_id)
            if basis is not None:
                self._refresh(basis, change.t, change)

    def _make(self, only: Iterable[str] | None = None) -> None:
        """Make the alerts of the changed bases (``only`` those): evidence and cost now."""
        ids = sorted(self._dirty) if only is None else sorted(set(only) & self._dirty.keys())
        for alert_id in ids:
            basis = self._dirty.pop(alert_id)
            journal = self._excerpt(basis)
            alert = basis.alert(
                self.config.policy(basis.rule).severity,
                journal[: self.journal_limit],
                max(0, len(journal) - self.journal_limit),
                self.calls,
            )
            old = self._alerts.get(alert_id)
            adopted = self._adopted.pop(alert_id, None)
            if adopted is not None and old is None:
                alert = replace(alert, state=adopted[0], history=adopted[1])
            if old is not None:
                alert = alert.with_lifecycle_of(old)
                if alert == old:
                    continue
            self._alerts[alert_id] = alert
            if not self.batch:
                self._out[alert_id] = alert

    def _handout(self) -> list[Alert]:
        """The alerts new or changed since the last hand-out (none in batch mode)."""
        if self.batch:
            return []
        self._make()
        out = sorted(self._out.values(), key=lambda a: (a.t_raised, a.id))
        self._out.clear()
        return out

    def _excerpt(self, basis: Basis) -> list[AgentChange]:
        end = _FOREVER if basis.end is None else basis.end
        entries = []
        for agent in basis.agents:
            track = self._tracks.get(agent)
            if track is None:
                continue
            journal = track.journal
            i = bisect.bisect_left(journal, basis.start, key=lambda c: c.t)
            j = bisect.bisect_right(journal, end, key=lambda c: c.t)
            entries += [c for c in journal[i:j] if basis.kinds is None or c.kind in basis.kinds]
        if len(basis.agents) > 1:
            entries.sort(key=lambda c: c.t)
        return entries

    # -- calls ---------------------------------------------------------------------------------

    def _call(self, record: CallRecord) -> None:
        old = self.calls.calls.get(record.call_id)
        queues = self.calls.put(record)
        if old is not None:  # a visit it no longer has must be uncounted too
            queues |= {v.queue for v in old.visits}
        for name in sorted(self._paused):
            track = self._tracks[name]
            if track.episode is None or not queues & track.members.keys():
                continue
            # only the waiting rule reads calls: an earlier wake-up is harmless, a later one
            # would miss the crossing
            c = self._wait_crossing(track, track.episode)
            if c is not None and c <= self.now:
                self._advance(track, self.now)
            elif c is not None:
                due = self._due.get(("a", name))
                self._schedule(("a", name), c if due is None else min(due, c))
        for basis in self._bases.values():
            if basis.periods and queues & set(basis.queues) and basis.tally.call(record):
                self._dirty[basis.id] = basis

    def _tidy(self, now: int) -> None:
        """Forget what no rule can look at any more (bounded memory over a long audit)."""
        self._tidied = now
        self.calls.settle(now)
        if now - self._pruned < 3600_000:
            return
        self._pruned = now
        done = [b for b in self._bases.values() if b.end is not None and b.end < now - REFRESH_MS]
        self._make(b.id for b in done)  # their last version, while what it rests on is here
        for basis in done:
            del self._bases[basis.id]
            for agent in basis.agents:
                self._by_agent.get(agent, set()).discard(basis.id)
            if not (self.keep_alerts or self.batch) and basis.id not in self._out:
                self._alerts.pop(basis.id, None)
        # what the alerts still open may look at: their spans, and callers waiting before
        starts = [b.start - MAX_WAIT_MS for b in self._bases.values()]
        before = min([now - KEEP_MS, *starts])
        self.calls.prune(before)
        for track in self._tracks.values():
            track.forget(before)
