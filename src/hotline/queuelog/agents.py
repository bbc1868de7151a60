"""Agent-state journal lines from queue_log entries (pure).

Usage::

    for entry in entries:
        journal.extend(agent_changes(entry))

One entry gives zero, one or two :class:`~hotline.core.records.AgentChange` (ADDMEMBER of a
member added paused gives a login and a pause: Asterisk writes no PAUSE line for it).
Times are the entry's whole second in ms. ``status`` stays None: the visible status needs
device state, which queue_log does not have; the controller's agent reducer derives it.

Kinds, by event:

=================================  ==============================================
ADDMEMBER / AGENTLOGIN             ``login`` (+ ``pause`` if data1 is ``PAUSED``)
REMOVEMEMBER / AGENTLOGOFF         ``logout``
PAUSE / UNPAUSE                    ``pause`` / ``unpause``, reason = the text
RINGNOANSWER                       ``ring_no_answer``, reason = ring time in ms (under
                                   BUSY_RING_MS: ``ring_end``, reason ``busy``)
RINGCANCELED                       ``ring_canceled``, reason = ring time in ms
CONNECT                            ``connect``
COMPLETEAGENT / COMPLETECALLER     ``complete``, reason ``agent`` / ``caller``
TRANSFER / BLIND- / ATTENDED-      ``complete``, reason ``transfer``
AGENTDUMP                          ``dump`` (hung up on the caller before connect)
=================================  ==============================================

PAUSEALL and UNPAUSEALL give nothing: app_queue logs one (queue NONE) just before the PAUSE
or UNPAUSE it writes for each queue of the member, with the same reason (Asterisk 22; older
versions left it empty); a change for both would count every pause twice.
"""

from __future__ import annotations

from hotline.core.records import BUSY_RING_MS, AgentChange, PauseSetBy
from hotline.queuelog.parse import Event, QueueLogEntry

__all__ = ["AGENT_EVENTS", "AUTO_PAUSE", "NOT_A_CALL", "agent_changes"]

AUTO_PAUSE = "Auto-Pause"
"""The reason app_queue gives when autopause pauses a member after a ring-no-answer."""

NOT_A_CALL = frozenset({"NONE", "MANAGER", "REALTIME", ""})
"""callid values that name no call (member changes, system lines)."""

_KIND: dict[str, str] = {
    Event.ADDMEMBER: "login",
    Event.AGENTLOGIN: "login",
    Event.REMOVEMEMBER: "logout",
    Event.AGENTLOGOFF: "logout",
    Event.PAUSE: "pause",
    Event.UNPAUSE: "unpause",
    Event.RINGNOANSWER: "ring_no_answer",
    Event.RINGCANCELED: "ring_canceled",
    Event.CONNECT: "connect",
    Event.COMPLETEAGENT: "complete",
    Event.COMPLETECALLER: "complete",
    Event.TRANSFER: "complete",
    Event.BLINDTRANSFER: "complete",
    Event.ATTENDEDTRANSFER: "complete",
    Event.AGENTDUMP: "dump",
}

AGENT_EVENTS = frozenset(_KIND)
"""Events that give journal lines."""

_REASON: dict[str, str] = {
    Event.COMPLETEAGENT: "agent",
    Event.COMPLETECALLER: "caller",
    Event.TRANSFER: "transfer",
    Event.BLINDTRANSFER: "transfer",
    Event.ATTENDEDTRANSFER: "transfer",
}

# Events whose data is free text: the whole of it is the reason, ``|`` and all.
_TEXT = frozenset({Event.PAUSE, Event.UNPAUSE})
# Events whose data1 is a ring time in ms.
_RING_MS = frozenset({Event.RINGNOANSWER, Event.RINGCANCELED})


def agent_changes(entry: QueueLogEntry) -> tuple[AgentChange, ...]:
    """The journal lines ``entry`` gives (none for a line about no agent)."""
    kind = _KIND.get(entry.event)
    if kind is None or entry.agent in ("NONE", ""):
        return ()
    event = entry.event
    if event in _TEXT:
        reason = entry.text()
    elif event in _RING_MS:
        reason = entry.at(0)
        if event == Event.RINGNOANSWER and reason.isdigit() and int(reason) < BUSY_RING_MS:
            kind, reason = "ring_end", "busy"  # refused at once, not let go (BUSY_RING_MS)
    else:
        reason = _REASON.get(event, "")
    t = entry.t * 1000
    queue = "" if entry.queue == "NONE" else entry.queue
    call_id = "" if entry.callid in NOT_A_CALL or kind in ("login", "logout") else entry.callid
    set_by = PauseSetBy.SYSTEM if kind == "pause" and reason == AUTO_PAUSE else None
    change = AgentChange(
        t, entry.agent, kind, queue=queue, reason=reason, set_by=set_by, call_id=call_id
    )
    if event == Event.ADDMEMBER and entry.at(0) == "PAUSED":
        return (change, AgentChange(t, entry.agent, "pause", queue=queue))
    return (change,)
