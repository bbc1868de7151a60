"""Record real AMI traffic from our Asterisk under queue load, and the reference parse of it.

Usage (the ``HOTLINE_*`` environment selects the Asterisk, as for ``hotline pbx start``; with
none running, a private one is started for the recording)::

    .venv/bin/python bench/capture.py --messages 100000     # writes bench/.data/capture-100000.raw

The load is IVR-less Local-channel traffic: ``--agents`` queue members
``Local/<ext>@hotline-test-agent/n`` in queue ``hotline-test`` and up to ``--concurrency``
simulated citizens originated as ``Local/queue@hotline-test`` with Chinese caller names. Now
and then an agent pauses with a Chinese reason (示忙) and a QueueStatus list is asked for, as the
controller does. The raw bytes, greeting included, are exactly what the AMI user ``hotline``
receives (its eventfilter drops CEL, Cdr, VarSet, Newexten, TestEvent, DeviceStateChange).

:func:`reference_parse` is the obviously-correct splitter every parser is judged against.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bed import private_pbx
from datadir import data_dir
from hotline.ami.client import AMIClient, ClientOptions
from hotline.ami.errors import ActionFailed, AMIError
from hotline.ami.message import EventList, Message
from hotline.ami.protocol import Protocol
from hotline.host.settings import Settings
from hotline.pbx import runner

QUEUE = "hotline-test"
TERMINATOR = b"\r\n\r\n"

# Headers as the reference sees them: a repeated header becomes the list of its values.
HeaderDict = dict[str, str | list[str]]

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高欧阳司马诸葛"
GIVEN = "三丰晓明建国秀英丽娟志强海燕伟华桂兰玉梅德胜淑珍春花国庆"
PAUSE_REASONS = ("示忙", "小休 break", "午饭", "培训 training", "整理工单")


def capture_path(messages: int) -> Path:
    return data_dir() / f"capture-{messages}.raw"


# -- the reference ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reference:
    greeting: str
    frames: list[bytes]
    """Every message's bytes, terminator excluded, stray leading blank lines removed."""
    stray_blank_lines: int
    """Frames that started with one or more stray CRLF (Asterisk sent an extra blank line)."""

    def headers(self, index: int) -> HeaderDict:
        return parse_frame(self.frames[index])


def reference_parse(data: bytes) -> Reference:
    """Split a capture the simplest possible way: the greeting line, then blank-line frames.

    Splitting on ``\\r\\n\\r\\n`` over the whole byte string cannot be confused by read
    boundaries; a frame left empty (several stray CRLFs in a row) is not a message. A capture
    holding a legacy ``Response: Follows`` Command reply is refused: plain splitting cannot
    frame that, and our AMI user has no ``command`` right anyway.
    """
    greeting, sep, rest = data.partition(b"\r\n")
    if not sep:
        raise ValueError("no greeting line")
    if not rest.endswith(TERMINATOR):
        raise ValueError("the capture ends inside a message")
    frames: list[bytes] = []
    stray = 0
    for raw in rest.split(TERMINATOR):
        frame = raw.lstrip(b"\r\n")
        if not frame:
            continue
        if frame is not raw:
            stray += 1
        if frame[:19].lower() == b"response: follows\r\n":
            raise ValueError("legacy Command output in the capture: not supported")
        frames.append(frame)
    return Reference(greeting.decode(), frames, stray)


def prefix(data: bytes, messages: int) -> bytes:
    """The greeting and the first ``messages`` messages of a capture (as the reference counts
    them), cut right after the last one's terminator."""
    pos = data.index(b"\r\n") + 2
    seen = 0
    while seen < messages:
        end = data.find(TERMINATOR, pos)
        if end < 0:
            return data
        if data[pos:end].lstrip(b"\r\n"):
            seen += 1
        pos = end + len(TERMINATOR)
    return data[:pos]


def parse_frame(frame: bytes) -> HeaderDict:
    """One frame's headers. Asterisk writes ``Key: value``; split on the first colon and drop
    one space after it, as its own astman_get_header does."""
    headers: HeaderDict = {}
    for line in frame.decode().split("\r\n"):
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        previous = headers.get(key)
        if previous is None:
            headers[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            headers[key] = [previous, value]
    return headers


def flatten(items: Sequence[Message | EventList]) -> list[Message]:
    """Our items as single messages: an EventList's response, events and completing event
    (it comes out when complete, so sort by ``offset`` for stream order)."""
    out: list[Message] = []
    for item in items:
        if isinstance(item, EventList):
            out.append(item.response)
            out.extend(item.events)
            out.append(item.complete)
        else:
            out.append(item)
    return out


def cross_check(data: bytes, ref: Reference) -> None:
    """Our protocol fed the whole capture at once must give exactly the reference messages.

    Our protocol groups list replies (EventList) and so emits their parts when the list is
    complete: compare in stream order, by offset.
    """
    items = Protocol(max_message_size=1 << 24).receive_data(data)
    messages = sorted(flatten(items)[1:], key=lambda m: m.offset)
    if len(messages) != len(ref.frames):
        raise AssertionError(f"hotline: {len(messages)} messages, reference {len(ref.frames)}")
    for index, message in enumerate(messages):
        if message.as_dict() != ref.headers(index):
            raise AssertionError(f"hotline and the reference differ at message {index}")


def event_mix(ref: Reference) -> Counter[str]:
    mix: Counter[str] = Counter()
    for frame in ref.frames:
        first = frame.split(b"\r\n", 1)[0].decode()
        key, _, value = first.partition(": ")
        mix[value if key == "Event" else f"Response: {value}"] += 1
    return mix


# -- the load --------------------------------------------------------------------------------


def caller_id(rng: random.Random, serial: int) -> str:
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
    return f'"{name}" <1380000{serial % 10000:04d}>'


class Load:
    """Keep ``concurrency`` simulated calls up until the stream holds ``target`` messages."""

    def __init__(self, client: AMIClient, agents: int, concurrency: int, rng: random.Random):
        self.client = client
        self.agents = [f"Local/{1001 + n}@hotline-test-agent/n" for n in range(agents)]
        self.concurrency = concurrency
        self.rng = rng
        self.in_flight = 0
        self.calls = 0
        self.failed = 0
        self.slot = asyncio.Event()

    async def reset(self) -> None:
        status = await self.client.action("QueueStatus", {"Queue": QUEUE})
        assert isinstance(status, EventList)
        for member in status.events:
            if member.name == "QueueMember" and member.get("Membership") == "dynamic":
                with contextlib.suppress(ActionFailed):
                    await self.client.action(
                        "QueueRemove", {"Queue": QUEUE, "Interface": member.get("Location") or ""}
                    )

    async def add_agents(self) -> None:
        for iface in self.agents:
            ext = iface.split("/")[1].split("@")[0]
            await self.client.action(
                "QueueAdd", {"Queue": QUEUE, "Interface": iface, "MemberName": f"agent{ext}"}
            )

    async def remove_agents(self) -> None:
        for iface in self.agents:
            with contextlib.suppress(ActionFailed):
                await self.client.action("QueueRemove", {"Queue": QUEUE, "Interface": iface})

    async def watch_hangups(self) -> None:
        hangups = self.client.subscribe("Hangup")
        async for event in hangups:
            channel = event.get("Channel") or ""
            # one ";1" half per originated citizen: its hangup ends the call
            if channel.startswith("Local/queue@hotline-test-") and channel.endswith(";1"):
                self.in_flight -= 1
                self.slot.set()

    async def originate(self) -> None:
        rng = self.rng
        headers = [
            ("Channel", "Local/queue@hotline-test"),
            ("Context", "hotline-test-caller"),
            ("Exten", "talk"),
            ("Priority", "1"),
            ("Async", "true"),
            ("CallerID", caller_id(rng, self.calls)),
            # one caller in ten gives up after 1-3 s, often still waiting: QueueCallerAbandon
            ("Variable", f"TALK={rng.randint(1, 3) if rng.random() < 0.1 else rng.randint(4, 12)}"),
            # Queue's dial passes on only "_"/"__" variables (measured: a plain AGENT_TALK
            # never reaches the member's Local channel; a Local channel copies all of them)
            ("Variable", f"__AGENT_TALK={rng.randint(1, 3)}"),
        ]
        self.in_flight += 1
        self.calls += 1
        try:
            await self.client.action("Originate", headers)
        except ActionFailed:
            self.in_flight -= 1
            self.failed += 1

    async def run(self, done: asyncio.Event, rate: float) -> None:
        while not done.is_set():
            if self.in_flight >= self.concurrency:
                self.slot.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.slot.wait(), 1.0)
                continue
            await self.originate()
            await asyncio.sleep(1 / rate)

    async def pauses(self, done: asyncio.Event) -> None:
        while not done.is_set():
            await asyncio.sleep(self.rng.uniform(1.0, 3.0))
            iface = self.rng.choice(self.agents)
            reason = self.rng.choice(PAUSE_REASONS)
            pause = {"Queue": QUEUE, "Interface": iface, "Paused": "true", "Reason": reason}
            await self.client.action("QueuePause", pause)
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            await self.client.action("QueuePause", {**pause, "Paused": "false", "Reason": ""})

    async def status_polls(self, done: asyncio.Event) -> None:
        while not done.is_set():
            await asyncio.sleep(10.0)
            await self.client.action("QueueStatus", {"Queue": QUEUE})


async def record(
    out: Path,
    target: int,
    *,
    agents: int,
    concurrency: int,
    rate: float,
    limit: float,
    settings: Settings | None = None,
) -> int:
    """Record until ``target`` messages (or ``limit`` seconds); return the bytes written."""
    chunks: list[bytes] = []
    counter = itertools.count(1)
    client = AMIClient(
        runner.endpoint(settings or Settings.from_env()),
        ClientOptions(subscriber_queue=100_000),
        new_action_id=lambda: f"bench-capture-{next(counter)}",
    )
    client.tap = chunks.append
    await client.connect()
    load = Load(client, agents, concurrency, random.Random(12345))
    done = asyncio.Event()
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    try:
        await load.reset()
        await load.add_agents()
        tasks = [
            asyncio.create_task(load.watch_hangups()),
            asyncio.create_task(load.run(done, rate)),
            asyncio.create_task(load.pauses(done)),
            asyncio.create_task(load.status_polls(done)),
        ]
        last = 0.0
        while client.stats.messages < target and time.monotonic() - started < limit:
            await asyncio.sleep(1.0)
            now = time.monotonic() - started
            if now - last >= 10:
                last = now
                print(
                    f"  {now:5.0f} s: {client.stats.messages} messages, {load.calls} calls, "
                    f"{load.in_flight} up, {load.failed} failed",
                    file=sys.stderr,
                )
        done.set()
        # let the calls still up finish, so the capture ends with complete calls
        deadline = time.monotonic() + 30
        while load.in_flight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await load.remove_agents()
    finally:
        done.set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, AMIError):
                await task
        await client.close()
    data = b"".join(chunks)
    data = data[: data.rfind(TERMINATOR) + len(TERMINATOR)]  # Logoff's reply may be cut off
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(out)
    return len(data)


@contextlib.contextmanager
def _asterisk() -> Iterator[Settings]:
    """The Asterisk the HOTLINE_* environment names if it runs; else a private one, started
    for the recording (so a fresh clone's `make bench` needs nothing running)."""
    settings = Settings.from_env()
    if runner.status(settings).state is runner.PBXState.RUNNING:
        yield settings
        return
    print("no PBX running with this environment: starting a private one", file=sys.stderr)
    with private_pbx("capture", redis=False) as (private, _):
        yield private


def ensure_capture(
    target: int, *, agents: int = 20, concurrency: int = 30, rate: float = 10.0, limit: float = 900
) -> Path:
    """The capture of ``target`` messages: reused if present, else recorded now."""
    path = capture_path(target)
    if path.exists():
        return path
    print(f"recording {path} from Asterisk (about {target // 400} s)...", file=sys.stderr)
    with _asterisk() as settings:
        size = asyncio.run(
            record(path, target, agents=agents, concurrency=concurrency, rate=rate, limit=limit,
                   settings=settings)
        )  # fmt: skip
    ref = reference_parse(path.read_bytes())
    if len(ref.frames) < target:
        short = path.rename(path.with_suffix(".short"))
        raise SystemExit(f"only {len(ref.frames)} messages in {limit} s; see {short}")
    print(f"recorded {len(ref.frames)} messages, {size} bytes", file=sys.stderr)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=30)
    parser.add_argument("--rate", type=float, default=10.0, help="originates per second, at most")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds, at most")
    args = parser.parse_args(argv)
    path = ensure_capture(
        args.messages,
        agents=args.agents,
        concurrency=args.concurrency,
        rate=args.rate,
        limit=args.limit,
    )
    data = path.read_bytes()
    ref = reference_parse(data)
    cross_check(data, ref)
    print(f"{path}: {len(ref.frames)} messages, {len(data)} bytes; hotline agrees")
    for name, count in event_mix(ref).most_common(10):
        print(f"  {count:7d}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
