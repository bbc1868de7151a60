"""What an import from queue_log stores beside what the controller already stored (pure).

    stored = merge(history.call(record.call_id), record)   # None: keep what is there

queue_log and AMI name a call by the same Uniqueid, so an import meets the controller's
records. The controller's record wins when it is finished: it has milliseconds, the IVR
(arrival, path, tag), refusals at the door and the recording, all of which queue_log lacks.
The imported record is stored when there is none, when the stored one is itself from
queue_log (a second import: the same record, so importing twice changes nothing), and when
the controller's is open or VANISHED (it lost sight of the call), or PBX_LOST (it lost the
call's PBX, and queue_log proves how the call ended): then it keeps what only the
controller knew (arrival, request time, IVR path, tag, line, recording) with a note.
"""

from __future__ import annotations

from dataclasses import replace

from hotline.core.records import CallRecord, EndReason, Source

__all__ = ["COMPLETED_NOTE", "merge"]

COMPLETED_NOTE = "completed from queue_log: the controller did not see the end"
_UNKNOWN_END = (None, EndReason.VANISHED, EndReason.PBX_LOST)
_KEPT = ("linkedid", "caller_name", "line", "t_arrival", "ivr_path", "tag", "recording")


def merge(existing: CallRecord | None, imported: CallRecord) -> CallRecord | None:
    """The record to store for ``imported``, or None to keep ``existing`` as it is."""
    if existing is None:
        return imported
    if existing.end_reason is EndReason.PBX_LOST and imported.end_reason is None:
        return None  # queue_log has no end either: the presumed one stays
    if existing.source is Source.AMI and existing.end_reason not in _UNKNOWN_END:
        return None
    kept = {
        name: getattr(existing, name)
        for name in _KEPT
        if getattr(existing, name) not in (None, "") and getattr(imported, name) in (None, "")
    }
    if existing.t_request is not None and (
        imported.t_request is None or existing.t_request < imported.t_request
    ):
        kept["t_request"] = existing.t_request
    notes = imported.notes
    completed = existing.source is Source.AMI or COMPLETED_NOTE in existing.notes
    if completed and COMPLETED_NOTE not in notes:
        notes = (*notes, COMPLETED_NOTE)
    return replace(imported, notes=notes, **kept)
