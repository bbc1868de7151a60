"""End to end over loopback TCP: each library's own client against ``replay.py``.

Each client connects and logs in the way it really does (its own socket code, its own read
size), then counts what it delivers to the application until the replay server closes the
stream. The server runs in a process of its own, so the client has a core to itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peers
from capture import HeaderDict
from hotline.ami.client import AMIClient, ClientOptions, Endpoint
from hotline.ami.message import Message

REPLAY = Path(__file__).resolve().parent / "replay.py"
USER, SECRET = "bench", "bench"
TIMEOUT = 120.0
# panoramisk logs "Connection lost" at ERROR when the replay ends: that is the expected end
logging.getLogger("panoramisk").setLevel(logging.CRITICAL)


@dataclass(slots=True)
class Session:
    seconds: float
    count: int
    """Messages delivered after the login (the handshake's own replies not counted)."""
    note: str = ""
    messages: list[HeaderDict] = field(default_factory=list)
    """With ``keep``: what the application received, normalised as in peers.py."""


Outcome = tuple[int, str, list[HeaderDict]]


# -- the clients: each takes the port and ``keep``, returns (count, note, messages) ------------


async def _hotline(port: int, keep: bool) -> Outcome:
    # no Ping during the run: the replay server does not answer actions after the login
    client = AMIClient(Endpoint("127.0.0.1", port, USER, SECRET), ClientOptions(ping_interval=3600))
    events = client.subscribe()
    kept: list[Message] = []
    delivered = 0

    async def consume() -> None:
        nonlocal delivered
        async for event in events:
            delivered += 1
            if keep:
                kept.append(event)

    consumer = asyncio.create_task(consume())
    await client.connect()  # greeting, Challenge (MD5), Login
    protocol = client._protocol  # its message counter counts list parts one by one
    while client.connected:
        await asyncio.sleep(0.005)
    while not events.queue.empty():
        await asyncio.sleep(0)
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    assert protocol is not None
    # greeting, Challenge and Login replies are the handshake's. Replies and lists nobody
    # asked for (the recording session's) are framed but, by design, not delivered.
    note = f"{delivered:,} events to the subscriber"
    return protocol.messages_received - 3, note, [m.as_dict() for m in kept]


def _pyst2(port: int, keep: bool) -> Outcome:
    from asterisk import manager

    m = manager.Manager()
    events: list[Any] = []
    count = 0

    def on_event(event: Any, source: Any) -> None:
        nonlocal count
        count += 1
        if keep:
            events.append(event)

    m.register_event("*", on_event)
    m.connect("127.0.0.1", port)  # returns the greeting
    m.login(USER, SECRET)
    m.event_dispatch_thread.join(TIMEOUT)  # ends once the stream has ended
    responses: list[Any] = []
    while not m._response_queue.empty():  # unsolicited replies pile up there (FIFO routing)
        responses.append(m._response_queue.get())
    m.close()
    messages = [peers.pyst2_dict(e.headers) for e in events + (responses if keep else [])]
    return count + len(responses), f"{count:,} events, {len(responses):,} responses", messages


def _asterisk_ami(port: int, keep: bool) -> Outcome:
    from asterisk.ami import client as ami

    kept: list[Any] = []
    counts = {"events": 0, "responses": 0, "unknown": 0}
    errors: list[str] = []

    def on(kind: str) -> Callable[..., None]:
        def handler(**kwargs: Any) -> None:
            counts[kind] += 1
            if keep and kind != "unknown":
                kept.append(kwargs.get("event") or kwargs.get("response"))

        return handler

    def on_disconnect(source: Any, error: Exception | None = None) -> None:
        if error is not None and not isinstance(error, StopIteration):
            errors.append(f"{type(error).__name__}: {error}")

    c = ami.AMIClient(address="127.0.0.1", port=port)  # timeout=3, buffer_size=1024
    c.add_listener(
        on_response=on("responses"), on_unknown=on("unknown"), on_disconnect=on_disconnect
    )
    c.add_event_listener(on("events"))
    reply = c.login(username=USER, secret=SECRET).response
    if reply is None or reply.is_error():
        return 0, "login failed", []
    c._thread.join(TIMEOUT)  # its reader thread ends with the stream
    note = f"{counts['events']:,} events, {counts['responses'] - 1:,} responses"
    if counts["unknown"]:
        note += f", {counts['unknown']:,} packs to on_unknown"
    if errors:
        note += f"; reader stopped by {errors[0]}"
    messages = [peers.asterisk_ami_dict(m) for m in kept[1:]]  # kept[0]: the login reply
    return counts["events"] + counts["responses"] - 1, note, messages


async def _panoramisk(port: int, keep: bool) -> Outcome:
    from panoramisk import Manager
    from panoramisk.ami_protocol import AMIProtocol

    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()
    kept: list[Any] = []
    counts = {"messages": 0, "events": 0}

    class Counting(AMIProtocol):  # type: ignore[misc]
        def handle_message(self, message: Any) -> None:
            counts["messages"] += 1
            if keep:
                kept.append(message)
            super().handle_message(message)

        def connection_lost(self, exc: Exception | None) -> None:
            if not ended.done():
                ended.set_result(None)
            super().connection_lost(exc)

    def on_event(manager: Any, event: Any) -> None:
        counts["events"] += 1

    manager = Manager(
        loop=loop,
        host="127.0.0.1",
        port=port,
        username=USER,
        secret=SECRET,
        ping_delay=3600,
        protocol_factory=Counting,  # its documented hook; counts each parsed message
    )
    manager.register_event("*", on_event)
    manager.connect()
    await asyncio.wait_for(ended, TIMEOUT)
    manager.close()
    # the login reply is the handshake's
    messages = [peers.panoramisk_dict(m) for m in kept[1:]]
    return counts["messages"] - 1, f"{counts['events']:,} events dispatched", messages


CLIENTS: dict[str, Callable[[int, bool], Outcome]] = {
    "hotline AMIClient (256 KiB reads)": lambda port, keep: asyncio.run(_hotline(port, keep)),
    "pyst2 0.5.1 (1 B reads)": _pyst2,
    "asterisk-ami 0.1.7 (1 KiB reads)": _asterisk_ami,
    "panoramisk 1.4 (256 KiB reads)": lambda port, keep: asyncio.run(_panoramisk(port, keep)),
}


def run(client: str, capture: Path, messages: int = 0, keep: bool = False) -> Session:
    """Start a replay server for ``capture`` (its first ``messages``), run ``client`` on it."""
    command = [sys.executable, str(REPLAY), str(capture), "--timeout", str(TIMEOUT)]
    if messages:
        command += ["--messages", str(messages)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            result: list[Outcome] = []
            start = time.perf_counter()
            # a thread, so that a client which never ends cannot hang the benchmark
            worker = threading.Thread(target=lambda: result.append(CLIENTS[client](port, keep)))
            worker.daemon = True
            worker.start()
            worker.join(TIMEOUT)
            seconds = time.perf_counter() - start
            if not result:
                return Session(seconds, 0, f"no end of stream in {TIMEOUT} s")
            count, note, kept = result[0]
            return Session(seconds, count, note, kept)
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(5)
            if server.poll() is None:
                server.kill()
