"""Asterisk's queue_log, one line at a time (pure: strings in, values out).

Usage::

    with open(path, encoding="utf-8", errors="replace") as lines:
        for item in parse_lines(lines):
            if isinstance(item, ParseProblem):
                problems.append(item)  # counted and reported, never fatal
            else:
                entries.append(item)  # a QueueLogEntry

The file form, as ``ast_queue_log()`` writes it (main/logger.c)::

    epoch|callid|queue|agent|EVENT|data1|data2|...

``epoch`` is whole seconds. ``callid`` is the caller channel's Uniqueid, or ``NONE``,
``MANAGER`` (AMI QueueAdd/QueueRemove) or ``REALTIME``; an Originate with a ChannelId gives
any text (``rec-3-300187442-i`` in our captures), so it is not checked. ``agent`` is the
MemberName with ``log_membername_as_agent = yes`` (PENALTY and RINGINUSE still log the
interface). The data is the event's own printf output joined by ``|``: its length varies by
event (none for QUEUESTART, three for ENTERQUEUE or four with ``log-caller-id-name``, six
for an ATTENDEDTRANSFER of kind LINK), and a free text with a ``|`` in it (a pause reason
typed by a person) spills into more fields: :meth:`QueueLogEntry.text` joins them back.
Nothing is stripped: Asterisk writes the fields as they are.

What is garbage (a :class:`ParseProblem`, never an exception): an empty line, control
characters (a crash can leave NUL padding), fewer than five fields, an epoch that is not
ten ASCII digits, an event that is not a word, and, when the lines carry their terminators
as a file gives them, a last line without one: Asterisk was cut off mid-write, and such a
line may look whole while missing its last fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum, StrEnum

__all__ = [
    "Event",
    "ParseProblem",
    "ProblemKind",
    "QueueLogEntry",
    "parse_line",
    "parse_lines",
]


class Event(StrEnum):
    """The queue_log events the hotline reads, spelled as app_queue.c writes them.

    The comment gives the data fields as Asterisk 22's app_queue writes them (read in its
    source and in the format strings of the Debian build we run). Times in data are whole
    seconds unless they say ms.
    """

    ENTERQUEUE = "ENTERQUEUE"  # url|callerid|origposition[|calleridname]
    CONNECT = "CONNECT"  # holdtime|member channel uniqueid|ringtime (seconds)
    COMPLETEAGENT = "COMPLETEAGENT"  # holdtime|calltime|origposition
    COMPLETECALLER = "COMPLETECALLER"  # holdtime|calltime|origposition
    ABANDON = "ABANDON"  # position|origposition|waittime
    EXITWITHTIMEOUT = "EXITWITHTIMEOUT"  # position|origposition|waittime
    EXITEMPTY = "EXITEMPTY"  # position|origposition|waittime
    EXITWITHKEY = "EXITWITHKEY"  # key|position|origposition|waittime
    WITHDRAW = "WITHDRAW"  # position|origposition|waittime|withdraw info (QueueWithdrawCaller)
    RINGNOANSWER = "RINGNOANSWER"  # ringtime ms
    RINGCANCELED = "RINGCANCELED"  # ringtime ms; only when the caller hangs up while ringing
    AGENTDUMP = "AGENTDUMP"  # (empty) the member hung up during the member announcement
    SYSCOMPAT = "SYSCOMPAT"  # (empty) answered, but the channels could not be made compatible
    TRANSFER = "TRANSFER"  # extension|context|holdtime|calltime|origposition
    BLINDTRANSFER = "BLINDTRANSFER"  # extension|context|holdtime|calltime|origposition
    # BRIDGE|bridge or APP|app or LINK|chan|chan, then holdtime|calltime|origposition
    ATTENDEDTRANSFER = "ATTENDEDTRANSFER"
    ADDMEMBER = "ADDMEMBER"  # "PAUSED" when added paused, else empty
    REMOVEMEMBER = "REMOVEMEMBER"  # (empty)
    PAUSE = "PAUSE"  # reason (free text, may be empty; "Auto-Pause" from autopause)
    UNPAUSE = "UNPAUSE"  # reason
    PAUSEALL = "PAUSEALL"  # reason; queue NONE; a PAUSE per queue of the member follows
    UNPAUSEALL = "UNPAUSEALL"  # reason; likewise
    AGENTLOGIN = "AGENTLOGIN"  # channel (app_agent_pool)
    AGENTLOGOFF = "AGENTLOGOFF"  # channel|logintime
    PENALTY = "PENALTY"  # penalty (agent field is the interface)
    RINGINUSE = "RINGINUSE"  # 0/1 (agent field is the interface)
    QUEUESTART = "QUEUESTART"  # (empty) app_queue loaded
    CONFIGRELOAD = "CONFIGRELOAD"  # (empty) queues reloaded
    # Not written by stock Asterisk (a refused caller gets no line), but by patched ones
    # (Wazo's): understood if present.
    JOINEMPTY = "JOINEMPTY"
    FULL = "FULL"
    # Ours, written by the dialplan's QueueLog() (hotline.ivr.asterisk).
    SURVEY = "SURVEY"  # score 1-5
    CALLBACK = "CALLBACK"  # the caller's number


class ProblemKind(Enum):
    """Why a line is not an entry."""

    EMPTY = "empty line"
    TRUNCATED = "last line without a newline (cut off mid-write)"
    BINARY = "control characters"
    FIELDS = "fewer than 5 fields"
    EPOCH = "epoch is not a plausible number of seconds"
    EVENT = "event is not a word"


@dataclass(frozen=True, slots=True)
class ParseProblem:
    """A line that is not an entry: where it is, why, and (the start of) its text."""

    lineno: int
    reason: ProblemKind
    text: str


@dataclass(frozen=True, slots=True)
class QueueLogEntry:
    """One queue_log line.

    Equality and hash leave out ``lineno``: the same line read twice (a second import, a
    re-read after rotation) is the same entry, which is what makes building idempotent.
    """

    t: int  # epoch seconds
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]
    lineno: int = field(default=0, compare=False)

    def at(self, index: int) -> str:
        """Data field ``index`` (0 = data1), or "" when the line is shorter."""
        return self.data[index] if 0 <= index < len(self.data) else ""

    def int_at(self, index: int) -> int | None:
        """Data field ``index`` as an integer, or None when absent or not a number."""
        value = self.at(index)
        if value.isascii() and value.isdigit():
            return int(value)
        return None

    def text(self) -> str:
        """All data fields as one text: a free-text field with ``|`` in it, rejoined."""
        return "|".join(self.data)


# Ten digits: 2001-09-09 .. 2286-11-20. A shorter number is a line spliced into another by
# an interrupted write, not a time.
_EPOCH_MIN = 1_000_000_000
_EPOCH_MAX = 9_999_999_999
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SHOWN = 120  # characters of a bad line kept in its ParseProblem


def _problem(lineno: int, reason: ProblemKind, text: str) -> ParseProblem:
    shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "…"
    return ParseProblem(lineno, reason, shown)


def parse_line(line: str, lineno: int = 0) -> QueueLogEntry | ParseProblem:
    """Parse one line (with or without its line terminator)."""
    text = line.rstrip("\r\n")
    if not text or text.isspace():
        return _problem(lineno, ProblemKind.EMPTY, text)
    # isprintable() is the fast path; it is also False for a tab, which we let through
    if not text.isprintable() and _CONTROL.search(text):
        return _problem(lineno, ProblemKind.BINARY, text)
    fields = text.split("|")
    if len(fields) < 5:
        return _problem(lineno, ProblemKind.FIELDS, text)
    epoch = fields[0]
    if not (epoch.isascii() and epoch.isdigit()) or not _EPOCH_MIN <= int(epoch) <= _EPOCH_MAX:
        return _problem(lineno, ProblemKind.EPOCH, text)
    event = fields[4]
    # a word of ASCII letters, digits and "_" (isidentifier is the fast C check of that)
    if not (event.isascii() and event.isidentifier()):
        return _problem(lineno, ProblemKind.EVENT, text)
    return QueueLogEntry(
        int(epoch), fields[1], fields[2], fields[3], event, tuple(fields[5:]), lineno
    )


def parse_lines(
    lines: Iterable[str], *, start: int = 1, terminated: bool | None = None
) -> Iterator[QueueLogEntry | ParseProblem]:
    """Parse lines, numbering them from ``start``.

    ``terminated`` says whether the lines carry their ``\\n`` (as a text file iterates
    them): then a last line without one is reported as TRUNCATED instead of parsed. By
    default it is inferred from the first line, so ``str.splitlines()`` output works too.
    """
    it = iter(lines)
    line = next(it, None)
    if line is None:
        return
    if terminated is None:
        terminated = line.endswith("\n")
    lineno = start
    while line is not None:
        following = next(it, None)
        if following is None and terminated and not line.endswith("\n"):
            yield _problem(lineno, ProblemKind.TRUNCATED, line)
        else:
            yield parse_line(line, lineno)
        line = following
        lineno += 1
