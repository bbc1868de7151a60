"""Offline parsers: each library's own framing and parsing, fed a capture through its read path.

Every ``parse_*`` function takes the whole capture and returns a :class:`Result`: the time spent
in the library (setup included, our normalisation excluded) and the messages it delivered,
greeting excluded, normalised to header dicts (a repeated header becomes a list) so they can
be compared with the reference. Normalisation never repairs anything: it only undoes each
library's lossless representation choices (pyst2's and asterisk-ami's ChanVariable dicts,
asterisk-ami's "\\n"-joined repeated Response headers).

How each one reads in real use, and how it is fed here:

- hotline: ``Protocol.receive_data(chunk)``; the client reads 256 KiB (``READ_SIZE``).
- pyst2 0.5.1: ``socket.makefile('rwb', buffering=0)`` then ``for line in sock`` — an unbuffered
  raw file, whose ``readline`` reads one byte per ``readinto`` (one ``recv`` syscall per byte).
  Fed through a ``RawIOBase`` whose Python ``readinto`` copies from memory, as
  ``socket.SocketIO.readinto`` would call ``recv_into``; its two threads (``_receive_data``
  framing, ``message_loop`` parsing) run as in real use.
- asterisk-ami 0.1.7: ``AMIClient._next_pack`` over ``socket.recv(buffer_size=1024)``, then
  ``fire_recv_pack`` → ``Response.read``/``Event.read`` → listeners. Fed a socket-like object.
- panoramisk 1.4: ``AMIProtocol.data_received`` from asyncio's selector transport, which reads
  ``max_size`` = 256 KiB. Wired by the real ``Manager.connection_made``; each parsed message is
  recorded on its way into ``handle_message`` (which then routes it as usual).
"""

from __future__ import annotations

import asyncio
import gc
import io
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from capture import HeaderDict, flatten

from hotline.ami.message import MessageKind
from hotline.ami.protocol import Protocol

# pyst2 uses Thread.setDaemon/Event.isSet, deprecated since Python 3.10
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"asterisk\.")
warnings.filterwarnings("ignore", message=r"(setDaemon|isSet|currentThread)", category=DeprecationWarning)

PYST2_READ = 1
ASTERISK_AMI_READ = 1024
PANORAMISK_READ = 256 * 1024


@dataclass(slots=True)
class Result:
    seconds: float
    messages: list[HeaderDict]
    note: str = ""


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


def _listify(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


# -- hotline ---------------------------------------------------------------------------------


def parse_hotline(data: bytes, read_size: int) -> Result:
    def run() -> list[Any]:
        protocol = Protocol()
        out: list[Any] = []
        for start in range(0, len(data), read_size):
            out += protocol.receive_data(data[start : start + read_size])
        return out

    seconds, items = _timed(run)
    messages = [m.as_dict() for m in flatten(items) if m.kind is not MessageKind.GREETING]
    return Result(seconds, messages)


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


def _pyst2_dict(headers: dict[str, Any]) -> HeaderDict:
    out: HeaderDict = {}
    for key, value in headers.items():
        if isinstance(value, dict):  # ChanVariable parsed into {name: value}
            out[key] = [f"{k}={v}" for k, v in value.items()]
        else:
            out[key] = _listify(value)
    return out


def parse_pyst2(data: bytes) -> Result:
    from asterisk import manager

    def run() -> tuple[list[Any], list[Any], str]:
        m = manager.Manager()
        m._sock = _MemoryRaw(data)
        m._connected.set()
        m._running.set()
        note = ""
        try:
            # frames in a thread of its own (_receive_data), parses here, as connect() runs it
            m.message_loop()
        except Exception as exc:  # noqa: BLE001 - report whatever kills pyst2's reader
            note = f"message_loop died: {type(exc).__name__}: {exc}"
        m._running.clear()  # so that __del__ does not try to log off
        events: list[Any] = []
        while (event := m._event_queue.get()) is not None:
            events.append(event)
        responses: list[Any] = []
        while not m._response_queue.empty():
            responses.append(m._response_queue.get())
        return events, responses[1:], note  # responses[0] is the greeting ("Generated Header")

    seconds, (events, responses, note) = _timed(run)
    messages = [_pyst2_dict(e.headers) for e in events]
    messages += [_pyst2_dict(r.headers) for r in responses]
    return Result(seconds, messages, note)


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
        if isinstance(value, dict):  # ChanVariable parsed into {name: value}
            out[key] = [f"{k}={v}" for k, v in value.items()]
        elif first == "Response" and "\n" in value:  # a repeated header, "\n"-joined
            out[key] = value.split("\n")
        else:
            out[key] = value
    return out


def parse_asterisk_ami(data: bytes) -> Result:
    from asterisk.ami import client as ami

    def run() -> tuple[list[Any], list[Any], list[str]]:
        events: list[Any] = []
        responses: list[Any] = []
        unknown: list[str] = []
        c = ami.AMIClient()  # buffer_size=2**10: its recv size
        c.add_listener(
            on_response=lambda source, response: responses.append(response),
            on_unknown=lambda source, pack: unknown.append(pack),
        )
        c.add_event_listener(lambda event, source: events.append(event))
        c._socket = _MemorySocket(data)
        c.finished = threading.Event()
        c.listen()  # what connect() runs in its thread
        return events, responses, unknown

    seconds, (events, responses, unknown) = _timed(run)
    messages = [_keys("Event", e.name, e.keys) for e in events]
    messages += [_keys("Response", r.status, r.keys) for r in responses]
    note = f"{len(unknown)} packs passed to on_unknown" if unknown else ""
    return Result(seconds, messages, note)


# -- panoramisk ------------------------------------------------------------------------------


class _NullTransport(asyncio.Transport):
    def write(self, data: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _recording_protocol() -> Any:
    from panoramisk.ami_protocol import AMIProtocol

    class Recording(AMIProtocol):  # type: ignore[misc]
        received: list[Any]

        def handle_message(self, message: Any) -> None:
            self.received.append(message)
            super().handle_message(message)

    return Recording


async def _panoramisk(data: bytes) -> list[Any]:
    from panoramisk import Manager

    loop = asyncio.get_running_loop()
    manager = Manager(loop=loop, ping_delay=3600)
    manager.register_event("*", lambda manager, event: None)
    protocol = _recording_protocol()()
    protocol.received = []
    transport = _NullTransport()
    protocol.connection_made(transport)
    made: asyncio.Future[tuple[Any, Any]] = loop.create_future()
    made.set_result((transport, protocol))
    manager.connection_made(made)  # sets encoding utf8, factory, queue: as after a connect
    for start in range(0, len(data), PANORAMISK_READ):  # what recv(max_size) returns
        protocol.data_received(data[start : start + PANORAMISK_READ])
    manager.close()
    return list(protocol.received)


def parse_panoramisk(data: bytes) -> Result:
    seconds, received = _timed(lambda: asyncio.run(_panoramisk(data)))
    messages = [{k: _listify(v) for k, v in m.items()} for m in received]
    return Result(seconds, messages)


PARSERS: dict[str, Callable[[bytes], Result]] = {
    "hotline (4 KiB reads)": lambda data: parse_hotline(data, 4096),
    "hotline (256 KiB reads)": lambda data: parse_hotline(data, 256 * 1024),
    "pyst2 0.5.1 (1 B reads)": parse_pyst2,
    "asterisk-ami 0.1.7 (1 KiB reads)": parse_asterisk_ami,
    "panoramisk 1.4 (256 KiB reads)": parse_panoramisk,
}
