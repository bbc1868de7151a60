"""Hand-made AMI events for the reducer tests (the recorded ones are in replay.py)."""

from __future__ import annotations

from hotline.ami.message import Message, MessageKind

T0 = 1795563000_000  # ms


def event(name: str, t: int | None = T0, **headers: str) -> Message:
    """An event as Asterisk sends it (``Timestamp`` from ``t`` ms; None: no Timestamp)."""
    head: list[tuple[str, str]] = [("Event", name)]
    if t is not None:
        head.append(("Timestamp", f"{t // 1000}.{t % 1000:03d}000"))
    return Message(MessageKind.EVENT, (*head, *headers.items()))


def member(
    name: str = "QueueMemberPause",
    t: int | None = T0,
    *,
    agent: str = "王芳",
    queue: str = "property",
    paused: bool = False,
    reason: str = "",
    status: str = "1",
    in_call: str = "0",
    listed: bool = False,
) -> Message:
    """A Queue Member* event; ``listed``: QueueStatus's QueueMember (Name, Location)."""
    iface = "PJSIP/1001"
    who = (
        {"Name": agent, "Location": iface} if listed else {"MemberName": agent, "Interface": iface}
    )
    return event(
        "QueueMember" if listed else name,
        None if listed else t,
        Queue=queue,
        **who,
        StateInterface=iface,
        Membership="dynamic",
        InCall=in_call,
        Status=status,
        Paused="1" if paused else "0",
        PausedReason=reason,
        Wrapuptime="0",
    )


def agent_event(
    name: str,
    t: int = T0,
    *,
    call: str = "c1",
    agent: str = "王芳",
    queue: str = "property",
    **more: str,
) -> Message:
    return event(name, t, Uniqueid=call, Queue=queue, MemberName=agent, **more)
