"""AMI byte streams for the protocol tests: a synthetic one built from realistic frames, plus
every recorded ``tests/fixtures/ami/*.raw`` (the server→client bytes of a real session).

Drop a new ``.raw`` capture into tests/fixtures/ami/ and the chunking and fuzz properties run
over it too. Helpers here feed a stream in chunks and collect what the protocol emits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from hotline.ami import EventList, Message, Protocol, ProtocolError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ami"

TS = 1795463384.123456


def frame(*headers: tuple[str, str], stray: bytes = b"") -> bytes:
    """One AMI message as Asterisk writes it: ``Key: Value`` CRLF lines, then a blank line."""
    text = "".join(f"{key}: {value}\r\n" for key, value in headers) + "\r\n"
    return text.encode() + stray


def chan(prefix: str = "", **over: str) -> list[tuple[str, str]]:
    """The channel block Asterisk puts on Queue*/Agent*/DTMF* events (``Dest`` prefix too)."""
    fields = {
        "Channel": "Local/12346@ivr-00000000;2",
        "ChannelState": "6",
        "ChannelStateDesc": "Up",
        "CallerIDNum": "13800000001",
        "CallerIDName": "张三丰",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "zh",
        "AccountCode": "",
        "Context": "ivr",
        "Exten": "12346",
        "Priority": "5",
        "Uniqueid": "1795463379.1",
        "Linkedid": "1795463379.0",
    } | over
    return [(prefix + key, value) for key, value in fields.items()]


AGENT = {
    "Channel": "Local/speak@agents-00000001;1",
    "CallerIDNum": "1001",
    "CallerIDName": "李四",
    "Context": "agents",
    "Exten": "speak",
    "Priority": "1",
    "Uniqueid": "1795463384.2",
    "Linkedid": "1795463379.0",
}
MEMBER = [("Queue", "property"), ("Interface", "Local/speak@agents/n"), ("MemberName", "agent1001")]


def event(name: str, *headers: tuple[str, str], privilege: str = "agent,all") -> bytes:
    """An event as manager_event() sends it (``timestampevents = yes``)."""
    head = [("Event", name), ("Privilege", privilege), ("Timestamp", f"{TS:.6f}")]
    return frame(*head, *headers)


def list_item(name: str, *headers: tuple[str, str]) -> bytes:
    """An item of a list action's answer: written by the action itself, so no Privilege."""
    return frame(("Event", name), *headers)


def queue_member_fields(paused: str, reason: str) -> list[tuple[str, str]]:
    return [
        ("Queue", "property"),
        ("MemberName", "agent1001"),
        ("Interface", "Local/speak@agents/n"),
        ("StateInterface", "Local/speak@agents/n"),
        ("Membership", "dynamic"),
        ("Penalty", "0"),
        ("CallsTaken", "1"),
        ("LastCall", "1795463391"),
        ("LastPause", "1795463400"),
        ("LoginTime", "1795463378"),
        ("InCall", "0"),
        ("Status", "1"),
        ("Paused", paused),
        ("PausedReason", reason),
        ("Ringinuse", "0"),
        ("Wrapuptime", "0"),
    ]


LEGACY_OUTPUT = (
    b"Name/username             Host                 Dyn Port     Status\n"
    b"agent1001/agent1001       127.0.0.1             D  5080     OK (1 ms)\n"
    b"\n"
    b"Key: not a header, just CLI text\r\n"
    b"\r\n"
    b"1 sip peers [Monitored: 1 online, 0 offline]\n"
)


def synthetic_frames() -> list[bytes]:
    """A session's worth of realistic frames, in order (see docs/platform.md for the fields)."""
    qs = ("ActionID", "qs-1")
    return [
        # The AMI version after the slash differs per release (11.0.0 on Asterisk 22).
        b"Asterisk Call Manager/11.0.0\r\n",
        frame(
            ("Response", "Success"), ("ActionID", "login-1"), ("Message", "Authentication accepted")
        ),
        frame(
            ("Event", "FullyBooted"),
            ("Privilege", "system,all"),
            ("Timestamp", f"{TS:.6f}"),
            ("Uptime", "12"),
            ("LastReload", "12"),
            ("Status", "Fully Booted"),
        ),
        event("QueueCallerJoin", *chan(), ("Queue", "property"), ("Position", "1"), ("Count", "1")),
        event("AgentCalled", *chan(), *chan("Dest", **AGENT), *MEMBER),
        event(
            "AgentConnect",
            *chan(),
            *chan("Dest", **AGENT),
            *MEMBER,
            ("HoldTime", "0"),
            ("RingTime", "0"),
        ),
        # A list action answered while ordinary events keep arriving; two lists overlap.
        frame(
            ("Response", "Success"),
            qs,
            ("EventList", "start"),
            ("Message", "Queue status will follow"),
        ),
        frame(
            ("Response", "Success"),
            ("ActionID", "csc-1"),
            ("EventList", "start"),
            ("Message", "Channels will follow"),
        ),
        list_item(
            "QueueParams",
            ("Queue", "property"),
            ("Max", "0"),
            ("Strategy", "ringall"),
            ("Calls", "1"),
            ("Holdtime", "0"),
            ("TalkTime", "7"),
            ("Completed", "1"),
            ("Abandoned", "0"),
            ("ServiceLevel", "15"),
            ("ServicelevelPerf", "100.0"),
            ("ServicelevelPerf2", "100.0"),
            ("Weight", "0"),
            qs,
        ),
        list_item("QueueMember", *queue_member_fields("1", "午饭"), qs),
        list_item(
            "CoreShowChannel",
            ("ActionID", "csc-1"),
            *chan(),
            ("Application", "Queue"),
            ("ApplicationData", "property,,,,60"),
            ("Duration", "00:00:05"),
            ("BridgeId", ""),
        ),
        event(
            "DTMFEnd",
            *chan(),
            ("Digit", "1"),
            ("DurationMs", "100"),
            ("Direction", "Received"),
            privilege="dtmf,all",
        ),
        list_item(
            "QueueEntry",
            ("Queue", "property"),
            ("Position", "1"),
            *chan()[:5],
            ("Wait", "3"),
            ("Priority", "0"),
            qs,
        ),
        list_item(
            "CoreShowChannelsComplete",
            ("ActionID", "csc-1"),
            ("EventList", "Complete"),
            ("ListItems", "1"),
        ),
        list_item("QueueStatusComplete", qs, ("EventList", "Complete"), ("ListItems", "3")),
        event("QueueMemberPause", *queue_member_fields("1", "午饭")),
        event(
            "AgentComplete",
            *chan(),
            *chan("Dest", **AGENT),
            *MEMBER,
            ("HoldTime", "0"),
            ("TalkTime", "7"),
            ("Reason", "agent"),
        ),
        frame(
            ("Response", "Success"),
            ("ActionID", "cmd-1"),
            ("Message", "Command output follows"),
            ("Output", "Name/username   Host"),
            ("Output", "agent1001/agent1001   127.0.0.1"),
            ("Output", ""),
        ),
        b"Response: Follows\r\nPrivilege: Command\r\nActionID: cmd-2\r\n"
        + LEGACY_OUTPUT
        + b"--END COMMAND--\r\n\r\n",
        event(
            "VarSet",
            *chan(),
            ("Variable", "QUEUESTATUS"),
            ("Value", "CONTINUE"),
            ("ChanVariable", "HOTLINE_CALL=c-42"),
            ("ChanVariable", "CALLER_NAME=王五"),
            privilege="dialplan,all",
        ),
        # Debian's build: a TestEvent, sometimes followed by a stray blank line.
        frame(
            ("Event", "TestEvent"),
            ("Privilege", "reporting,all"),
            ("Type", "StateChange"),
            ("State", "PLAYBACK"),
            ("AppFile", "main/app_playback.c"),
            stray=b"\r\n",
        ),
        event(
            "OriginateResponse",
            ("ActionID", "orig-1"),
            ("Response", "Success"),
            ("Channel", "Local/12346@ivr-00000003;1"),
            ("Context", "caller-sim"),
            ("Exten", "press1"),
            ("Reason", "4"),
            ("Uniqueid", "1795463410.7"),
            ("CallerIDNum", "13800000002"),
            ("CallerIDName", "Caller 13800000002"),
            privilege="call,all",
        ),
        event(
            "Hangup",
            *chan(),
            ("Cause", "16"),
            ("Cause-txt", "Normal Clearing"),
            privilege="call,all",
        ),
    ]


def synthetic_capture() -> bytes:
    return b"".join(synthetic_frames())


def captures() -> list[tuple[str, bytes]]:
    """(name, stream) for the synthetic capture and every recorded ``.raw`` fixture."""
    found = [("synthetic", synthetic_capture())]
    if FIXTURES.is_dir():
        found += [(path.name, path.read_bytes()) for path in sorted(FIXTURES.glob("*.raw"))]
    return found


@dataclass(frozen=True)
class Outcome:
    """Everything a protocol emitted for a stream: items, then the error offset if any."""

    items: tuple[Message | EventList, ...]
    error_offset: int | None
    decode_errors: int


def feed(chunks: Iterable[bytes], protocol: Protocol | None = None) -> Outcome:
    """Feed chunks until the end or a ProtocolError; the items before an error count too."""
    protocol = protocol or Protocol()
    items: list[Message | EventList] = []
    for chunk in chunks:
        try:
            items += protocol.receive_data(chunk)
        except ProtocolError as exc:
            items += exc.items
            return Outcome(tuple(items), exc.offset, protocol.decode_errors)
    return Outcome(tuple(items), None, protocol.decode_errors)


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, duplicates give empty chunks)."""
    bounds = [0, *sorted(min(max(cut, 0), len(data)) for cut in cuts), len(data)]
    return [data[start:stop] for start, stop in pairwise(bounds)]
