"""Real SIP callers for the integration tests: PJSIP endpoints and SIPp 3.6.1 scenarios.

A SIPp caller INVITEs the DID from loopback, is identified by its From user (``sipp``:
RFC 4733 digits; ``sippinfo``: SIP INFO digits), plays PCMU audio from a pcap written
here, presses the menu digits and waits in the queue. Scenarios are rendered from the
templates in ``sipp/`` into the test's own directory, with literal paths: SIPp does not
substitute ``[$var]`` in media actions.

Playback of pcaps and of ``play_dtmf`` needs a raw socket (root or CAP_NET_RAW). A
missing ``sipp`` or ``sox`` fails the test, it never skips.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

import pytest

from hotline.ami.client import AMIClient, Subscription
from hotline.ami.errors import ActionFailed
from hotline.ami.message import EventList, Message
from hotline.host.settings import Settings
from hotline.pbx import runner as pbx
from tests.integration.conftest import OPS_USER

SIPP_DIR = Path(__file__).parent / "sipp"
CONF_NAME = "pjsip-hotline.conf"
"""pjsip.conf ends with ``#tryinclude pjsip-hotline.conf``: the one place for extra peers."""
BEGIN = "; --- hotline tests: SIPp callers (tests/integration/sip.py) ---"
END = "; --- end of hotline tests: SIPp callers ---"


class DtmfMode(Enum):
    RFC4733 = "rfc4733"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Caller:
    """A PJSIP endpoint identified by username (the From user), no auth, loopback only."""

    user: str
    dtmf: DtmfMode


RFC4733 = Caller("sipp", DtmfMode.RFC4733)
INFO = Caller("sippinfo", DtmfMode.INFO)
CALLERS = (RFC4733, INFO)


# -- the endpoints in the PBX ------------------------------------------------------------


def endpoints_conf(callers: tuple[Caller, ...] = CALLERS) -> str:
    blocks = [BEGIN]
    for c in callers:
        blocks.append(
            f"[{c.user}]\n"
            "type = endpoint\n"
            "transport = transport-udp\n"
            "context = hotline-ivr\n"
            "disallow = all\n"
            "allow = ulaw,alaw\n"
            f"dtmf_mode = {c.dtmf.value}\n"
            "direct_media = no\n"
            "rtp_symmetric = yes\n"
            f"aors = {c.user}\n"
            f"[{c.user}]\n"
            "type = aor\n"
            "max_contacts = 5\n"
        )
    blocks.append(END)
    return "\n".join(blocks) + "\n"


async def endpoint_details(client: AMIClient, name: str) -> Message | None:
    """PJSIPShowEndpoint's EndpointDetail, or None if Asterisk does not know ``name``."""
    try:
        reply = await client.action("PJSIPShowEndpoint", {"Endpoint": name})
    except ActionFailed:
        return None
    assert isinstance(reply, EventList)
    return next((e for e in reply.events if e.name == "EndpointDetail"), None)


async def reload_pjsip(settings: Settings, expect: dict[str, str | None]) -> None:
    """Reload res_pjsip (through the console: the controller's AMI user may not reload);
    wait until each endpoint has the DTMF mode expected (None: gone). PJSIPShowEndpoint
    needs the 'system' class: the test bed's operator account asks."""
    ep = pbx.endpoint(settings)
    client = AMIClient(replace(ep, username=OPS_USER, secret="ops-" + ep.secret))
    await client.connect()
    try:
        await asyncio.to_thread(pbx.reload_modules, settings, ["res_pjsip.so"])
        deadline = time.monotonic() + 10
        while True:
            got = {}
            for name in expect:
                detail = await endpoint_details(client, name)
                got[name] = None if detail is None else detail.get("DtmfMode")
            if got == expect:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"after a res_pjsip reload: endpoints {got}, wanted {expect}")
            await asyncio.sleep(0.2)
    finally:
        await client.close()


@contextlib.contextmanager
def installed_endpoints(settings: Settings) -> Iterator[tuple[Caller, ...]]:
    """Put the SIPp callers into the running PBX for the duration of the block.

    Writes them into the instance's ``etc/pjsip-hotline.conf`` (kept as it was if it
    already exists: the block is appended, then taken out again) and reloads res_pjsip.
    """
    path = settings.pbx_dir / "etc" / CONF_NAME
    before = path.read_text() if path.exists() else None
    base = before if before is not None and BEGIN not in before else ""
    if base and not base.endswith("\n"):
        base += "\n"
    path.write_text(base + endpoints_conf())
    modes: dict[str, str | None] = {c.user: c.dtmf.value for c in CALLERS}
    try:
        asyncio.run(reload_pjsip(settings, modes))
        yield CALLERS
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(base)
        asyncio.run(reload_pjsip(settings, dict.fromkeys(modes)))


# -- media -------------------------------------------------------------------------------


def tool(name: str) -> str:
    """The path of a required program; fail (never skip) if it is missing."""
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
    )
    if found is None:
        pytest.fail(f"{name} is not installed: run scripts/setup (Debian packages sip-tester, sox)")
    return found


def ulaw_audio(seconds: float, workdir: Path) -> bytes:
    """``seconds`` of 8 kHz µ-law from sox: a slow sweep, standing in for a voice."""
    out = workdir / f"caller-{seconds:g}s.ul"
    fmt = ["-r", "8000", "-c", "1", "-e", "u-law", "-t", "raw"]
    effect = f"synth {seconds:g} sine 200-600 vol 0.3".split()
    subprocess.run([tool("sox"), "-n", *fmt, str(out), *effect], check=True, capture_output=True)
    return out.read_bytes()


def _pcap(path: Path, packets: list[tuple[int, bytes]]) -> Path:
    """A pcap (Ethernet/IPv4/UDP) of RTP packets, each (time in µs, RTP bytes), for SIPp's
    play_pcap_audio: SIPp keeps only the UDP payload and the packet times; it rewrites the
    addresses and ports to the call's media ports."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # DLT_EN10MB
    for n, (t_us, rtp) in enumerate(packets):
        udp_len = 8 + len(rtp)
        udp = struct.pack("!HHHH", 6000, 6000, udp_len, 0)
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, n & 0xFFFF, 0, 64, 17, 0,
            socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"),
        )  # fmt: skip
        packet = b"\x00" * 12 + b"\x08\x00" + ip + udp + rtp
        out.append(
            struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(packet), len(packet))
        )
        out.append(packet)
    path.write_bytes(b"".join(out))
    return path


def write_rtp_pcap(path: Path, ulaw: bytes, *, ssrc: int, ptime_ms: int = 20) -> Path:
    """A pcap of PCMU RTP packets (``ulaw`` in ``ptime_ms`` frames) for play_pcap_audio."""
    samples = 8 * ptime_ms
    frames = [ulaw[i : i + samples] for i in range(0, len(ulaw) - samples + 1, samples)]
    return _pcap(path, [
        (n * ptime_ms * 1000,
         struct.pack("!BBHII", 0x80, 0x80 if n == 0 else 0x00, n, n * samples, ssrc) + frame)
        for n, frame in enumerate(frames)
    ])  # fmt: skip


def write_dtmf_pcap(
    path: Path, digit: str, *, event_pt: int, audio_pt: int = 8, ssrc: int = 0x44544D46
) -> Path:
    """A pcap of one RFC 4733 key press on payload type ``event_pt`` (what the far end
    offered: SIPp's own play_dtmf always uses 96): 200 ms of silence in ``audio_pt``
    (A-law by default) so the stream is latched, a 200 ms event, its three end packets."""
    event = "0123456789*#".index(digit) if digit in "0123456789*#" else None
    if event is None:
        raise ValueError(f"not a DTMF key: {digit!r}")
    silence = (b"\xd5" if audio_pt == 8 else b"\xff") * 160
    packets = []
    for n in range(10):
        rtp = struct.pack("!BBHII", 0x80, (0x80 if n == 0 else 0) | audio_pt, n, n * 160, ssrc)
        packets.append((n * 20_000, rtp + silence))
    start, seq = 10 * 160, 10
    for k in range(13):  # 10 updates, then the end packet three times (RFC 4733 2.5.1.4)
        end = k >= 10
        duration = 160 * min(k + 1, 10)
        payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, duration)
        marker = 0x80 if k == 0 else 0
        rtp = struct.pack("!BBHII", 0x80, marker | event_pt, seq + k, start, ssrc)
        packets.append((200_000 + min(k, 10) * 20_000 + max(0, k - 10) * 1000, rtp + payload))
    return _pcap(path, packets)


# -- scenarios ---------------------------------------------------------------------------


AUDIO_SSRC = 0x484F0000
"""The SSRC of the caller's first audio pcap; the k-th has AUDIO_SSRC + k."""

DTMF_MS = 1100
"""How long a play_dtmf action runs: 400 ms filler, a 200 ms event from 800 ms on, end
packets at about 1 s. Audio started earlier cuts the event off (no end packets)."""


@dataclass(frozen=True, slots=True)
class Timing:
    """When the caller acts, in milliseconds."""

    first_wait: int = 2000
    """after the ACK, before the first digit: the first prompt must have started."""
    gap: int = 1500
    """between two digits: an RFC 4733 digit takes 1.1 s (see ``DTMF_MS``), then audio."""
    hold: int = 4000
    """in the queue, waiting for a BYE from Asterisk before hanging up."""


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace ``@NAME@`` markers; a marker alone on a line with an empty value drops the
    line (an empty line would end the SDP)."""
    lines = []
    for line in template.splitlines():
        stripped = line.strip()
        if stripped.startswith("@") and stripped.endswith("@") and values.get(stripped[1:-1]) == "":
            continue
        for name, value in values.items():
            line = line.replace(f"@{name}@", value)
        lines.append(line)
    text = "\n".join(lines) + "\n"
    assert not re.search(r"@[A-Z_]+@", text), f"unfilled marker in:\n{text}"
    return text


def write_scenario(caller: Caller, digits: str, workdir: Path, timing: Timing = Timing()) -> Path:
    """Render one call of ``caller`` pressing ``digits`` (one per action) into ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    rest = timing.gap - DTMF_MS if caller.dtmf is DtmfMode.RFC4733 else timing.gap
    assert rest >= 200, "digits too close: SIPp cuts a digit off or Asterisk merges them"
    total_s = (timing.first_wait + len(digits) * timing.gap + timing.hold) / 1000 + 2
    pcaps = []
    # RFC 4733: one audio pcap before the first digit and after each; INFO: one for all
    segments = len(digits) + 1 if caller.dtmf is DtmfMode.RFC4733 else 1
    voice = ulaw_audio(total_s, workdir)
    for k in range(segments):
        pcap = workdir / f"{caller.user}-audio-{k}.pcap"
        pcaps.append(str(write_rtp_pcap(pcap, voice, ssrc=AUDIO_SSRC + k)))
    press = (SIPP_DIR / f"press_{caller.dtmf.value}.xml").read_text()
    steps = []
    for n, digit in enumerate(digits):
        values = {"DIGIT": digit, "USER": caller.user, "CSEQ": str(2 + n)}
        values |= {"DTMF_MS": str(DTMF_MS), "REST_MS": str(rest)}
        if caller.dtmf is DtmfMode.RFC4733:
            values["AUDIO"] = pcaps[n + 1]
        steps.append(_fill(press, values))
    infos = len(digits) if caller.dtmf is DtmfMode.INFO else 0
    sdp_dtmf = "a=rtpmap:96 telephone-event/8000\na=fmtp:96 0-16"
    values = {
        "USER": caller.user,
        "DIGITS": digits,
        "PAYLOAD_TYPES": "0 96" if caller.dtmf is DtmfMode.RFC4733 else "0",
        "SDP_DTMF": sdp_dtmf if caller.dtmf is DtmfMode.RFC4733 else "",
        "AUDIO": pcaps[0],
        "FIRST_WAIT_MS": str(timing.first_wait),
        "PRESS": "".join(steps).rstrip("\n"),
        "HOLD_MS": str(timing.hold),
        "BYE_CSEQ": str(2 + infos),
    }
    template = (SIPP_DIR / "ivr_caller.xml").read_text()
    # the SDP lines of SDP_DTMF keep the template's indentation
    values["SDP_DTMF"] = values["SDP_DTMF"].replace("\n", "\n      ")
    path = workdir / f"{caller.user}-{digits}.xml"
    path.write_text(_fill(template, values))
    return path


# -- running SIPp ------------------------------------------------------------------------


def free_udp_ports(count: int, avoid: tuple[int, int] | None = None) -> int:
    """The first of ``count`` consecutive free UDP ports on 127.0.0.1 (even, for RTP)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1] & ~1
        if avoid and avoid[0] - count < first <= avoid[1]:
            continue
        if first + count > 65535:
            continue
        held = []
        try:
            for port in range(first, first + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return first
    raise AssertionError(f"no {count} consecutive free UDP ports on 127.0.0.1")


_MESSAGE = re.compile(r"^UDP message (sent|received)[^\n]*\n\n([^\n]+)", re.MULTILINE)


@dataclass
class SippRun:
    argv: list[str]
    returncode: int | None
    seconds: float
    workdir: Path
    logs: dict[str, str] = field(default_factory=dict)

    def ladder(self) -> list[str]:
        """The SIP messages of the call from SIPp's side: ``> INVITE``, ``< 200``, ..."""
        text = self.logs.get("messages", "")
        out = []
        for way, first in _MESSAGE.findall(text):
            word = first.split()[1] if first.startswith("SIP/2.0") else first.split()[0]
            out.append(f"{'>' if way == 'sent' else '<'} {word}")
        return out

    def report(self) -> str:
        """The command, its exit code and its logs: for assertion messages."""
        parts = [
            f"$ {' '.join(self.argv)}",
            f"exit code {self.returncode} after {self.seconds:.1f} s",
        ]
        for name, text in self.logs.items():
            parts.append(f"--- {name} ---\n{text[-6000:]}")
        return "\n".join(parts)


async def run_sipp(
    scenario: Path,
    settings: Settings,
    *,
    timeout: float = 45.0,
    service: str = "12345",
    netns: str | None = None,
    local: tuple[str, int] | None = None,
    remote: str | None = None,
) -> SippRun:
    """One call of ``scenario`` to the PBX's SIP port; SIPp bound to loopback, free ports.

    ``netns``/``local``/``remote``: SIPp runs inside a network namespace the test made
    (a carrier, tests/integration/netns.py), bound to ``local``, calling ``remote``
    (HOST:PORT; ``""`` for a server scenario that only answers).
    """
    sipp = tool("sipp")
    if os.geteuid() != 0:
        caps = subprocess.run(["getcap", sipp], capture_output=True, text=True).stdout
        if "cap_net_raw" not in caps:
            pytest.fail(
                f"SIPp plays RTP with raw sockets: run as root or `setcap cap_net_raw+ep {sipp}`"
            )
    workdir = scenario.parent
    stem = scenario.stem
    logs = {
        "errors": workdir / f"{stem}.errors.log",
        "messages": workdir / f"{stem}.messages.log",
        "screen": workdir / f"{stem}.screen.log",
    }
    media = free_udp_ports(4, settings.rtp_ports)  # RTP, RTCP, and SIPp's video echo pair
    ip, port = local or ("127.0.0.1", free_udp_ports(1))
    argv = [
        *(["ip", "netns", "exec", netns] if netns else []),
        sipp, "-sf", str(scenario), "-s", service,
        "-i", ip, "-p", str(port), "-mp", str(media),
        "-m", "1", "-l", "1",
        "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-nostdin",
        "-trace_err", "-error_file", str(logs["errors"]),
        "-trace_msg", "-message_file", str(logs["messages"]),
        "-trace_screen", "-screen_file", str(logs["screen"]),
    ]  # fmt: skip
    if remote != "":
        argv.append(remote or f"127.0.0.1:{settings.sip_port}")
    stdout = workdir / f"{stem}.stdout.log"
    start = time.monotonic()
    with stdout.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            cwd=workdir,
        )  # fmt: skip
        rc: int | None = None
        try:
            rc = await asyncio.wait_for(proc.wait(), timeout + 15)
        except TimeoutError:
            pass
        finally:
            if proc.returncode is None:  # hung, or the test was cancelled
                proc.kill()
                await proc.wait()
    run = SippRun(argv, rc, time.monotonic() - start, workdir)
    for name, path in {**logs, "stdout": stdout}.items():
        if path.exists():
            run.logs[name] = path.read_text(errors="replace")
    return run


# -- what Asterisk said about the call ---------------------------------------------------


def rtcp_stats(value: str) -> dict[str, str]:
    """``CHANNEL(rtcp,all,audio)`` (``ssrc=…;themssrc=…;rxcount=…``) as a dict.

    Asterisk counts ``rxcount`` since the last SSRC change of the incoming stream.
    """
    return dict(item.split("=", 1) for item in value.split(";") if "=" in item)


class ChannelEvents:
    """DTMF, queue and hangup events of the channels whose name starts with ``prefix``."""

    NAMES = ("DTMFEnd", "QueueCallerJoin", "Hangup")

    def __init__(self, client: AMIClient, prefix: str) -> None:
        self.prefix = prefix
        self.events: list[Message] = []
        self.sub: Subscription = client.subscribe(*self.NAMES)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.sub:
            if (event.get("Channel") or "").startswith(self.prefix):
                self.events.append(event)

    def named(self, name: str) -> list[Message]:
        return [e for e in self.events if e.name == name]

    @property
    def digits(self) -> str:
        return "".join(e.get("Digit") or "?" for e in self.named("DTMFEnd"))

    @property
    def uniqueids(self) -> set[str]:
        return {e.get("Uniqueid") or "" for e in self.events}

    def summary(self) -> str:
        return "\n".join(
            f"{e.name} {e.get('Channel')} {e.get('Uniqueid')} "
            + " ".join(
                f"{k}={e.get(k)}"
                for k in ("Digit", "DurationMs", "Queue", "Language", "Cause", "Cause-txt")
                if e.get(k) is not None
            )
            for e in self.events
        )

    async def until(self, done: Callable[[], object], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    def close(self) -> None:
        self.sub.close()
        self.task.cancel()
