"""Turn a recorded AMI byte stream into JSON-ready dicts (``hotline ami dump FILE``).

Usage::

    for record in dump_messages(Path("capture.raw").read_bytes()):
        print(json.dumps(record, ensure_ascii=False))

Each record is ``{"kind": "greeting"|"response"|"event", "offset": N, "headers": {...}}``
(headers as :meth:`Message.as_dict`: a repeated header is a list), or for a completed list
action ``{"kind": "eventlist", "action_id": ..., "response": {...}, "events": [...],
"complete": {...}}``. A :class:`~hotline.ami.errors.ProtocolError` propagates, with the byte
offset of the bad message, after the records before it have been yielded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hotline.ami.errors import ProtocolError
from hotline.ami.message import EventList, Message
from hotline.ami.protocol import Protocol

__all__ = ["dump_messages", "message_record"]


def message_record(item: Message | EventList) -> dict[str, Any]:
    """One item as a JSON-ready dict."""
    if isinstance(item, EventList):
        return {
            "kind": "eventlist",
            "action_id": item.action_id,
            "response": message_record(item.response),
            "events": [message_record(event) for event in item.events],
            "complete": message_record(item.complete),
        }
    return {"kind": item.kind.value, "offset": item.offset, "headers": item.as_dict()}


def dump_messages(data: bytes, *, max_message_size: int = 1 << 20) -> Iterator[dict[str, Any]]:
    """Yield a record per item of the capture ``data``, in stream order.

    A capture cut off mid-message simply ends: the incomplete tail is not reported.
    """
    protocol = Protocol(max_message_size=max_message_size)
    try:
        items = protocol.receive_data(data)
    except ProtocolError as exc:
        yield from (message_record(item) for item in exc.items)
        raise
    yield from (message_record(item) for item in items)
