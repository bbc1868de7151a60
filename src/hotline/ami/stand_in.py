"""A stand-in for the AMI client where a component only sends actions (no socket).

It records every action and answers as Asterisk does: ``Response: Success``, or for an
action it was told to refuse ``Response: Error``, raised as :class:`ActionFailed` the way
:meth:`hotline.ami.client.AMIClient.action` raises it. An ``originate`` is answered by an
OriginateResponse (``Response: Success`` with a Uniqueid), or refused like Asterisk refuses
a call the channel did not answer (``Response: Failure``, ``Reason`` 0). The contract
test in tests/integration/test_ami_client.py runs against both.
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

    async def originate(self, headers: Headers, *, timeout: float = 30.0) -> tuple[str, Message]:
        if not self.connected:
            raise NotConnected("Originate: not connected to Asterisk")
        self.sent.append(("Originate", dict(headers)))
        action_id = f"stand-in-{len(self.sent)}"
        if "Originate" in self.refuse:
            failure = (("Event", "OriginateResponse"), ("Response", "Failure"), ("Reason", "0"))
            event = Message(MessageKind.EVENT, failure)
            raise ActionFailed(f"Originate {action_id} failed (Reason 0)", event)
        success = (("Event", "OriginateResponse"), ("Response", "Success"),
                   ("Uniqueid", f"{len(self.sent)}.1"))  # fmt: skip
        event = Message(MessageKind.EVENT, success)
        return action_id, event
