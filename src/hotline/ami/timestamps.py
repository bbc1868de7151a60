"""AMI ``Timestamp`` headers to integer milliseconds, without floats (pure).

With ``timestampevents = yes`` Asterisk stamps every event ``Timestamp: 1795463384.123456``
(seconds.microseconds, wall clock). List items of an action's answer (QueueMember,
CoreShowChannel, ...) and events sent to a session at login (FullyBooted) carry none::

    parse_ms("1795463384.123456")   # 1795463384123
    parse_ms(None), parse_ms("x")   # None
"""

from __future__ import annotations

from hotline.ami.message import Message


def parse_ms(value: str | None) -> int | None:
    """``"S.ffffff"`` (or ``"S"``) → milliseconds, truncated; None if missing or malformed."""
    if not value or not value.isascii():
        return None
    seconds, _, fraction = value.partition(".")
    # isdecimal() rejects signs, spaces and "1e9", which int() would accept
    if not seconds.isdecimal() or (fraction and not fraction.isdecimal()):
        return None
    return int(seconds) * 1000 + int((fraction + "000")[:3])


def event_ms(event: Message) -> int | None:
    """The event's ``Timestamp`` in milliseconds, or None."""
    return parse_ms(event.get("Timestamp"))


def event_time(event: Message, last: int) -> int:
    """The event's time in ms; ``last`` (the last good one) when it has none or a bad one.

    Reducers keep their clock with it: ``self.now = event_time(event, self.now)``.
    """
    t = parse_ms(event.get("Timestamp"))
    return last if t is None else t
