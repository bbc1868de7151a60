"""Offline parsers: each library's own framing and parsing, fed a capture through its read path.

Every ``parse_*`` function takes the whole capture and hands each message the library delivers
to its normal consumer (a listener, a callback, the list ``receive_data`` returns). With
``keep`` the messages are kept and returned, normalised to header dicts (a repeated header
becomes a list) for the comparison with the reference; without it they are counted and
dropped at once, as an application that handles each event would: that run is the timed one.
Normalisation never repairs anything: it only undoes each library's lossless representation
choices (pyst2's and asterisk-ami's ChanVariable dicts, asterisk-ami's "\\n"-joined repeated
Response headers, panoramisk's body stored as a key "content").

How each one reads in real use, and how it is fed here:

- hotline: ``Protocol.receive_data(chunk)``; the client reads 256 KiB (``READ_SIZE``).
- pyst2 0.5.1: ``socket.makefile('rwb', buffering=0)`` then ``for line in sock`` — an unbuffered
  raw file, whose ``readline`` reads one byte per ``readinto`` (one ``recv`` syscall per byte).
  Fed through a ``RawIOBase`` whose Python ``readinto`` copies from memory, as
  ``socket.SocketIO.readinto`` would call ``recv_into``. Its three threads run as after
  ``connect()``: ``_receive_data`` frames, ``message_loop`` parses, ``event_dispatch`` calls
  the ``'*'`` callback.
- asterisk-ami 0.1.7: ``AMIClient.listen`` → ``_next_pack`` over ``socket.recv(1024)``
  (``buffer_size=2**10``), then ``fire_recv_pack`` → ``Response.read``/``Event.read`` →
  listeners. Fed a socket-like object.
- panoramisk 1.4: ``AMIProtocol.data_received`` from asyncio's selector transport, which reads
  ``max_size`` = 256 KiB. Wired by the real ``Manager.connection_made``; each message is
  recorded on its way into ``handle_message``, which then routes it as usual (events to the
  ``'*'`` callback).
"""

from __future__ import annotations

import asyncio
import gc
import io
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from capture import HeaderDict, flatten
from hotline.ami.message import MessageKind
from hotline.ami.protocol import Protocol

# pyst2 uses Thread.setDaemon/Event.isSet, deprecated since Python 3.10
warnings.filterwarnings(
    "ignore", message=r"(setDaemon|isSet|currentThread)", category=DeprecationWarning
)

PANORAMISK_READ = 256 * 1024  # asyncio.selector_events._SelectorSocketTransport.max_size


@dataclass(slots=True)
class Result:
    seconds: float
    count: int
    """Messages delivered, greeting excluded."""
    messages: list[HeaderDict] = field(default_factory=list)
    """With ``keep``: the delivered messages, normalised."""
    note: str = ""


class _Sink:
    """The application's end: keeps what it gets, or only counts it."""

    def __init__(self, keep: bool) -> None:
        self.kept: list[Any] = []
        self.count = 0
        self.put: Callable[[Any], None] = self.kept.append if keep else self._count

    def _count(self, item: Any) -> None:
        self.count += 1

    def total(self) -> int:
        return self.count + len(self.kept)


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def _listify(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _variables(key: str, value: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in value.items()]  # ChanVariable parsed into {name: value}


# -- hotline ---------------------------------------------------------------------------------


def parse_hotline(data: bytes, read_size: int, keep: bool) -> Result:
    def run() -> tuple[int, list[Any]]:
        protocol = Protocol()
        kept: list[Any] = []
        for start in range(0, len(data), read_size):
            items = protocol.receive_data(data[start : start + read_size])
            if keep:
                kept += items
        return protocol.messages_received - 1, kept  # its count includes the greeting

    seconds, (count, kept) = _timed(run)
    messages = [m.as_dict() for m in flatten(kept) if m.kind is not MessageKind.GREETING]
    return Result(seconds, count, messages)


# -- pyst2 -----------------------------------------------------------------------------------


class _MemoryRaw(io.RawIOBase):
    """An unbuffered readable file over bytes, like the ``SocketIO`` of ``makefile(buffering=0)``:
    no ``peek``, so ``readline`` asks ``readinto`` for one byte at a time."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._view[self._pos : self._pos + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


def pyst2_dict(headers: dict[str, Any]) -> HeaderDict:
    return {k: _variables(k, v) if isinstance(v, dict) else _listify(v) for k, v in headers.items()}


def parse_pyst2(data: bytes, keep: bool) -> Result:
    from asterisk import manager

    sink = _Sink(keep)

    def run() -> tuple[list[Any], str]:
        m = manager.Manager()
        m.register_event("*", lambda event, source: sink.put(event))
        m._sock = _MemoryRaw(data)
        m._connected.set()
        m._running.set()
        m.event_dispatch_thread.start()
        note = ""
        try:
            m.message_loop()  # starts the _receive_data thread; parses here
        except Exception as exc:  # noqa: BLE001 - report whatever kills pyst2's parser
            note = f"message_loop died: {type(exc).__name__}: {exc}"
            m._event_queue.put(None)
        m.event_dispatch_thread.join()
        m._running.clear()  # so that __del__ does not try to log off
        responses: list[Any] = []
        while not m._response_queue.empty():  # replies nobody waited for pile up here
            responses.append(m._response_queue.get())
        return responses[1:], note  # responses[0] is the greeting ("Generated Header")

    seconds, (responses, note) = _timed(run)
    messages = [pyst2_dict(e.headers) for e in sink.kept]
    if keep:
        messages += [pyst2_dict(r.headers) for r in responses]
    return Result(seconds, sink.total() + len(responses), messages, note)


# -- asterisk-ami ----------------------------------------------------------------------------


class _MemorySocket:
    """What ``AMIClient._next_pack`` uses of its socket: ``recv(n)`` and ``close()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def recv(self, size: int) -> bytes:
        chunk = self._data[self._pos : self._pos + size]
        self._pos += len(chunk)
        return chunk

    def close(self) -> None:
        pass


def _keys(first: str, name: str, keys: dict[str, Any]) -> HeaderDict:
    out: HeaderDict = {first: name}
    for key, value in keys.items():
        if isinstance(value, dict):
            out[key] = _variables(key, value)
        elif first == "Response" and "\n" in value:  # a repeated header, "\n"-joined
            out[key] = value.split("\n")
        else:
            out[key] = value
    return out


def asterisk_ami_dict(message: Any) -> HeaderDict:
    """An asterisk-ami Event (``name``, ``keys``) or Response (``status``, ``keys``)."""
    if hasattr(message, "status"):
        return _keys("Response", message.status, message.keys)
    return _keys("Event", message.name, message.keys)


def parse_asterisk_ami(data: bytes, keep: bool) -> Result:
    from asterisk.ami import client as ami

    sink = _Sink(keep)
    unknown: list[str] = []

    def run() -> None:
        c = ami.AMIClient()  # buffer_size=2**10: its recv size
        c.add_listener(
            on_response=lambda source, response: sink.put(response),
            on_unknown=lambda source, pack: unknown.append(pack),
        )
        c.add_event_listener(lambda event, source: sink.put(event))
        c._socket = _MemorySocket(data)
        c.finished = threading.Event()
        c.listen()  # what connect() runs in its thread

    seconds, _ = _timed(run)
    messages = [asterisk_ami_dict(m) for m in sink.kept]
    note = f"{len(unknown)} packs passed to on_unknown" if unknown else ""
    return Result(seconds, sink.total(), messages, note)


# -- panoramisk ------------------------------------------------------------------------------


class _NullTransport(asyncio.Transport):
    def write(self, data: Any) -> None:
        pass

    def close(self) -> None:
        pass


async def _panoramisk(data: bytes, sink: _Sink) -> None:
    from panoramisk import Manager
    from panoramisk.ami_protocol import AMIProtocol

    class Recording(AMIProtocol):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            sink.put(message)
            super().handle_message(message)

    loop = asyncio.get_running_loop()
    manager = Manager(loop=loop, ping_delay=3600)
    manager.register_event("*", lambda manager, event: None)
    protocol = Recording()
    transport = _NullTransport()
    protocol.connection_made(transport)
    made: asyncio.Future[tuple[Any, Any]] = loop.create_future()
    made.set_result((transport, protocol))
    manager.connection_made(made)  # sets encoding utf8, factory, queue: as after a connect
    for start in range(0, len(data), PANORAMISK_READ):  # what recv(max_size) returns
        protocol.data_received(data[start : start + PANORAMISK_READ])
    manager.close()


def panoramisk_dict(message: Any) -> HeaderDict:
    # Message(headers, content=...) stores its body as one more key, "content": not a header
    return {k: _listify(v) for k, v in message.items() if k != "content"}


def parse_panoramisk(data: bytes, keep: bool) -> Result:
    sink = _Sink(keep)
    seconds, _ = _timed(lambda: asyncio.run(_panoramisk(data, sink)))
    messages = [panoramisk_dict(m) for m in sink.kept]
    return Result(seconds, sink.total(), messages)


PARSERS: dict[str, Callable[[bytes, bool], Result]] = {
    "hotline (4 KiB reads)": lambda data, keep: parse_hotline(data, 4096, keep),
    "hotline (256 KiB reads)": lambda data, keep: parse_hotline(data, 256 * 1024, keep),
    "pyst2 0.5.1 (1 B reads)": parse_pyst2,
    "asterisk-ami 0.1.7 (1 KiB reads)": parse_asterisk_ami,
    "panoramisk 1.4 (256 KiB reads)": parse_panoramisk,
}
