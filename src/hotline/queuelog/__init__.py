"""Asterisk's queue_log: parse it, build call records and the agent journal, follow it.

The pure core (no I/O, no clock) and the one I/O edge:

- :mod:`~hotline.queuelog.parse`: a line → :class:`QueueLogEntry` or :class:`ParseProblem`;
- :mod:`~hotline.queuelog.calls`: one call's lines → a :class:`~hotline.core.records.CallRecord`;
- :mod:`~hotline.queuelog.agents`: a line → :class:`~hotline.core.records.AgentChange` lines;
- :mod:`~hotline.queuelog.build`: many lines → records and journal (batch, streaming, live);
- :mod:`~hotline.queuelog.counts`: per-queue counts of visit outcomes, for reconciliation;
- :mod:`~hotline.queuelog.tail` (I/O, not imported here): follow the growing file across
  rotation and truncation, by byte offset.

Usage (an import; a year is ~6 M lines, so stream it)::

    import itertools

    from hotline.queuelog import ParseProblem, iter_build, parse_lines

    problems: list[ParseProblem] = []  # garbage lines: counted and reported, never fatal

    def entries(lines):
        for item in parse_lines(lines):
            if isinstance(item, ParseProblem):
                problems.append(item)
            else:
                yield item

    def file(path):
        with open(path, encoding="utf-8", errors="replace") as lines:
            yield from entries(lines)

    # one build across the rotated files, oldest first, so a call cut by a rotation is one
    paths = ["queue_log.2", "queue_log.1", "queue_log"]
    for item in iter_build(itertools.chain.from_iterable(file(p) for p in paths)):
        store(item)  # CallRecord: upsert by call_id; AgentChange: append

What queue_log cannot tell (so an import from queue_log alone cannot either):

- **Refused at the door.** Stock Asterisk writes *no* line when Queue() refuses a caller
  (JOINEMPTY: no member logged in or reachable per ``joinempty``; FULL: ``maxlen``
  reached): queue_exec() returns before its ENTERQUEUE. Our dialplan announces those with
  ``UserEvent(HotlineQueueExit, Status: JOINEMPTY|FULL|...)`` on AMI only. What queue_log
  shows is where the dialplan sent the caller next (``when_empty`` of the flow): to the
  callback registration (``callback``) -- our CALLBACK line, read as a zero-length visit
  with outcome CALLBACK, indistinguishable from a callback taken at the offer before the
  queue; to the operator or overflow queue (``operator``, the default, or ``overflow``)
  -- a call that seems to have asked only for that queue, with its ``t_q`` at that entry
  and not at the refusal; and a caller who hangs up during the callback prompt leaves no
  line at all. So refusals are not counted as such from queue_log alone: R and L are
  undercounted and the refused queue's figures miss them; the AMI-fed controller has
  them. (A patched Asterisk that logs JOINEMPTY/FULL lines, as Wazo's does, is understood.)
- **Before the queue.** Arrival, the IVR path and the tag (what the caller chose) are
  AMI-only (UserEvent HotlineIvr); ``t_arrival`` stays None. Calls that never reached a
  queue (hung up in the menus, out of hours) are not in queue_log at all.
- **Milliseconds.** Every time is a whole second (``precision`` SECOND); a 15.4 s answer
  logs as 15 or 16 s depending on where the seconds fell.
- **Hang-up.** No line says when the caller hung up (see ``t_end`` in calls).
"""

from hotline.queuelog.agents import agent_changes
from hotline.queuelog.build import Builder, Built, build, iter_build
from hotline.queuelog.calls import call_record
from hotline.queuelog.counts import QueueCounts, counts
from hotline.queuelog.parse import (
    Event,
    ParseProblem,
    ProblemKind,
    QueueLogEntry,
    parse_line,
    parse_lines,
)

__all__ = [
    "Builder",
    "Built",
    "Event",
    "ParseProblem",
    "ProblemKind",
    "QueueCounts",
    "QueueLogEntry",
    "agent_changes",
    "build",
    "call_record",
    "counts",
    "iter_build",
    "parse_line",
    "parse_lines",
]
