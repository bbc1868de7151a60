"""The sans-I/O AMI protocol: bytes in, :class:`Message`/:class:`EventList` out.

Usage (the caller owns the socket)::

    protocol = Protocol()
    sock.sendall(protocol.send(Action("Ping", (), "id-1")))
    for item in protocol.receive_data(sock.recv(65536)):
        ...  # Message (greeting, response, event) or EventList

``receive_data`` accepts any chunking of the stream and gives the same items for every one
of them. A :class:`ProtocolError` closes the protocol: drop the connection and start over
with a new instance. Nothing here does I/O, reads the clock or logs.

The stream, as Asterisk 22 sends it: one greeting line ended by a single CRLF; then
messages of ``Key: Value`` CRLF lines ended by a blank line, split on the bytes before any
UTF-8 decoding. Stray blank lines between messages are skipped. A header line is split on
its first ": " (else on its first ":"). A pre-14 Command reply (``Response: Follows``) runs
to ``--END COMMAND--``, its raw text becoming ``Output`` headers. A Response carrying
``EventList: start`` is held back with the events of its ActionID until the one with
``EventList: Complete``, and all come out as one :class:`EventList`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.ami.errors import ActionError, ProtocolError
from hotline.ami.message import Action, EventList, Message, MessageKind

__all__ = ["Protocol"]

_EVENT = MessageKind.EVENT
_RESPONSE = MessageKind.RESPONSE

_TERMINATOR = b"\r\n\r\n"
# Before Asterisk 14, the Command action answered "Response: Follows", then the raw CLI text
# (lines may be empty or hold colons), then "--END COMMAND--\r\n\r\n" (manager.c,
# action_command). Only that marker ends such a message.
_FOLLOWS = b"Response: Follows\r\n"
_END_COMMAND = b"--END COMMAND--\r\n\r\n"
# The header lines Asterisk writes before the raw CLI text of a legacy Command reply.
_LEGACY_HEADERS = frozenset({"response", "privilege", "actionid"})
_PAIRS_MAX = 4096
_PAIRS_LINE_MAX = 200


class _MalformedError(Exception):
    """Internal: a bad message; receive_data turns it into a ProtocolError with the items."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(slots=True)
class _OpenList:
    response: Message
    events: list[Message] = field(default_factory=list)
    size: int = 0


class Protocol:
    """Frame and parse one AMI connection's byte stream; encode actions.

    ``max_message_size`` bounds one message (its terminator included) and so the bytes held
    for an incomplete one. ``max_eventlist_size`` bounds the bytes of events held back for
    EventLists not yet complete (default: 16 messages' worth).
    """

    def __init__(
        self, *, max_message_size: int = 1 << 20, max_eventlist_size: int | None = None
    ) -> None:
        self.max_message_size = max_message_size
        self.max_eventlist_size = (
            16 * max_message_size if max_eventlist_size is None else max_eventlist_size
        )
        self.bytes_received = 0
        self.messages_received = 0
        self.decode_errors = 0
        self._buffer = bytearray()
        self._base = 0  # stream offset of _buffer[0]
        self._scan = 0  # where the terminator search resumes: never rescan old bytes
        self._greeted = False
        self._error: ProtocolError | None = None
        self._lists: dict[str, _OpenList] = {}
        self._listed = 0  # bytes of events held in _lists
        self._pairs = _Pairs()

    @property
    def closed(self) -> bool:
        """True after a ProtocolError: every further ``receive_data`` raises again."""
        return self._error is not None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete message."""
        return len(self._buffer)

    @property
    def open_eventlists(self) -> int:
        """EventLists started (``EventList: start``) and not yet complete."""
        return len(self._lists)

    def receive_data(self, data: bytes) -> list[Message | EventList]:
        """Feed bytes from the connection; return the items they complete, in stream order.

        Raises :class:`ProtocolError` (with ``offset`` and the ``items`` completed before the
        bad message) if the peer breaks the protocol; the protocol is closed from then on.
        """
        if self._error is not None:
            raise ProtocolError(
                f"protocol closed after an earlier error: {self._error}", self._error.offset
            )
        self.bytes_received += len(data)
        self._buffer += data
        out: list[Message | EventList] = []
        try:
            self._parse_buffer(out)
        except _MalformedError as bad:
            self._error = ProtocolError(bad.message, bad.offset, tuple(out))
            self._buffer.clear()
            self._lists.clear()
            raise self._error from None
        return out

    def _parse_buffer(self, out: list[Message | EventList]) -> None:
        buf = self._buffer
        size = len(buf)
        limit = self.max_message_size
        pos = 0
        if not self._greeted:
            # The greeting is one line ended by a single CRLF ("Asterisk Call Manager/11.0.0"),
            # not a blank-line-terminated message.
            eol = buf.find(b"\r\n", self._scan)
            if eol < 0:
                self._scan = max(0, size - 1)
                pos = size = 0  # nothing consumed; fall through to the size check
            else:
                if eol + 2 > limit:
                    raise _MalformedError("greeting line longer than max_message_size", self._base)
                raw = buf[:eol]
                try:
                    text = raw.decode()
                except UnicodeDecodeError:
                    text = self._salvage(raw)
                out.append(Message(MessageKind.GREETING, (("Greeting", text),), self._base))
                self.messages_received += 1
                self._greeted = True
                pos = eol + 2
        base, scan, lists, pairs = self._base, self._scan, self._lists, self._pairs
        count = 0
        while pos < size:
            first = buf[pos]
            if first in b"\r\n":
                # Stray blank lines between messages are not messages: Debian's build
                # sometimes sends an extra CRLF after TestEvent. Any CR/LF run is skipped.
                pos += 1
                continue
            # Fewer bytes than _FOLLOWS here means no terminator of either kind is complete
            # yet, so choosing the blank-line framing for now changes nothing.
            legacy = first == 82 and buf.startswith(_FOLLOWS, pos)  # 82: "R"
            terminator = _END_COMMAND if legacy else _TERMINATOR
            end = buf.find(terminator, scan if scan > pos else pos)
            if end < 0:
                scan = max(pos, size - len(terminator) + 1)
                break
            stop = end + len(terminator)
            offset = base + pos
            if stop - pos > limit:
                raise _MalformedError(
                    f"message of {stop - pos} bytes exceeds max_message_size", offset
                )
            raw = buf[pos:end]
            try:
                text = raw.decode()  # whole messages only: a character split across reads
            except UnicodeDecodeError:  # is joined again before it is decoded
                text = self._salvage(raw)
            message = _legacy_command(text, offset) if legacy else _message(text, offset, pairs)
            count += 1
            if lists or message.kind is not _EVENT:
                item = self._route(message, stop - pos)
                if item is not None:
                    out.append(item)
            else:
                out.append(message)  # the common case: an event, no list being collected
            pos = stop
        self.messages_received += count
        del buf[:pos]
        self._base = base + pos
        self._scan = max(0, scan - pos)
        if len(buf) > limit:
            raise _MalformedError(
                f"incomplete message of more than {limit} bytes (max_message_size)", self._base
            )

    def _salvage(self, raw: bytearray) -> str:
        # The bytes are really invalid UTF-8: keep them visible (\xNN) and count them,
        # rather than dropping them or the message.
        self.decode_errors += 1
        return raw.decode(errors="backslashreplace")

    def _route(self, message: Message, size: int) -> Message | EventList | None:
        """Hold back the parts of an EventList; return what is ready for the caller."""
        lists = self._lists
        headers = message.headers
        if message.kind is MessageKind.EVENT:
            action_id = _first(headers, "ActionID")
            if action_id is None or (pending := lists.get(action_id)) is None:
                return message  # not part of a list: keeps flowing in order
            if (_first(headers, "EventList") or "").lower() == "complete":
                del lists[action_id]
                self._listed -= pending.size
                return EventList(pending.response, tuple(pending.events), message)
            pending.events.append(message)
            pending.size += size
            self._listed += size
            if self._listed > self.max_eventlist_size:
                raise _MalformedError(
                    f"open EventLists hold more than {self.max_eventlist_size} bytes "
                    "(max_eventlist_size)",
                    message.offset,
                )
            return None
        marker = _first(headers, "EventList")
        action_id = _first(headers, "ActionID")
        # Without an ActionID the list's events cannot be told apart: pass them through.
        if marker is None or marker.lower() != "start" or action_id is None:
            return message
        if action_id in lists:
            raise _MalformedError(
                f"second EventList started for ActionID {action_id!r}", message.offset
            )
        lists[action_id] = _OpenList(message)
        return None

    def send(self, action: Action) -> bytes:
        """Encode ``action`` for the wire (UTF-8), refusing header injection.

        Raises :class:`ActionError` if the name, the ActionID, a header name or a value holds
        CR, LF or NUL (a caller name from the phone network must not add headers to an
        Originate), or if a header name is empty, holds ':' or surrounding whitespace.
        """
        _check_value("action name", action.name)
        if not action.name:
            raise ActionError("empty action name")
        _check_value("ActionID", action.action_id)
        lines = [f"Action: {action.name}\r\nActionID: {action.action_id}\r\n"]
        for name, value in action.headers:
            _check_name(name)
            _check_value(f"value of header {name!r}", value)
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode()


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    """The first value of ``name``, without building Message's index.

    Asterisk spells header names one way, so the exact pass nearly always answers; any
    spelling is still accepted, as Asterisk itself does.
    """
    for key, value in headers:
        if key == name:
            return value
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


class _OddLineError(Exception):
    """Internal: a header line the fast path does not handle."""


class _Pairs(dict[str, tuple[str, str]]):
    """Header lines already split, by line text.

    Most lines repeat from message to message ("Privilege: agent,all", "Language: zh").
    Reusing their pair skips the split and, above all, an allocation: with 256 KiB reads
    hundreds of messages are alive at once, and fresh pairs made the garbage collector's
    work grow with the read size.
    """

    __slots__ = ()

    def __missing__(self, line: str) -> tuple[str, str]:
        # Split on the first ": ". A line without it, or with a stray CR, is odd.
        key, sep, value = line.partition(": ")
        if not sep or "\r" in value:
            raise _OddLineError
        pair = (key, value)
        if len(line) <= _PAIRS_LINE_MAX:  # long values rarely repeat; keep memory bounded
            if len(self) >= _PAIRS_MAX:
                self.clear()
            self[line] = pair
        return pair


def _message(text: str, offset: int, pairs: _Pairs) -> Message:
    """Parse one blank-line-terminated message (without its terminator)."""
    lines = text.split("\r\n")
    try:
        headers = tuple(map(pairs.__getitem__, lines))  # C-level loop: no bytecode per line
    except _OddLineError:
        headers = tuple(_odd_headers(lines, offset))
    first = headers[0][0]
    if first == "Event":
        kind = _EVENT
    elif first.lower() == "response":
        kind = _RESPONSE
    elif any(key.lower() == "event" for key, _ in headers):
        kind = _EVENT
    else:
        raise _MalformedError(
            f"message starting with header {first[:60]!r} is neither a Response nor an Event",
            offset,
        )
    return Message.trusted(kind, headers, offset)


def _odd_headers(lines: list[str], offset: int) -> list[tuple[str, str]]:
    """The rare line shapes: ``Key:`` and ``Key:value`` (no space), a stray CR before CRLF."""
    headers = []
    for line in lines:
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
            if not sep:
                raise _MalformedError(f"header line without a colon: {line[:60]!r}", offset)
        headers.append((key, value.removesuffix("\r")))
    return headers


def _legacy_command(text: str, offset: int) -> Message:
    """Parse a pre-14 ``Response: Follows`` reply (without its --END COMMAND-- marker)."""
    lines = text.split("\n")
    headers: list[tuple[str, str]] = []
    index = 0
    while index < len(lines):
        key, sep, value = lines[index].partition(":")
        if not (sep and value.endswith("\r") and key.lower() in _LEGACY_HEADERS):
            break  # the CLI text starts here: its lines end in a bare LF
        headers.append((key, value[1:-1] if value.startswith(" ") else value[:-1]))
        index += 1
    output = lines[index:]
    if output and output[-1] == "":
        output.pop()  # the marker was on a line of its own
    headers.extend(("Output", line.removesuffix("\r")) for line in output)
    return Message(MessageKind.RESPONSE, tuple(headers), offset)


def _check_value(what: str, value: str) -> None:
    if "\r" in value or "\n" in value or "\0" in value:
        raise ActionError(f"{what} contains CR, LF or NUL: {value!r}")


def _check_name(name: str) -> None:
    _check_value("header name", name)
    if not name or ":" in name or name != name.strip():
        raise ActionError(f"invalid header name {name!r}")
    if name.lower() in ("action", "actionid"):
        raise ActionError(f"header {name!r} is set from the Action itself, not in its headers")
