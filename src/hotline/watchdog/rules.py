"""The rules themselves: when each one fires, and what its alert is about (pure).

:class:`Rules` is the rule half of :class:`~hotline.watchdog.engine.Watchdog` (which keeps
the state, the clock and the alerts). Two kinds of rules, in docs/domain.md's order (limits:
:class:`~hotline.watchdog.config.Thresholds`, inclusive):

- **time-driven**, each with an exact crossing time computed from the state between two
  entries, fired by ``tick`` as well as by entries: LONG_PAUSE and LONG_BREAK (the episode,
  flips folded in, reaches its limit), SHIFT_BUSY_TOTAL, SHIFT_BREAK_TOTAL and
  SHIFT_BUSY_SHARE (sums per shift window, :mod:`.spans`), PAUSED_WHILE_WAITING (a caller in
  one of the idle, paused agent's queues has waited ``wait_ms``), TEAM_PAUSED_TOGETHER,
  UNAVAILABLE_WHILE_READY;
- **event-driven**, at a journal entry: PAUSE_AFTER_RING_NO_ANSWER, PAUSE_FLIP,
  RING_NO_ANSWER_COUNT, PAUSE_NEAR_SHIFT_CHANGE, PAUSE_WITHOUT_REASON, SHORT_TALKS.

Each rule fires once per episode (pause episode, shift window, overlap, span); what comes
after updates that alert. Who is exempt: a supervisor's pause (强制示忙) from every rule;
Asterisk's Auto-Pause from "after a ring-no-answer", "without a reason" and "near a shift
change" (it is still 示忙 the agent left on); a pause the agent logged in with (ADDMEMBER
PAUSED, reason unknown) from the event-driven pause rules; breaks from the 示忙 rules (they
have their own limits); 示忙 kinds: :class:`~hotline.agents.status.PausePolicy`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from hotline.agents.roster import PauseReason, Roster
from hotline.agents.status import PauseKind, PausePolicy
from hotline.core.records import AgentChange, PauseSetBy
from hotline.watchdog.alerts import RuleId, alert_id
from hotline.watchdog.basis import PAUSE_KINDS, Basis, Overlap
from hotline.watchdog.config import Thresholds, WatchdogConfig
from hotline.watchdog.evidence import CallStore
from hotline.watchdog.shifts import Shifts, Window
from hotline.watchdog.spans import reach, share_reach
from hotline.watchdog.track import Episode, Note, Track

__all__ = ["AUTO_PAUSE", "Rules"]

AUTO_PAUSE = "Auto-Pause"  # app_queue's reason when autopause pauses a member


class Rules:
    """The rule logic; the state it reads is :class:`~hotline.watchdog.engine.Watchdog`'s."""

    config: WatchdogConfig
    center: Roster
    tz: dt.tzinfo
    policy: PausePolicy
    calls: CallStore
    _reasons: dict[str, PauseReason]
    _tracks: dict[str, Track]
    _teams: dict[str, dict[str, int]]  # team -> agent in 示忙 -> since
    _overlaps: dict[str, Overlap]  # team -> the overlap going on
    _shifts: dict[str, Shifts]
    _bases: dict[str, Basis]

    def _register(self, basis: Basis, t: int) -> None:
        raise NotImplementedError  # pragma: no cover - the engine keeps the alerts

    def _refresh(self, basis: Basis, t: int, change: AgentChange | None = None) -> None:
        raise NotImplementedError  # pragma: no cover

    def _schedule(self, key: tuple[str, str], due: int | None) -> None:
        raise NotImplementedError  # pragma: no cover

    def _shifts_of(self, team: str) -> Shifts:
        shifts = self._shifts.get(team)
        if shifts is None:
            spec = self.center.teams.get(team)
            shifts = self._shifts[team] = Shifts(spec.shifts if spec else (), self.tz)
        return shifts

    def _limits(self, team: str, t: int) -> Thresholds:
        return self.config.thresholds(team, self._shifts_of(team).at(t).name)

    def _busy(self, track: Track) -> bool:
        return track.kind(self.policy) is PauseKind.BUSY

    # -- event-driven rules --------------------------------------------------------------------

    def _events(self, track: Track, change: AgentChange, notes: list[Note]) -> None:
        t = change.t
        ep = track.episode
        if ep is not None and track.paused_since is not None and ep.kind is not PauseKind.FORCED:
            started = Note.PAUSED in notes or Note.MERGED in notes
            exempt = Note.PAUSED in notes and ep.at_login
            if (started or Note.REASON in notes) and not exempt:
                self._pause_started(track, ep, track.paused_since, started, t)
            if Note.MERGED in notes:
                limits = self._limits(track.team, ep.start)
                if len(ep.flips) >= limits.flips:
                    self._episode_alert(
                        track, ep, RuleId.PAUSE_FLIP, t, value=len(ep.flips),
                        limit=limits.flips, unit="count",
                    )  # fmt: skip
        if Note.RING_NO_ANSWER in notes:
            self._count(track, RuleId.RING_NO_ANSWER_COUNT, track.rings, t)
        if Note.SHORT_TALK in notes:
            self._count(track, RuleId.SHORT_TALKS, track.shorts, t)

    def _pause_started(self, track: Track, ep: Episode, start: int, started: bool, t: int) -> None:
        limits = self._limits(track.team, start)
        reason = track.reason
        system = ep.set_by is PauseSetBy.SYSTEM or reason == AUTO_PAUSE
        if reason not in self._reasons and reason != AUTO_PAUSE:
            self._episode_alert(
                track, ep, RuleId.PAUSE_WITHOUT_REASON, start if started else t,
                value=1, limit=1, unit="count",
                note=f"reason {reason!r}" if reason else "no reason",
            )  # fmt: skip
        if not started or system:
            return
        ring = max((r for r, _ in track.rings if r <= start), default=None)
        if ring is not None and start - ring <= limits.after_ring_ms:
            self._episode_alert(
                track, ep, RuleId.PAUSE_AFTER_RING_NO_ANSWER, start, start=ring,
                value=start - ring, limit=limits.after_ring_ms, unit="ms",
            )  # fmt: skip
        change_at = self._shifts_of(track.team).nearest_change(start)
        if (
            ep.kind is PauseKind.BUSY
            and change_at is not None
            and abs(start - change_at) <= limits.shift_change_ms
        ):
            when = dt.datetime.fromtimestamp(change_at / 1000, self.tz).strftime("%H:%M")
            self._episode_alert(
                track, ep, RuleId.PAUSE_NEAR_SHIFT_CHANGE, start, value=abs(start - change_at),
                limit=limits.shift_change_ms, unit="ms", note=f"shift change {when}",
            )  # fmt: skip

    def _count(self, track: Track, rule: RuleId, marks: list[tuple[int, int]], t: int) -> None:
        window = self._shifts_of(track.team).at(t)
        if (rule.value, window.start) in track.fired or not self.config.enabled(rule):
            return  # a fired one is brought up to date by _touch
        limits = self.config.thresholds(track.team, window.name)
        limit = (
            limits.ring_no_answers if rule is RuleId.RING_NO_ANSWER_COUNT else limits.short_talks
        )
        seen = [m for m, end in marks if window.start <= m and end <= t]
        if len(seen) < limit:
            return
        kinds = (
            frozenset({"ring_no_answer"})
            if rule is RuleId.RING_NO_ANSWER_COUNT
            else frozenset({"connect", "complete"})
        )
        basis = Basis(
            alert_id(rule, track.name, window.start), rule, track.name, track.team, seen[0], t,
            limit, "count", track.queues, agents=(track.name,), kinds=kinds,
            answer_ms=limits.answer_ms, window=window,
            marks="rings" if rule is RuleId.RING_NO_ANSWER_COUNT else "shorts",
        )  # fmt: skip
        track.fired[(rule.value, window.start)] = basis.id
        self._register(basis, t)

    def _episode_alert(
        self,
        track: Track,
        ep: Episode,
        rule: RuleId,
        t_raised: int,
        *,
        value: int,
        limit: int,
        unit: str,
        start: int | None = None,
        note: str = "",
    ) -> None:
        if rule.value in ep.fired or not self.config.enabled(rule):
            return
        start = ep.start if start is None else start
        basis = Basis(
            alert_id(rule, track.name, start), rule, track.name, track.team, start, t_raised,
            limit, unit, track.queues, value=value, agents=(track.name,), note=note,
            answer_ms=self._limits(track.team, ep.start).answer_ms, episode=ep,
        )  # fmt: skip
        ep.fired[rule.value] = basis.id
        self._register(basis, t_raised)

    # -- time-driven rules ---------------------------------------------------------------------

    def _advance(self, track: Track, upto: int) -> None:
        """Fire ``track``'s time-driven rules that crossed by ``upto``; schedule the next."""
        ahead: list[int] = []

        def consider(c: int | None, fire: Callable[[int], None]) -> None:
            if c is not None and c <= upto:
                fire(c)
            elif c is not None:
                ahead.append(c)

        ep = track.episode
        if ep is not None and ep.end is None and track.paused_since is not None:
            rule, limit = self._pause_limit(track, ep)
            if rule is not None and rule.value not in ep.fired and self.config.enabled(rule):
                consider(
                    max(ep.start + limit, track.paused_since),
                    partial(self._fire_long, track, ep, rule, limit),
                )
            consider(self._wait_crossing(track, ep), partial(self._fire_wait, track, ep))
        if track.down is not None and track.down[1] is None:
            start = track.down[0] or 0
            key = (RuleId.UNAVAILABLE_WHILE_READY.value, start)
            if key not in track.fired and self.config.enabled(RuleId.UNAVAILABLE_WHILE_READY):
                limit = self._limits(track.team, start).unavailable_ms
                consider(start + limit, partial(self._fire_down, track, track.down))
        shifts = self._shifts_of(track.team)
        for window in shifts.between(min(track.evaluated, upto), upto):
            for rule, c, limit in self._window_crossings(track, window):
                consider(c, partial(self._fire_window, track, rule, window, limit))
        if any(s and s[-1][1] is None for s in track.spans.values()):
            ahead.append(shifts.at(upto).end)  # a new shift: its sums start again
        track.evaluated = upto
        self._schedule(("a", track.name), min(ahead, default=None))

    def _fire_long(self, track: Track, ep: Episode, rule: RuleId, limit: int, c: int) -> None:
        self._episode_alert(track, ep, rule, c, value=limit, limit=limit, unit="ms")

    def _fire_wait(self, track: Track, ep: Episode, c: int) -> None:
        limit = self._limits(track.team, ep.start).wait_ms
        self._episode_alert(
            track, ep, RuleId.PAUSED_WHILE_WAITING, c, value=limit, limit=limit, unit="ms"
        )

    def _fire_down(self, track: Track, span: list[int | None], c: int) -> None:
        start = span[0] or 0
        limits = self._limits(track.team, start)
        rule = RuleId.UNAVAILABLE_WHILE_READY
        basis = Basis(
            alert_id(rule, track.name, start), rule, track.name, track.team, start, c,
            limits.unavailable_ms, "ms", track.queues, value=limits.unavailable_ms,
            agents=(track.name,), answer_ms=limits.answer_ms, span=span,
        )  # fmt: skip
        track.fired[(rule.value, start)] = basis.id
        self._register(basis, c)

    def _fire_window(self, track: Track, rule: RuleId, window: Window, limit: int, c: int) -> None:
        limits = self.config.thresholds(track.team, window.name)
        unit = "permille" if rule is RuleId.SHIFT_BUSY_SHARE else "ms"
        basis = Basis(
            alert_id(rule, track.name, window.start), rule, track.name, track.team, window.start,
            c, limit, unit, track.queues, agents=(track.name,), kinds=PAUSE_KINDS,
            answer_ms=limits.answer_ms, window=window,
        )  # fmt: skip
        track.fired[(rule.value, window.start)] = basis.id
        self._register(basis, c)

    def _pause_limit(self, track: Track, ep: Episode) -> tuple[RuleId | None, int]:
        limits = self._limits(track.team, ep.start)
        if ep.kind is PauseKind.BUSY:
            return RuleId.LONG_PAUSE, limits.busy_max_ms
        if ep.kind is PauseKind.BREAK:
            own = [
                r.max_minutes * 60_000
                for x in ep.reasons
                if (r := self._reasons.get(x)) is not None and r.max_minutes is not None
            ]
            return RuleId.LONG_BREAK, min(own, default=limits.break_max_ms)
        return None, 0

    def _wait_crossing(self, track: Track, ep: Episode) -> int | None:
        """When a caller will have waited ``wait_ms`` in a queue of the idle, paused agent."""
        rule = RuleId.PAUSED_WHILE_WAITING
        since = track.idle_paused_since
        if ep.kind is not PauseKind.BUSY or since is None or rule.value in ep.fired:
            return None
        if not self.config.enabled(rule):
            return None
        wait = self._limits(track.team, ep.start).wait_ms
        best: int | None = None
        for queue in track.members:
            for t_in, t_out in self.calls.waiting.get(queue, {}).values():
                c = max(since, t_in + wait)
                if (t_out is None or c <= t_out) and (best is None or c < best):
                    best = c
        return best

    def _window_crossings(
        self, track: Track, window: Window
    ) -> list[tuple[RuleId, int | None, int]]:
        busy, breaks, login = track.spans["busy"], track.spans["break"], track.spans["login"]
        if not any(
            (s[1] is None or s[1] > window.start) and (s[0] or 0) < window.end for s in login
        ):
            return []
        limits = self.config.thresholds(track.team, window.name)
        out: list[tuple[RuleId, int | None, int]] = []

        def wanted(rule: RuleId) -> bool:
            return (rule.value, window.start) not in track.fired and self.config.enabled(rule)

        if wanted(RuleId.SHIFT_BUSY_TOTAL):
            limit = limits.shift_busy_ms
            out.append((RuleId.SHIFT_BUSY_TOTAL, reach(busy, window, limit), limit))
        if wanted(RuleId.SHIFT_BREAK_TOTAL):
            limit = limits.shift_break_ms
            out.append((RuleId.SHIFT_BREAK_TOTAL, reach(breaks, window, limit), limit))
        if wanted(RuleId.SHIFT_BUSY_SHARE):
            permille = round(limits.shift_busy_share * 1000)
            c = share_reach(busy, login, window, permille, limits.share_after_ms)
            out.append((RuleId.SHIFT_BUSY_SHARE, c, permille))
        return out

    # -- the team rule -------------------------------------------------------------------------

    def _team(self, track: Track, t: int) -> None:
        busy = self._teams.setdefault(track.team, {})
        if self._busy(track):
            busy[track.name] = track.paused_since if track.paused_since is not None else t
        else:
            busy.pop(track.name, None)
        limits = self._limits(track.team, t)
        overlap = self._overlaps.get(track.team)
        if len(busy) >= limits.team_paused:
            if overlap is None:
                order = sorted(busy.items(), key=lambda kv: (kv[1], kv[0]))
                agent, start = order[limits.team_paused - 1]
                overlap = self._overlaps[track.team] = Overlap(start, agent, set(busy))
            overlap.members |= set(busy)
            overlap.peak = max(overlap.peak, len(busy))
        elif overlap is not None:
            overlap.end = t
            del self._overlaps[track.team]
        self._touch_team(track.team, overlap, t)
        self._advance_team(track.team, t)

    def _advance_team(self, team: str, upto: int) -> None:
        overlap = self._overlaps.get(team)
        rule = RuleId.TEAM_PAUSED_TOGETHER
        if overlap is None or overlap.basis or not self.config.enabled(rule):
            self._schedule(("t", team), None)
            return
        limits = self._limits(team, overlap.start)
        c = overlap.start + limits.team_paused_ms
        if c > upto:
            self._schedule(("t", team), c)
            return
        self._schedule(("t", team), None)
        basis = Basis(
            alert_id(rule, team, overlap.start), rule, overlap.agent, team, overlap.start, c,
            limits.team_paused, "count", (), kinds=PAUSE_KINDS, answer_ms=limits.answer_ms,
            overlap=overlap,
        )  # fmt: skip
        overlap.basis = basis.id
        self._register(basis, c)

    def _touch_team(self, team: str, overlap: Overlap | None, t: int) -> None:
        if overlap is None or not overlap.basis:
            return
        basis = self._bases.get(overlap.basis)
        if basis is not None:
            self._refresh(basis, t)
