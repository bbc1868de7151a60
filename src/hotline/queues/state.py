"""Who waits in which queue and who talks: the queues reducer (pure).

::

    queues = Queues.from_status(status.events, channels.events, now=clock_ms)  # on (re)connect
    for event in events:
        for effect in queues.apply(event):     # QueueChanged(view): publish to the wallboard
            live.publish_queue(effect.view)
    problems = diff(queues, Queues.from_status(fresh_status, fresh_channels, now=clock_ms))

Per queue: the callers waiting (in position order; ``since`` from QueueCallerJoin's
Timestamp), the callers bridged to an agent (AgentConnect until AgentComplete or their
Hangup), and the parameters of the last QueueStatus (``QueueParams``). Asterisk renumbers
positions when a caller leaves; so do we, positions are the order of ``waiting``.

Asterisk's own view: QueueStatus's QueueEntry items are the waiting callers; a caller in
``Queue()`` who is bridged shows in CoreShowChannels as ``Application: Queue`` with a
``BridgeId`` (its ``ApplicationData`` starts with the queue name). List items carry no
Timestamp: ``now`` is the controller's clock, and QueueEntry's ``Wait`` is whole seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from hotline.ami.message import Message
from hotline.ami.timestamps import event_time

__all__ = ["QueueChanged", "QueueParams", "QueueView", "Queues", "Waiting", "diff"]


@dataclass(frozen=True, slots=True)
class QueueParams:
    """QueueStatus's ``QueueParams`` item (Asterisk's counters: for display, not metrics)."""

    strategy: str = ""  # Strategy
    max: int = 0  # Max (0 = unlimited)
    service_level: int = 0  # ServiceLevel (s)
    calls: int = 0  # Calls: waiting now
    holdtime: int = 0  # Holdtime (s, Asterisk's running average)
    talktime: int = 0  # TalkTime
    completed: int = 0  # Completed
    abandoned: int = 0  # Abandoned (counts timeouts too: docs/platform.md)
    servicelevel_perf: float = 0.0  # ServicelevelPerf
    servicelevel_perf2: float = 0.0  # ServicelevelPerf2
    weight: int = 0  # Weight

    @classmethod
    def from_event(cls, e: Message) -> QueueParams:
        return cls(
            strategy=e.get("Strategy") or "",
            max=_int(e.get("Max")),
            service_level=_int(e.get("ServiceLevel")),
            calls=_int(e.get("Calls")),
            holdtime=_int(e.get("Holdtime")),
            talktime=_int(e.get("TalkTime")),
            completed=_int(e.get("Completed")),
            abandoned=_int(e.get("Abandoned")),
            servicelevel_perf=_float(e.get("ServicelevelPerf")),
            servicelevel_perf2=_float(e.get("ServicelevelPerf2")),
            weight=_int(e.get("Weight")),
        )


@dataclass(frozen=True, slots=True)
class Waiting:
    """A caller waiting in a queue; its position is its index in ``QueueView.waiting`` + 1."""

    uniqueid: str
    since: int  # ms: QueueCallerJoin's Timestamp (resync: now - Wait, to the second)
    caller: str = ""  # CallerIDNum


@dataclass(frozen=True, slots=True)
class QueueView:
    name: str
    waiting: tuple[Waiting, ...] = ()
    talking: tuple[str, ...] = ()  # callers' Uniqueids bridged to an agent, in connect order
    params: QueueParams | None = None

    def longest_wait(self, now: int) -> int:
        """ms the first caller has waited (0 if nobody waits)."""
        return max(0, now - self.waiting[0].since) if self.waiting else 0


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """The queue's view after a change: publish it."""

    view: QueueView


@dataclass(slots=True)
class _Queue:
    name: str
    waiting: list[Waiting] = field(default_factory=list)
    talking: dict[str, None] = field(default_factory=dict)  # ordered set
    params: QueueParams | None = None

    def view(self) -> QueueView:
        return QueueView(self.name, tuple(self.waiting), tuple(self.talking), self.params)

    def position(self, uid: str) -> int:
        for i, w in enumerate(self.waiting):
            if w.uniqueid == uid:
                return i
        return -1


class Queues:
    """Every queue seen (in QueueStatus or in an event), with its waiting and talking callers."""

    def __init__(self) -> None:
        self.now = 0
        """The last good event Timestamp (ms)."""
        self._queues: dict[str, _Queue] = {}
        self._talking_in: dict[str, str] = {}  # caller uid -> queue, for its Hangup

    def _queue(self, name: str) -> _Queue:
        q = self._queues.get(name)
        if q is None:
            q = self._queues[name] = _Queue(name)
        return q

    # -- reading -----------------------------------------------------------------------------

    def view(self, name: str) -> QueueView | None:
        q = self._queues.get(name)
        return q.view() if q is not None else None

    def views(self) -> dict[str, QueueView]:
        return {name: q.view() for name, q in sorted(self._queues.items())}

    def waiting_in(self, name: str) -> int:
        q = self._queues.get(name)
        return len(q.waiting) if q is not None else 0

    # -- events ------------------------------------------------------------------------------

    def apply(self, event: Message) -> list[QueueChanged]:
        """Fold one AMI event in; return a QueueChanged per queue that changed."""
        handler = _EVENTS.get(event.name)
        if handler is None:
            return []
        t = self.now = event_time(event, self.now)
        changed = handler(self, event, t)
        return [QueueChanged(changed.view())] if changed is not None else []

    def _join(self, e: Message, t: int) -> _Queue | None:
        uid = e.get("Uniqueid") or ""
        q = self._queue(e.get("Queue") or "")
        if not uid or q.position(uid) >= 0:
            return None
        # Position is where Asterisk put the caller (priorities can put it ahead)
        at = min(max(_int(e.get("Position"), len(q.waiting) + 1) - 1, 0), len(q.waiting))
        q.waiting.insert(at, Waiting(uid, t, e.get("CallerIDNum") or ""))
        return q

    def _leave(self, e: Message, t: int) -> _Queue | None:
        q = self._queues.get(e.get("Queue") or "")
        if q is None:
            return None
        i = q.position(e.get("Uniqueid") or "")
        if i < 0:
            return None
        del q.waiting[i]
        return q

    def _connect(self, e: Message, t: int) -> _Queue | None:
        uid = e.get("Uniqueid") or ""
        q = self._queue(e.get("Queue") or "")
        if not uid or uid in q.talking:
            return None
        i = q.position(uid)
        if i >= 0:  # QueueCallerLeave comes first; this is for a missed one
            del q.waiting[i]
        q.talking[uid] = None
        self._talking_in[uid] = q.name
        return q

    def _complete(self, e: Message, t: int) -> _Queue | None:
        return self._untalk(e.get("Uniqueid") or "")

    def _untalk(self, uid: str) -> _Queue | None:
        name = self._talking_in.pop(uid, None)
        q = self._queues.get(name) if name is not None else None
        if q is None or uid not in q.talking:
            return None
        del q.talking[uid]
        return q

    def _hangup(self, e: Message, t: int) -> _Queue | None:
        # a caller's Hangup always follows AgentComplete/QueueCallerLeave (observed); this
        # only cleans up after missed events
        return self._untalk(e.get("Uniqueid") or "")

    def _params(self, e: Message, t: int) -> _Queue | None:
        q = self._queue(e.get("Queue") or "")
        params = QueueParams.from_event(e)
        if params == q.params:
            return None
        q.params = params
        return q

    def calls_gone(self, uids: Iterable[str]) -> list[QueueChanged]:
        """These callers left without a word (their PBX was lost): off every queue."""
        gone = set(uids)
        changed: dict[str, _Queue] = {}
        for q in self._queues.values():
            waiting = [w for w in q.waiting if w.uniqueid not in gone]
            if len(waiting) != len(q.waiting):
                q.waiting = waiting
                changed[q.name] = q
        for uid in gone:
            q2 = self._untalk(uid)
            if q2 is not None:
                changed[q2.name] = q2
        return [QueueChanged(q.view()) for _, q in sorted(changed.items())]

    # -- resync ------------------------------------------------------------------------------

    @classmethod
    def from_status(
        cls, queue_status: Iterable[Message], channels: Iterable[Message] = (), *, now: int
    ) -> Queues:
        """Asterisk's view: QueueStatus items (QueueParams, QueueEntry; others skipped) and
        CoreShowChannels items (bridged callers in Queue()); ``now`` is the clock in ms."""
        model = cls()
        model.now = now
        entries = []
        for e in queue_status:
            if e.name == "QueueParams":
                model._queue(e.get("Queue") or "").params = QueueParams.from_event(e)
            elif e.name == "QueueEntry":
                entries.append(e)
        entries.sort(key=lambda e: (e.get("Queue") or "", _int(e.get("Position"))))
        for e in entries:
            since = now - _int(e.get("Wait")) * 1000
            model._queue(e.get("Queue") or "").waiting.append(
                Waiting(e.get("Uniqueid") or "", since, e.get("CallerIDNum") or "")
            )
        for ch in channels:
            if ch.name == "CoreShowChannel" and ch.get("Application") == "Queue":
                uid = ch.get("Uniqueid") or ""
                if ch.get("BridgeId") and uid:
                    q = model._queue((ch.get("ApplicationData") or "").split(",", 1)[0])
                    q.talking[uid] = None
                    model._talking_in[uid] = q.name
        return model

    def resync(
        self, queue_status: Iterable[Message], channels: Iterable[Message] = (), *, now: int
    ) -> list[QueueChanged]:
        """Replace the model by Asterisk's view; a QueueChanged for every queue that differs."""
        fresh = Queues.from_status(queue_status, channels, now=now)
        before = self.views()
        self._queues, self._talking_in = fresh._queues, fresh._talking_in
        self.now = max(self.now, now)
        return [
            QueueChanged(view)
            for name, view in self.views().items()
            if not _same(before.get(name), view)
        ]


def _same(a: QueueView | None, b: QueueView) -> bool:
    return a is not None and (a.waiting, a.talking, a.params) == (b.waiting, b.talking, b.params)


def diff(ours: Queues, theirs: Queues) -> list[str]:
    """What differs between two models, usually ours and :meth:`Queues.from_status`'s.

    Compares who waits (in order) and who talks in each queue; not ``since`` (Asterisk
    gives whole seconds) nor the counters. Empty means equal.
    """
    a, b = ours.views(), theirs.views()
    problems = []
    for name in sorted(a.keys() | b.keys()):
        va, vb = a.get(name) or QueueView(name), b.get(name) or QueueView(name)
        wa = [w.uniqueid for w in va.waiting]
        wb = [w.uniqueid for w in vb.waiting]
        if wa != wb:
            problems.append(f"{name}: waiting {wa} != {wb}")
        if sorted(va.talking) != sorted(vb.talking):
            problems.append(f"{name}: talking {sorted(va.talking)} != {sorted(vb.talking)}")
    return problems


def _int(value: str | None, default: int = 0) -> int:
    return int(value) if value and value.isdecimal() else default


def _float(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


_EVENTS = {
    "QueueCallerJoin": Queues._join,
    "QueueCallerLeave": Queues._leave,
    "AgentConnect": Queues._connect,
    "AgentComplete": Queues._complete,
    "Hangup": Queues._hangup,
    "QueueParams": Queues._params,
}


def merged(views: Sequence[QueueView]) -> QueueView:
    """One queue as the centre sees it over several PBXs (the same name on each): every
    PBX's waiting callers in order of arrival, every talking caller, the first view's
    parameters (the default PBX's, given first)."""
    waiting = tuple(sorted((w for v in views for w in v.waiting), key=lambda w: w.since))
    talking = tuple(uid for v in views for uid in v.talking)
    params = next((v.params for v in views if v.params is not None), None)
    return QueueView(views[0].name, waiting, talking, params)


class CentreQueues:
    """The queues of every PBX a controller follows, read as one: :func:`merged` views of
    the reducers ``parts()`` returns (the default PBX's first)."""

    def __init__(self, parts: Callable[[], Sequence[Queues]]) -> None:
        self.parts = parts

    def view(self, name: str) -> QueueView | None:
        views = [v for q in self.parts() if (v := q.view(name)) is not None]
        if len(views) <= 1:  # one PBX (or none seen): its view as it is, nothing to sort
            return views[0] if views else None
        return merged(views)

    def views(self) -> dict[str, QueueView]:
        names = sorted({name for q in self.parts() for name in q.views()})
        return {name: view for name in names if (view := self.view(name)) is not None}
