"""Asterisk Manager Interface: the sans-I/O protocol and its values.

The asyncio client lives in :mod:`hotline.ami.client` and is not imported here, so that
importing the protocol never pulls in I/O.
"""

from hotline.ami.errors import ActionError, AMIError, ProtocolError
from hotline.ami.message import Action, EventList, Message, MessageKind
from hotline.ami.protocol import Protocol

__all__ = [
    "AMIError",
    "Action",
    "ActionError",
    "EventList",
    "Message",
    "MessageKind",
    "Protocol",
    "ProtocolError",
]
