"""AMI values: what the :class:`~hotline.ami.protocol.Protocol` emits and what it sends.

A :class:`Message` keeps its headers exactly as they came off the wire, in order, repeated ones
included (``ChanVariable``, ``Output``). Look headers up case-insensitively, as Asterisk does
(``astman_get_header`` uses ``strncasecmp``)::

    msg.get("CallerIDName")        # first value or None
    msg.getall("ChanVariable")     # every value, in order
    msg.as_dict()                  # {"Event": "VarSet", "ChanVariable": ["A=1", "B=2"], ...}
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Headers = tuple[tuple[str, str], ...]


class MessageKind(enum.Enum):
    GREETING = "greeting"
    RESPONSE = "response"
    EVENT = "event"


_NAME_HEADER = {
    MessageKind.GREETING: "greeting",
    MessageKind.RESPONSE: "response",
    MessageKind.EVENT: "event",
}


@dataclass(frozen=True, slots=True)
class Message:
    """One AMI message: the greeting line, a Response or an Event.

    ``offset`` is the byte offset of the message's first byte in the stream, which makes a
    message easy to find again in a capture file.
    """

    kind: MessageKind
    headers: Headers
    offset: int = 0
    # lower-cased name -> first value; built on first lookup, never compared or printed.
    _index: dict[str, str] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def trusted(cls, kind: MessageKind, headers: Headers, offset: int) -> Message:
        """Build without the frozen dataclass's ``__init__`` (for the parser's hot path).

        The generated ``__init__`` sets each field through ``object.__setattr__``; at
        100,000 messages/s that was a tenth of the parse time. The values are the same.
        """
        message = _new(cls)
        _set_kind(message, kind)
        _set_headers(message, headers)
        _set_offset(message, offset)
        _set_index(message, None)
        return message

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            # reversed: the first occurrence of a repeated header wins
            index = {key.lower(): value for key, value in reversed(self.headers)}
            object.__setattr__(self, "_index", index)
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), else ``default``."""
        return self._lookup().get(name.lower(), default)

    def getall(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in wire order."""
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    def as_dict(self) -> dict[str, str | list[str]]:
        """Headers as a dict; a repeated header becomes a list of its values in order.

        Names keep the spelling of their first occurrence; spellings differing only in case
        are one header (as for :meth:`get`).
        """
        result: dict[str, str | list[str]] = {}
        spelling: dict[str, str] = {}
        for key, value in self.headers:
            name = spelling.setdefault(key.lower(), key)
            previous = result.get(name)
            if previous is None:
                result[name] = value
            elif isinstance(previous, list):
                previous.append(value)
            else:
                result[name] = [previous, value]
        return result

    @property
    def name(self) -> str:
        """The Event name, the Response status (``Success``/``Error``), or the greeting text."""
        headers = self.headers
        if self.kind is MessageKind.EVENT and headers and headers[0][0] == "Event":
            return headers[0][1]  # Asterisk always sends Event first: skip the index
        return self._lookup().get(_NAME_HEADER[self.kind], "")

    @property
    def action_id(self) -> str | None:
        """The ActionID this message answers (events of an action's list carry it too)."""
        return self._lookup().get("actionid")


# the slots' member descriptors: setting through them skips the frozen __setattr__
_new = object.__new__
_slot: dict[str, Any] = dict(vars(Message))
_set_kind = _slot["kind"].__set__
_set_headers = _slot["headers"].__set__
_set_offset = _slot["offset"].__set__
_set_index = _slot["_index"].__set__


@dataclass(frozen=True, slots=True)
class EventList:
    """A list action's whole answer (QueueStatus, CoreShowChannels, ...), delivered at once.

    Asterisk answers such an action with a Response carrying ``EventList: start``, then one
    event per item, then a ``...Complete`` event with ``EventList: Complete``; all carry the
    action's ActionID.
    """

    response: Message
    events: tuple[Message, ...]
    complete: Message

    @property
    def action_id(self) -> str | None:
        return self.response.action_id


@dataclass(frozen=True, slots=True)
class Action:
    """An action to send. ``headers`` may repeat a name (several ``Variable`` on Originate).

    Build one with :meth:`build`::

        Action.build("Originate", {"Channel": "Local/12346@ivr"}, action_id="a1",
                     Variable=["A=1", "B=2"])
    """

    name: str
    headers: Headers = ()
    action_id: str = ""

    @classmethod
    def build(
        cls,
        name: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        /,
        *,
        action_id: str,
        **more: str | list[str],
    ) -> Action:
        """Build from a mapping or pairs, plus keywords; a list value repeats the header."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        pairs = [(str(key), str(value)) for key, value in items]
        for key, value in more.items():
            values = value if isinstance(value, list) else [value]
            pairs.extend((key, str(item)) for item in values)
        return cls(name, tuple(pairs), action_id)
