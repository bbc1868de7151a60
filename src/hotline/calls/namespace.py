"""Which PBX a call is on: its key in the centre is (PBX, Uniqueid).

A centre follows several PBXs, and two Asterisks without their own ``systemname`` hand out
the same Uniqueids (``<epoch>.<n>``, counted from each start). Every id that leaves a PBX
is therefore qualified at the edge, before any reducer sees it::

    ns = Namespace("pbx2", qualified=True)
    ns.event(message)        # Uniqueid 1765100000.7 -> pbx2:1765100000.7 (Linkedid too)
    ns.entry(queue_log_line) # its callid likewise
    ns.record(record)        # the call's PBX stamped on the record

The default PBX (the first in ``Settings.pbx_links``) is not qualified: a one-PBX site
keeps the bare Uniqueids it always stored, and its recordings, transcripts and links stay
valid. Its records still carry its name in ``pbx``. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hotline.ami.message import Message
from hotline.core.records import CallRecord
from hotline.queuelog.parse import QueueLogEntry

SEPARATOR = ":"
"""Between the PBX's name and the Uniqueid; never in a Uniqueid, and safe in a URL path."""

ID_HEADERS = frozenset({"uniqueid", "linkedid", "destuniqueid", "destlinkedid"})
"""The headers that hold a channel's ids (lower case); names as Asterisk spells them."""


@dataclass(frozen=True, slots=True)
class Namespace:
    """The ids of one PBX as the centre knows them."""

    pbx: str
    qualified: bool = False

    def call_id(self, uniqueid: str) -> str:
        """The centre's id of this PBX's channel ``uniqueid``."""
        if not self.qualified or not uniqueid:
            return uniqueid
        return f"{self.pbx}{SEPARATOR}{uniqueid}"

    def uniqueid(self, call_id: str) -> str:
        """Back to the PBX's own Uniqueid (for an action sent to that PBX)."""
        prefix = f"{self.pbx}{SEPARATOR}"
        if self.qualified and call_id.startswith(prefix):
            return call_id[len(prefix) :]
        return call_id

    def owns(self, call_id: str) -> bool:
        """Whether ``call_id`` is one of this PBX's calls (by its form only)."""
        if self.qualified:
            return call_id.startswith(f"{self.pbx}{SEPARATOR}")
        return SEPARATOR not in call_id

    def event(self, message: Message) -> Message:
        """``message`` with its channel ids qualified (the same message if nothing to do)."""
        if not self.qualified:
            return message
        headers = message.headers
        if not any(key.lower() in ID_HEADERS for key, _ in headers):
            return message
        renamed = tuple(
            (key, self.call_id(value) if key.lower() in ID_HEADERS else value)
            for key, value in headers
        )
        return Message(message.kind, renamed, message.offset)

    def entry(self, entry: QueueLogEntry) -> QueueLogEntry:
        """A queue_log line with its callid qualified ("NONE" lines stay as they are)."""
        if not self.qualified or entry.callid in ("", "NONE"):
            return entry
        return replace(entry, callid=self.call_id(entry.callid))

    def record(self, record: CallRecord) -> CallRecord:
        """``record`` marked as this PBX's call."""
        if record.pbx == self.pbx:
            return record
        return replace(record, pbx=self.pbx)
