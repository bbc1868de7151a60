"""SIP peers for bench/load.py: SIPp citizens and agents, their endpoints and registrations.

Citizens are one SIPp UAC process per run: PCMU audio from a pcap, RFC 4733 digits with
``play_dtmf`` (payload type 96, one digit per action), a ``P-Asserted-Identity`` whose
number names the run and the call (the ``sipp`` endpoint trusts it, so queue_log and the
history carry it as the caller's number). Agents are the centre's own PJSIP endpoints
(``pjsip-agents.conf``, auth and all): each registers, from the port an SIPp UAS process
then listens on, with the password hotline derives; the UAS answers every INVITE, plays
the agent's audio, and hangs up after the talk time (or takes the caller's BYE).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.sip import ulaw_audio, write_rtp_pcap

from hotline.host.settings import Settings
from hotline.ivr.asterisk import RECORD_LEGS
from hotline.pbx import runner as pbx
from hotline.pbx.softphones import agent_password

HERE = Path(__file__).parent / "sipp"
DTMF_MS = 1100  # a play_dtmf action: filler, the event, its end packets (tests/integration/sip.py)

ENDPOINTS = """; --- bench/load.py: SIPp citizens ---
[sipp]
type = endpoint
transport = transport-udp
context = hotline-ivr
disallow = all
allow = ulaw
dtmf_mode = rfc4733
direct_media = no
rtp_symmetric = yes
trust_id_inbound = yes
aors = sipp
[sipp]
type = aor
max_contacts = 5

[sippbare]
type = endpoint
transport = transport-udp
context = bench-bare
disallow = all
allow = ulaw
dtmf_mode = rfc4733
direct_media = no
rtp_symmetric = yes
trust_id_inbound = yes
aors = sippbare
[sippbare]
type = aor
max_contacts = 5
"""

BARE_CONTEXT = """
; --- bench/load.py: the bare peer, a call with nothing of hotline in it ---
[bench-bare]
exten => bare,1,Answer()
 same => n,Playback(/srv/hotline/prompts/zh/language)
 same => n,Echo()
 same => n,Hangup()
"""

# bench/load.py --breakdown: hotline's call built up from the bare one, a part at a time.
# Each caller is put through to agent 2001 + (its call number mod the agents): SIPp holds
# at most ``level`` calls up, numbered in order, so no two talk to the same agent at once.
BREAKDOWN_CONTEXT = """
; --- bench/load.py --breakdown: the call a part at a time ---
exten => _[a-z].,1,Answer()
 same => n,Set(AGENT=$[2001 + ${CALLERID(num):5} % @POOL@])
 same => n,Set(HOTLINE_REC=/srv/hotline/spool/bench-legs/${UNIQUEID})
 same => n,Playback(/srv/hotline/prompts/zh/language)
 same => n,Goto(bench-parts,${EXTEN},1)

[bench-parts]
; two channels bridged: the caller and an agent's phone (Dial, no queue, no recording)
exten => bridge,1,Dial(PJSIP/${AGENT})
 same => n,Hangup()
; the same with the two legs recorded as hotline records them (ivr/asterisk.py RECORD_LEGS)
exten => recorded,1,@RECORD_LEGS@
 same => n,Dial(PJSIP/${AGENT})
 same => n,Hangup()
; recorded, through hotline's queue (app_queue picks the agent): no IVR menu, no survey
exten => queued,1,@RECORD_LEGS@
 same => n,Queue(intake,ct,,,120)
 same => n,Hangup()
"""

BREAKDOWN = ("bare", "bridge", "recorded", "queued")  # then hotline's own call


def install_endpoints(settings: Settings) -> None:
    """The citizens' endpoints into the site include, then a res_pjsip reload."""
    (settings.pbx_dir / "etc" / "pjsip-hotline.conf").write_text(ENDPOINTS)
    pbx.reload_modules(settings, ["res_pjsip.so"])


def bench_dialplan(into: Path, source: Path, agents: int) -> Path:
    """A copy of the product's dialplan templates with the peers' context added (the
    breakdown's calls go to one of ``agents`` phones, 2001 on)."""
    into.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            (into / path.name).write_bytes(path.read_bytes())
    ext = into / "extensions.conf"
    parts = BREAKDOWN_CONTEXT.replace("@POOL@", str(agents)).replace("@RECORD_LEGS@", RECORD_LEGS)
    peers = BARE_CONTEXT + parts
    ext.write_text(ext.read_text() + peers)
    return into


# -- media -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Media:
    caller_intro: Path  # before the digit
    caller_talk: Path  # after the digit, until the end
    agent_talk: Path


def make_media(workdir: Path, talk_s: float, hold_s: float) -> Media:
    """PCMU pcaps: the caller's sweep (distinct SSRCs before and after the digit), the agent's."""
    workdir.mkdir(parents=True, exist_ok=True)
    voice = ulaw_audio(hold_s + 10, workdir)
    agent = voice[: int(8000 * talk_s)]
    return Media(
        write_rtp_pcap(workdir / "caller-intro.pcap", voice[:24000], ssrc=0x484F0001),
        write_rtp_pcap(workdir / "caller-talk.pcap", voice, ssrc=0x484F0002),
        write_rtp_pcap(workdir / "agent-talk.pcap", agent, ssrc=0x484F0003),
    )


# -- scenarios ---------------------------------------------------------------------------


def render(template: str, out: Path, values: dict[str, str]) -> Path:
    text = (HERE / template).read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    missing = re.findall(r"@[A-Z_]+@", text)
    assert not missing, f"unfilled {missing} in {template}"
    out.write_text(text)
    return out


def caller_scenario(
    workdir: Path, media: Media, *, user: str, prefix: str, digit: str, hold_s: float
) -> Path:
    """A citizen: audio, the digit 2 s after the answer, audio until a BYE or ``hold_s``."""
    return render(
        "load_caller.xml",
        workdir / f"caller-{prefix}.xml",
        {
            "USER": user,
            "PREFIX": prefix,
            "DIGIT": digit,
            "INTRO": str(media.caller_intro),
            "TALK": str(media.caller_talk),
            "FIRST_WAIT_MS": "2000",
            "DTMF_MS": str(DTMF_MS),
            "HOLD_MS": str(int(hold_s * 1000)),
        },
    )


def agent_scenario(workdir: Path, media: Media, *, talk_s: float) -> Path:
    return render(
        "load_agent.xml",
        workdir / "agent.xml",
        {"AUDIO": str(media.agent_talk), "TALK_MS": str(int(talk_s * 1000))},
    )


# -- registration ------------------------------------------------------------------------


def _digest(challenge: str, user: str, password: str, uri: str) -> str:
    params = dict(re.findall(r'(\w+)="?([^",]+)"?', challenge))
    realm, nonce = params["realm"], params["nonce"]
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
    cnonce, nc = uuid.uuid4().hex[:16], "00000001"
    if "auth" in params.get("qop", ""):
        resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
    else:
        resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        extra = ""
    opaque = f', opaque="{params["opaque"]}"' if "opaque" in params else ""
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{resp}", algorithm=MD5{opaque}{extra}'
    )


def _register_msg(ext: str, port: int, sip_port: int, cseq: int, auth: str = "") -> bytes:
    uri = f"sip:127.0.0.1:{sip_port}"
    lines = [
        f"REGISTER {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK{uuid.uuid4().hex[:16]}",
        "Max-Forwards: 70",
        f"From: <sip:{ext}@127.0.0.1>;tag={ext}bench",
        f"To: <sip:{ext}@127.0.0.1>",
        f"Call-ID: reg-{ext}-{port}@127.0.0.1",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{ext}@127.0.0.1:{port}>",
        "Expires: 3600",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    lines += ["User-Agent: hotline-bench", "Content-Length: 0", "", ""]
    return "\r\n".join(lines).encode()


def _status(reply: bytes) -> tuple[int, str]:
    """The status code and the MD5 digest challenge (Asterisk may offer SHA-256 too)."""
    text = reply.decode(errors="replace")
    code = int(text.split(" ", 2)[1])
    challenges = re.findall(r"^WWW-Authenticate:\s*(Digest .*?)\r$", text, re.M | re.I)
    return code, next((c for c in challenges if "SHA" not in c.upper()), "")


def register_agents(settings: Settings, secret: str, exts: list[str], port: int) -> None:
    """REGISTER every agent from ``port`` (Contact there: rewrite_contact keeps it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.settimeout(5)
        target = ("127.0.0.1", settings.sip_port)
        for ext in exts:
            sock.sendto(_register_msg(ext, port, settings.sip_port, 1), target)
            code, challenge = _status(_recv_final(sock))
            if code == 401:
                uri = f"sip:127.0.0.1:{settings.sip_port}"
                auth = _digest(challenge, ext, agent_password(secret, ext), uri)
                sock.sendto(_register_msg(ext, port, settings.sip_port, 2, auth), target)
                code, _ = _status(_recv_final(sock))
            if code != 200:
                raise RuntimeError(f"agent {ext}: REGISTER answered {code}")


def _recv_final(sock: socket.socket) -> bytes:
    while True:
        data, _ = sock.recvfrom(65535)
        if data.startswith(b"SIP/2.0 1"):
            continue
        if data.startswith(b"SIP/2.0"):
            return data
        # a request (qualify OPTIONS) on this port before SIPp owns it: answer it
        sock.sendto(_ok(data), ("127.0.0.1", _via_port(data)))


def _via_port(request: bytes) -> int:
    via = re.search(rb"Via: SIP/2.0/UDP [^:]+:(\d+)", request)
    return int(via.group(1)) if via else 5060


def _ok(request: bytes) -> bytes:
    head = request.decode(errors="replace").split("\r\n")
    keep = [h for h in head if h.split(":")[0].lower() in {"via", "from", "to", "call-id", "cseq"}]
    return ("\r\n".join(["SIP/2.0 200 OK", *keep, "Content-Length: 0", "", ""])).encode()


# -- running SIPp ------------------------------------------------------------------------


@dataclass
class Sipp:
    proc: subprocess.Popen[bytes]
    short: Path
    errors: Path

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def start_uas(scenario: Path, port: int, media_port: int) -> Sipp:
    """The agents' phones: one SIPp UAS; ``-aa`` answers qualify OPTIONS."""
    work = scenario.parent
    argv = [
        "sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port),
        "-mp", str(media_port), "-aa", "-nostdin", "-timeout_error",
        "-trace_err", "-error_file", str(work / "agent.errors.log"),
        "-trace_shortmsg", "-shortmessage_file", str(work / "agent.short.log"),
        "-max_socket", "4096",
    ]  # fmt: skip
    with (work / "agent.stdout.log").open("ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=work)
    return Sipp(proc, work / "agent.short.log", work / "agent.errors.log")


def start_uac(
    scenario: Path,
    settings: Settings,
    *,
    service: str,
    calls: int,
    limit: int,
    rate: float,
    media_port: int,
) -> Sipp:
    """Citizens: ``calls`` calls, at most ``limit`` at once, ``rate`` new calls a second."""
    work, stem = scenario.parent, scenario.stem
    short, errors = work / f"{stem}.short.log", work / f"{stem}.errors.log"
    argv = [
        "sipp", "-sf", str(scenario), "-s", service, "-i", "127.0.0.1",
        "-p", str(free_udp_port()), "-mp", str(media_port),
        "-m", str(calls), "-l", str(limit), "-r", f"{rate:g}", "-rp", "1000",
        "-nostdin", "-timeout", "600s",
        "-trace_err", "-error_file", str(errors),
        "-trace_shortmsg", "-shortmessage_file", str(short),
        "-max_socket", "4096",
        f"127.0.0.1:{settings.sip_port}",
    ]  # fmt: skip
    with (work / f"{stem}.stdout.log").open("ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd=work)
    return Sipp(proc, short, errors)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- what SIPp saw -----------------------------------------------------------------------


@dataclass
class SippCall:
    """One call from SIPp's side, out of its short-message trace."""

    call_id: str
    number: str  # the P-Asserted-Identity number: the run's prefix + the call number
    start: float = 0.0
    end: float = 0.0
    answered: bool = False
    final: int = 0  # the INVITE's final answer
    bye_from: str = ""  # "pbx" (Asterisk hung up) or "us"
    bye_ok: bool = False
    messages: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.answered:
            return f"failed {self.final or 'no answer'}"
        if not self.bye_ok:
            return f"answered, no clean end ({self.bye_from or 'no BYE'})"
        return f"answered, BYE from {self.bye_from}"


def read_calls(short: Path, prefix: str) -> dict[str, SippCall]:
    """Per call (keyed by the caller number) from a UAC's ``-trace_shortmsg`` file."""
    calls: dict[str, SippCall] = {}
    if not short.exists():
        return calls
    for line in short.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 7:
            continue
        t, way, cid, cseq, first = float(parts[2]), parts[3], parts[4], parts[5], parts[6]
        number = prefix + cid.split("-", 1)[0]
        call = calls.setdefault(number, SippCall(cid, number, start=t))
        call.end = t
        call.messages.append(f"{way} {first.split(' ')[0] if way == 'S' else first[8:11]}")
        _note(call, way, cseq, first)
    return calls


def _note(call: SippCall, way: str, cseq: str, first: str) -> None:
    if "INVITE" in cseq and way == "R" and first.startswith("SIP/2.0"):
        code = int(first.split(" ")[1])
        if code >= 200:
            call.final = code
            call.answered = call.answered or code == 200
    elif "BYE" in cseq:
        if first.startswith("BYE"):
            call.bye_from = "us" if way == "S" else "pbx"
        elif first.startswith("SIP/2.0 200"):
            call.bye_ok = True


def concurrency(calls: dict[str, SippCall]) -> list[tuple[float, int]]:
    """(time, calls up) at each start and end."""
    edges: defaultdict[float, int] = defaultdict(int)
    for c in calls.values():
        edges[c.start] += 1
        edges[c.end] -= 1
    out, up = [], 0
    for t in sorted(edges):
        up += edges[t]
        out.append((t, up))
    return out


def wait_port_free(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"UDP port {port} still in use")


def agent_exts(count: int, first: int = 2001) -> list[str]:
    return [str(first + i) for i in range(count)]


def env_secret() -> str:
    return "bench-sip-" + os.urandom(6).hex()
