"""A stand-in for the AMI client where a component only sends actions (no socket).

It records every action and answers as Asterisk does: ``Response: Success``, or for an
action it was told to refuse ``Response: Error``, raised as :class:`ActionFailed` the way
:meth:`hotline.ami.client.AMIClient.action` raises it. The contract test in
tests/integration/test_ami_client.py runs against both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hotline.ami.errors import ActionFailed, NotConnected
from hotline.ami.message import EventList, Message, MessageKind

Headers = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass
class StandInAMI:
    """``refuse``: action name -> Asterisk's Message for it; ``connected``: a session up."""

    refuse: dict[str, str] = field(default_factory=dict)
    connected: bool = True
    sent: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def action(self, name: str, headers: Headers = ()) -> Message | EventList:
        if not self.connected:
            raise NotConnected(f"{name}: not connected to Asterisk")
        self.sent.append((name, dict(headers)))
        if name in self.refuse:
            response = Message(
                MessageKind.RESPONSE, (("Response", "Error"), ("Message", self.refuse[name]))
            )
            raise ActionFailed(f"{name}: {self.refuse[name]}", response)
        return Message(MessageKind.RESPONSE, (("Response", "Success"),))
