"""A tiny AMI replay server: plays a capture to one client over loopback TCP, then exits.

Usage::

    python bench/replay.py CAPTURE [--messages N] [--timeout S]

It listens on 127.0.0.1 on a free port and prints the port on stdout. To the first client it
sends the capture's greeting line, answers the client's handshake as Asterisk would
(``Challenge`` → a challenge, ``Login`` → ``Authentication accepted``; the ActionID echoed),
then streams the rest of the capture (the first N messages with ``--messages``) as fast as the
client reads it, closes the connection and exits. Anything the client sends after its login is
read and ignored. It never runs longer than ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from capture import TERMINATOR, prefix

WRITE_SIZE = 64 * 1024


def _headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode(errors="replace").split("\r\n"):
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), value.strip())
    return headers


async def _handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        action = _headers(await reader.readuntil(TERMINATOR))
        name = action.get("action", "").lower()
        reply = f"Response: Success\r\nActionID: {action.get('actionid', '')}\r\n"
        if name == "challenge":
            reply += "Challenge: 123456789\r\n"
        elif name == "login":
            reply += "Message: Authentication accepted\r\n"
        writer.write(reply.encode() + b"\r\n")
        if name == "login":
            return


async def _ignore(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def serve(data: bytes, timeout: float) -> None:
    greeting_end = data.index(b"\r\n") + 2
    finished = asyncio.Event()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.close()  # one client only
        drain = None
        try:
            writer.write(data[:greeting_end])
            await _handshake(reader, writer)
            drain = asyncio.create_task(_ignore(reader))
            view = memoryview(data)
            for start in range(greeting_end, len(data), WRITE_SIZE):
                writer.write(view[start : start + WRITE_SIZE])
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            if drain is not None:
                drain.cancel()
            finished.set()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished.wait(), timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--messages", type=int, default=0, help="only the first N (0: all)")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    data = args.capture.read_bytes()
    if args.messages:
        data = prefix(data, args.messages)
    asyncio.run(serve(data, args.timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
