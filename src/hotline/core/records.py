"""The records hotline keeps: one per call, one per agent state change. Pure values.

They are what the reducers (fed by AMI) and the queue_log importer produce, what the stores
persist, and what the metrics read. Times are integer milliseconds since the epoch (UTC);
a record built from queue_log alone has whole-second times and says so (``precision``).

Names follow Asterisk where there is one (EXITWITHTIMEOUT, RINGNOANSWER, MemberName).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Precision(Enum):
    MILLISECOND = "ms"  # from AMI events (timestampevents = yes)
    SECOND = "s"  # from queue_log (whole seconds)


class Source(Enum):
    AMI = "ami"
    QUEUE_LOG = "queue_log"


class EndReason(Enum):
    """How a call ended, as the hotline's rules count it (docs/domain.md, populations)."""

    ANSWERED = "answered"  # bridged to an agent (A)
    ABANDONED_IN_QUEUE = "abandoned_in_queue"  # caller hung up while waiting (Ab)
    ABANDONED_RINGING = "abandoned_ringing"  # caller hung up while an agent rang (Ab)
    TIMEOUT = "timeout"  # the queue's wait limit (EXITWITHTIMEOUT) (L)
    LEAVE_EMPTY = "leave_empty"  # every agent left while the caller waited (EXITEMPTY) (L)
    REFUSED_NO_AGENT = "refused_no_agent"  # JOINEMPTY: nobody logged in (R and L)
    REFUSED_FULL = "refused_full"  # queue FULL (R and L)
    CALLBACK = "callback"  # the caller asked to be called back instead of waiting
    CLOSED = "closed"  # out of hours
    IVR_ONLY = "ivr_only"  # hung up in the menus, never asked for a human (not in R)
    VANISHED = "vanished"  # gone while the controller was away and queue_log did not say
    LEFT_WITH_KEY = "left_with_key"  # the caller pressed a key to leave the queue (EXITWITHKEY)
    WITHDRAWN = "withdrawn"  # taken out of the queue by QueueWithdrawCaller (WITHDRAW)
    FAILED = "failed"  # answered, then dropped: channels not compatible (SYSCOMPAT) (L)
    PBX_DOWN = "pbx_down"  # cut off by the PBX stopping, restarting or crashing (A if it was
    # answered, else L; counted apart as cut_by_pbx)
    PBX_LOST = "pbx_lost"  # its PBX was lost (AMI link down HOTLINE_PBX_LOST_S, no Hangup, no
    # Shutdown): presumed cut when it was last heard; counted as PBX_DOWN, but queue_log's
    # proven end replaces it, and the PBX coming back with the call reopens it


BUSY_RING_MS = 1000
"""A ring-no-answer shorter than this was refused, not let go: the agent's phone, or
Kamailio while she talks on another PBX (its 486 reaches app_queue's RINGNOANSWER with a
ring time of 0 ms), said busy. It is journaled ``ring_end`` "busy", not ``ring_no_answer``."""


class AgentStatus(Enum):
    """What a supervisor sees (derived from membership, pause, device and call phase)."""

    LOGGED_OUT = "logged_out"  # 签出
    READY = "ready"  # 示闲
    RINGING = "ringing"  # 振铃
    TALKING = "talking"  # 通话
    WRAP_UP = "wrap_up"  # 话后整理
    BUSY = "busy"  # 示忙 (paused without a break reason, or with the 示忙 code)
    BREAK = "break"  # 小休/休息 with a reason (meal, meeting, training, toilet, ...)
    FORCED_BUSY = "forced_busy"  # 强制示忙 by a supervisor
    UNAVAILABLE = "unavailable"  # the phone is unregistered / unreachable


class PauseSetBy(Enum):
    SELF = "self"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"  # e.g. Asterisk's autopause after ring-no-answer


@dataclass(frozen=True, slots=True)
class QueueVisit:
    """One stay of a call in one queue (a transfer or overflow makes a second visit)."""

    queue: str
    t_enter: int
    position: int = 0
    t_leave: int | None = None
    outcome: str = (
        ""  # CONNECT, ABANDON, EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY, TRANSFER, JOINEMPTY, FULL
    )


@dataclass(frozen=True, slots=True)
class Ring:
    """An agent's phone ringing for the call."""

    agent: str  # MemberName
    t_start: int
    t_end: int | None = None
    answered: bool = False


@dataclass(frozen=True, slots=True)
class CallRecord:
    """Everything the hotline keeps about one citizen's call."""

    call_id: str  # the Uniqueid of the caller's channel that ran the IVR / entered the queue
    linkedid: str = ""
    caller: str = ""  # CallerIDNum
    caller_name: str = ""
    line: str = ""  # the DID (12345)
    t_arrival: int | None = None  # entered the IVR
    t_request: int | None = None
    """First asked for a human (UserEvent HotlineQueue), even if refused or offered a callback
    before entering any queue; t_q is the first actual queue entry."""
    ivr_path: str = ""  # language:1>main:2>complaint:3
    tag: str = ""  # what the caller chose (inquiry, complaint, unpaid-wages, operator, ...)
    visits: tuple[QueueVisit, ...] = ()
    rings: tuple[Ring, ...] = ()
    t_answer: int | None = None  # bridged to an agent
    agent: str = ""  # MemberName of the answering agent
    talk_end: int | None = None  # AgentComplete
    completed_by: str = ""  # "agent" or "caller" (AgentComplete Reason)
    t_end: int | None = None  # the caller's channel hung up
    end_reason: EndReason | None = None
    survey_score: int | None = None
    callback_number: str = ""
    recording: str = ""  # path prefix of the legs: <prefix>-rx.wav (caller), -tx.wav (agent)
    precision: Precision = Precision.MILLISECOND
    source: Source = Source.AMI
    notes: tuple[str, ...] = field(default=())
    """Why the record looks the way it does where that is not obvious (closed on resync, ...)."""
    twilio_sid: str = ""
    """The Twilio CallSid of a caller Twilio's IVR handed over by SIP (UserEvent
    HotlineTwilio): the key of that call's Twilio events (``hotline calls show``)."""
    pbx: str = ""
    """The PBX the call was on (its name in the settings; "" in a history written before
    PBXs were named: the site's default PBX). With ``call_id`` the call's key: a call on
    any PBX but the default has its Uniqueid qualified in ``call_id`` (``calls.namespace``)."""

    @property
    def t_q(self) -> int | None:
        """When the call first asked for a human: its first queue entry."""
        return self.visits[0].t_enter if self.visits else None

    @property
    def first_queue(self) -> str:
        return self.visits[0].queue if self.visits else ""

    @property
    def done(self) -> bool:
        return self.end_reason is not None


SUPERVISION_KINDS = frozenset(
    {"alert", "alert_acknowledge", "alert_close", "alert_reopen", "escalation", "notice",
     "transfer"}
)  # fmt: skip
"""Journal kinds that record what the watchdog and supervisors did (an alert raised or
handled, an escalation step, the IVR announcement switched, a call transferred), not an
agent's state: the
reducers and the watchdog's rules pass them by."""


@dataclass(frozen=True, slots=True)
class AgentChange:
    """One line of the append-only agent-state journal (who, when, what, why)."""

    t: int
    agent: str  # MemberName
    kind: str  # login, logout, pause, unpause, ring, ring_no_answer, connect, complete, device
    # (or one of SUPERVISION_KINDS)
    queue: str = ""
    reason: str = ""  # pause reason code, RingNoAnswer ring time, ...
    set_by: PauseSetBy | None = None
    actor: str = ""  # the supervisor or user who did it, for commands issued through hotline
    call_id: str = ""
    status: AgentStatus | None = None  # the visible status after the change
    note: str = ""  # why, where not obvious: "resync" (rebuilt from QueueStatus), ...
