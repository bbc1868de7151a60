"""One agent as the watchdog follows it from the journal (pure, mutable, engine-internal).

The journal says per queue what happened (login, pause with a reason, ...). The watchdog
needs the agent's own story: logged in or not, paused or not (paused means paused in every
queue it is in, as Asterisk routes: unpaused anywhere, it still gets calls), in a call or
not, and the pause *episodes*: a pause, with the re-pauses that follow an unpause within
``flip_ms`` (without a call between) folded in, so that flipping does not reset the clock.

:meth:`Track.apply` folds one entry in and returns :class:`Note` s saying what changed; the
engine turns them into rule checks. Time spans are kept as ``[start, end]`` lists (end
None while open) per kind: ``busy`` (示忙: paused, kind BUSY), ``break`` and ``login``.

A journal that starts with the agent already paused (the controller restarted mid-pause)
carries a resync entry; with Asterisk's ``LastPause`` (a :class:`Resynced`, or the entry's
note ``resync since=<ms>`` that :func:`resynced` writes from the agents reducer's views)
the pause counts from then, not from the restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from hotline.agents.model import AgentView
from hotline.agents.status import PauseKind, PausePolicy
from hotline.core.records import AgentChange, AgentStatus, PauseSetBy

__all__ = ["PAUSED_STATUSES", "UNREACHABLE", "Episode", "Note", "Resynced", "Track", "resynced"]

PAUSED_STATUSES = frozenset({AgentStatus.BUSY, AgentStatus.BREAK, AgentStatus.FORCED_BUSY})
"""A login whose status after it is one of these was a login of a paused member."""
UNREACHABLE = frozenset({"UNAVAILABLE", "INVALID"})
"""``device`` entries' reason (DeviceState names) for a phone Asterisk cannot reach."""
KEEP_MS = 48 * 3600_000  # spans and marks older than this are forgotten


@dataclass(frozen=True, slots=True)
class Resynced:
    """A journal entry made on a resync, with what Asterisk said of that membership.

    ``since``: QueueStatus ``LastPause`` (ms) of a paused member, else its ``LoginTime``;
    ``paused``: whether the member is paused (a resync ``login`` says it only in ``status``).
    """

    change: AgentChange
    paused: bool
    since: int

    @classmethod
    def from_note(cls, change: AgentChange) -> Resynced | None:
        """The resync an entry's note records (``resync since=<ms>[ paused]``), if any."""
        if change.kind not in ("login", "pause") or not change.note.startswith("resync"):
            return None
        found = _SINCE.search(change.note)
        if found is None:
            return None
        paused = (
            change.kind == "pause"
            or _PAUSED.search(change.note) is not None
            or change.status in PAUSED_STATUSES
        )
        return cls(change, paused, int(found.group(1)))


_SINCE = re.compile(r"\bsince=(\d+)")
_PAUSED = re.compile(r"\bpaused\b")


def resynced(changes: Iterable[AgentChange], views: Mapping[str, AgentView]) -> list[AgentChange]:
    """The reducer's resync entries with their membership's ``since`` in the note.

    For the controller, after every resync: ``entries = resynced(agents.resync(...),
    agents.views())``; journal *these* and feed them to the watchdog, so that a pause found
    on a restart counts from Asterisk's ``LastPause`` live and in any later replay of the
    stored journal (note ``resync since=1795500120000 paused``). Entries not marked
    ``resync``, or of kinds other than login and pause, pass unchanged.
    """
    out: list[AgentChange] = []
    for c in changes:
        view = views.get(c.agent)
        member = next((m for m in view.memberships if m.queue == c.queue), None) if view else None
        if c.note == "resync" and c.kind in ("login", "pause") and member is not None:
            note = f"resync since={member.since or c.t}" + (" paused" if member.paused else "")
            out.append(replace(c, note=note))
        else:
            out.append(c)
    return out


@dataclass(slots=True)
class Member:
    paused: bool = False
    reason: str = ""
    set_by: PauseSetBy | None = None
    since: int = 0
    login_t: int | None = None


@dataclass(slots=True)
class Episode:
    """A pause of one kind, flips folded in."""

    start: int
    kind: PauseKind
    reasons: list[str]
    segments: list[list[int | None]]  # the paused spans: [start, end]
    set_by: PauseSetBy | None = None
    flips: list[int] = field(default_factory=list)  # when it was re-paused
    end: int | None = None  # last unpause, while it may still be folded into
    worked: bool = False  # a call since the unpause: a re-pause starts a new episode
    at_login: bool = False  # paused when logged in (ADDMEMBER PAUSED), reason unknown
    fired: dict[str, str] = field(default_factory=dict)  # rule -> alert id

    def periods(self) -> tuple[tuple[int, int | None], ...]:
        return tuple((s[0] or 0, s[1]) for s in self.segments)


class Note(Enum):
    PAUSED = "paused"  # a new episode: Track.episode
    MERGED = "merged"  # a re-pause within flip_ms: Track.episode goes on
    UNPAUSED = "unpaused"  # the episode stopped at Track.episode.end (may be folded into)
    REASON = "reason"  # the pause reason changed, same kind
    RING_NO_ANSWER = "ring_no_answer"
    SHORT_TALK = "short_talk"  # a talk ended by the agent within short_ms
    LOGGED_IN = "logged_in"
    LOGGED_OUT = "logged_out"


class Track:
    def __init__(self, name: str, team: str) -> None:
        self.name = name
        self.team = team
        self.members: dict[str, Member] = {}
        self.talking: str | None = None
        self.talk_start = 0
        self.talk_end: int | None = None
        self.reachable = True
        self.unreachable_since: int | None = None
        self.ready_since: int | None = None
        self.down: list[int | None] | None = None  # shown ready while unreachable: [start, end]
        self.paused_since: int | None = None
        self.episode: Episode | None = None
        self.spans: dict[str, list[list[int | None]]] = {"busy": [], "break": [], "login": []}
        self.rings: list[tuple[int, int]] = []  # ring-no-answers: (t, t)
        self.shorts: list[tuple[int, int]] = []  # short agent-ended talks: (connect, complete)
        self.journal: list[AgentChange] = []
        self.fired: dict[tuple[str, int], str] = {}  # (rule, window or span start) -> alert id
        self.evaluated = 0  # time-driven rules were evaluated up to here

    # -- derived -------------------------------------------------------------------------------

    @property
    def logged_in(self) -> bool:
        return bool(self.members)

    @property
    def paused(self) -> bool:
        return bool(self.members) and all(m.paused for m in self.members.values())

    def kind(self, policy: PausePolicy) -> PauseKind:
        if not self.paused:
            return PauseKind.NONE
        last = max(self.members.values(), key=lambda m: m.since)
        return policy.kind(True, last.reason, last.set_by)

    @property
    def reason(self) -> str:
        return max(self.members.values(), key=lambda m: m.since).reason if self.members else ""

    @property
    def idle_paused_since(self) -> int | None:
        """Paused and not in a call since (None if not both)."""
        if self.paused_since is None or self.talking is not None:
            return None
        return max(self.paused_since, self.talk_end or 0)

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(sorted(self.members))

    # -- folding the journal in ----------------------------------------------------------------

    def apply(
        self,
        change: AgentChange,
        *,
        policy: PausePolicy,
        flip_ms: int,
        short_ms: int,
        resync: Resynced | None = None,
    ) -> list[Note]:
        t, kind, queue = change.t, change.kind, change.queue
        since = resync.since if resync is not None else t
        was_logged, was_paused, was_kind = self.logged_in, self.paused, self.kind(policy)
        was_reason = self.reason
        notes: list[Note] = []
        if kind == "login":
            paused = resync.paused if resync else change.status in PAUSED_STATUSES
            self.members[queue] = Member(
                paused, change.reason if paused else "", change.set_by, since, t
            )
            if change.status is AgentStatus.UNAVAILABLE and self.reachable:
                # the reducer tells the device state of a login in its status, not apart
                self.reachable, self.unreachable_since = False, t
        elif kind == "logout":
            for q in [queue] if queue else list(self.members):
                self.members.pop(q, None)
        elif kind in ("pause", "unpause"):
            targets = [queue] if queue or not self.members else list(self.members)
            for q in targets:
                m = self.members.setdefault(q, Member())
                m.paused = kind == "pause"
                m.reason = change.reason if m.paused else ""
                m.set_by = change.set_by if m.paused else None
                m.since = since
        elif kind in ("connect", "ring", "ring_no_answer") and queue:
            self.members.setdefault(queue, Member(since=t, login_t=t))  # a member we missed
        if kind == "connect":
            self.talking, self.talk_start = change.call_id, t
            if self.episode is not None and self.episode.end is not None:
                self.episode.worked = True
        elif kind == "complete" and self.talking is not None:
            if change.reason == "agent" and t - self.talk_start <= short_ms:
                self.shorts.append((self.talk_start, t))
                notes.append(Note.SHORT_TALK)
            self.talking, self.talk_end = None, t
        elif kind == "ring_no_answer":
            self.rings.append((t, t))
            notes.append(Note.RING_NO_ANSWER)
        elif kind == "device":
            reachable = change.reason not in UNREACHABLE
            if reachable != self.reachable:
                self.reachable = reachable
                self.unreachable_since = None if reachable else t
        self._transitions(
            t, since, was_logged, was_paused, was_kind, was_reason, policy, flip_ms, notes
        )
        if kind == "pause" and self.episode is not None and Note.PAUSED in notes:
            member = self.members.get(queue)
            self.episode.at_login = bool(
                member is not None and member.login_t == t and not change.reason and resync is None
            )
        return notes

    def _transitions(
        self,
        t: int,
        since: int,
        was_logged: bool,
        was_paused: bool,
        was_kind: PauseKind,
        was_reason: str,
        policy: PausePolicy,
        flip_ms: int,
        notes: list[Note],
    ) -> None:
        if not was_logged and self.logged_in:
            self.spans["login"].append([since, None])
            notes.append(Note.LOGGED_IN)
        elif was_logged and not self.logged_in:
            _close(self.spans["login"], t)
            notes.append(Note.LOGGED_OUT)
        now_kind = self.kind(policy)
        if was_paused and now_kind is not was_kind:  # unpaused, or paused as something else
            self._stop(t, was_kind)
            notes.append(Note.UNPAUSED)
            if self.paused and self.episode is not None:
                self.episode.worked = True
        if self.paused and now_kind is not was_kind:
            start = max(m.since for m in self.members.values())
            self._start(start, now_kind, flip_ms, notes)
        elif self.paused and self.reason != was_reason and self.episode is not None:
            self.episode.reasons.append(self.reason)
            notes.append(Note.REASON)
        ready = self.logged_in and not self.paused
        if ready and self.ready_since is None:
            self.ready_since = since if not was_logged else t
        elif not ready:
            self.ready_since = None

    def _stop(self, t: int, kind: PauseKind) -> None:
        if kind.value in self.spans:
            _close(self.spans[kind.value], t)
        if self.episode is not None and self.episode.end is None:
            self.episode.end = t
            _close(self.episode.segments, t)
        self.paused_since = None

    def _start(self, start: int, kind: PauseKind, flip_ms: int, notes: list[Note]) -> None:
        if kind.value in self.spans:
            self.spans[kind.value].append([start, None])
        self.paused_since = start
        ep = self.episode
        if (
            ep is not None
            and ep.end is not None
            and not ep.worked
            and ep.kind is kind
            and start - ep.end <= flip_ms
        ):
            ep.end = None
            ep.flips.append(start)
            ep.segments.append([start, None])
            if self.reason not in ep.reasons:
                ep.reasons.append(self.reason)
            notes.append(Note.MERGED)
            return
        last = max(self.members.values(), key=lambda m: m.since)
        self.episode = Episode(start, kind, [self.reason], [[start, None]], last.set_by)
        notes.append(Note.PAUSED)

    def update_down(self, t: int) -> None:
        """Keep the span of 'shown ready, phone unreachable' (rule 6) after an entry at t."""
        down = self.ready_since is not None and self.unreachable_since is not None
        if down and (self.down is None or self.down[1] is not None):
            self.down = [max(self.ready_since or 0, self.unreachable_since or 0), None]
        elif not down and self.down is not None and self.down[1] is None:
            self.down[1] = t

    def forget(self, before: int) -> None:
        """Drop spans, marks and journal entries older than ``before`` (ms)."""
        for spans in self.spans.values():
            spans[:] = [s for s in spans if s[1] is None or s[1] >= before]
        self.rings = [m for m in self.rings if m[1] >= before]
        self.shorts = [m for m in self.shorts if m[1] >= before]
        if self.journal and self.journal[0].t < before:
            self.journal = [c for c in self.journal if c.t >= before]
        self.fired = {k: v for k, v in self.fired.items() if k[1] >= before - KEEP_MS}


def _close(spans: list[list[int | None]], t: int) -> None:
    if spans and spans[-1][1] is None:
        spans[-1][1] = max(t, spans[-1][0] or 0)
