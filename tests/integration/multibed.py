"""A centre of several PBXs behind Kamailio, on this machine (issue 16's test bed).

:class:`Centre` starts Kamailio on 127.0.0.1 and two bundled Asterisks on 127.0.0.2 and
127.0.0.3 (each its own run directory, AMI port, RTP range, ``systemname`` and
``entityid``), and stops them leaving nothing behind. Agents are SIPp servers (one per
extension, ``sipp/agent_uas.xml``) registered at Kamailio with a REGISTER sent from
here (digest auth, the password hotline derives from the bed's ``HOTLINE_SIP_SECRET``);
citizens are the IVR callers of :mod:`tests.integration.sip`, sent to Kamailio.

Reusable: the controller-over-two-PBXs tests build on it (``Centre.pbxs[i]`` are the
PBXs' Settings, with their AMI secrets). One bed serves the session (the ``kamailio_bed``
fixture of tests/integration/conftest.py): test_kamailio and test_kamailio_failover each
begin with :meth:`Centre.ensure_running`, and the last of them stops it.

    centre = Centre(tmp_path)
    centre.start_kamailio()
    centre.agent("1001", tmp_path / "agents")   # SIPp answering, registered (digest)
    centre.start_pbxs()                          # after: their first qualify finds her
    ...                                          # centre.stop_pbx(1): PBX B down
    centre.stop()                                # nothing left running
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hotline.host import procs
from hotline.host.settings import Settings
from hotline.pbx import install, instance, kamailio_run
from hotline.pbx import runner as pbx
from hotline.pbx.softphones import agent_password
from tests.conftest import bed_env
from tests.integration import sip
from tests.integration.conftest import add_ops_user

ADDRESSES = ("127.0.0.2", "127.0.0.3")
NAMES = ("pbx-a", "pbx-b")
KAMAILIO_ADDRESS = "127.0.0.1"


def free_udp(address: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


@dataclass
class Centre:
    """Kamailio + N bundled PBXs under ``base``; :meth:`stop` undoes everything."""

    base: Path
    count: int = 2
    kamailio_port: int = field(default_factory=lambda: free_udp(KAMAILIO_ADDRESS))
    pbxs: list[Settings] = field(default_factory=list)
    envs: list[dict[str, str]] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sip_secret = "bed-" + secrets.token_hex(8)  # the centre's: agents' passwords
        rtp = 40000 + (os.getpid() % 40) * 500
        for n in range(self.count):
            env = bed_env(self.base / NAMES[n])
            env |= {
                "HOTLINE_SIP_ADDRESS": ADDRESSES[n],
                "HOTLINE_SIP_PORT": str(free_udp(ADDRESSES[n])),
                "HOTLINE_RTP_PORTS": f"{rtp + n * 200}-{rtp + n * 200 + 199}",
                "HOTLINE_KAMAILIO": f"{KAMAILIO_ADDRESS}:{self.kamailio_port}",
                "HOTLINE_PBX_NAME": NAMES[n],
                "HOTLINE_SIP_SECRET": self.sip_secret,
            }
            self.envs.append(env)
            self.pbxs.append(Settings.from_env(env))
        self.kamailio_env = {
            "HOTLINE_RUN_DIR": str(self.base / "proxy"),
            "HOTLINE_KAMAILIO": f"{KAMAILIO_ADDRESS}:{self.kamailio_port}",
            "HOTLINE_KAMAILIO_PBXS": ",".join(f"{s.sip_address}:{s.sip_port}" for s in self.pbxs),
            "HOTLINE_SIP_SECRET": self.sip_secret,
            # the guards as a centre sets them: agents and carriers from named networks
            # (the tests play strangers from 127.0.0.40, outside both)
            "HOTLINE_SIP_NETWORKS": "127.0.0.0/28",
            "HOTLINE_KAMAILIO_CARRIERS": "127.0.0.0/28",
        }
        self.kamailio = Settings.from_env(self.kamailio_env)

    @property
    def proxy(self) -> tuple[str, int]:
        return KAMAILIO_ADDRESS, self.kamailio_port

    @property
    def log(self) -> Path:
        return self.kamailio.kamailio_dir / kamailio_run.LOG

    # -- starting and stopping ------------------------------------------------------------

    def start_kamailio(self) -> None:
        # pytest's temporary folders are 0700: Kamailio, dropped to its user, must pass them
        for parent in (self.base.resolve(), *self.base.resolve().parents):
            if parent == Path(tempfile.gettempdir()):
                break
            parent.chmod(parent.stat().st_mode | 0o001)
        kamailio_run.start(self.kamailio)

    def start_pbx(self, n: int) -> None:
        settings = instance.resolve_secret(self.pbxs[n])
        self.pbxs[n] = settings
        add_ops_user(settings)
        if not install.is_installed(settings):
            install.install(settings, settings.flow)
        pbx.start(settings)

    def start_pbxs(self) -> None:
        for n in range(self.count):
            self.start_pbx(n)

    def stop_pbx(self, n: int) -> None:
        pbx.stop(self.pbxs[n])

    def ensure_running(self) -> None:
        """Kamailio and every PBX running again (a module before may have stopped one),
        each agent's calls counted from now (:meth:`Agent.calls`)."""
        if kamailio_run.status(self.kamailio).state is not kamailio_run.KamailioState.RUNNING:
            self.start_kamailio()
        for n, settings in enumerate(self.pbxs):
            if pbx.status(settings).state is not pbx.PBXState.RUNNING:
                self.start_pbx(n)
        for agent in self.agents:
            agent.mark()

    def stop(self) -> None:
        """Stop the agents, the PBXs and Kamailio; fail if any process survives."""
        pids = [a.proc.pid for a in self.agents if a.proc is not None]
        for agent in self.agents:
            agent.stop()
        for settings in self.pbxs:
            with contextlib.suppress(Exception):
                pbx.stop(settings)
        record = kamailio_run._record(self.kamailio)
        kamailio_run.stop(self.kamailio)
        if record is not None:
            pids.append(record.pid)
        left = [pid for pid in pids if procs.alive(pid)]
        assert left == [], f"processes of the bed survive: {left}"

    # -- agents ---------------------------------------------------------------------------

    def register(
        self,
        ext: str,
        contact: tuple[str, int],
        expires: int = 600,
        password: str | None = None,
        source: str = "127.0.0.1",
    ) -> str:
        """REGISTER ``ext`` at Kamailio with ``contact`` and her password (the one hotline
        derives, unless given), from ``source``; Kamailio's final status line."""
        if password is None:
            password = agent_password(self.sip_secret, ext)
        return register(self.proxy, ext, contact, password, expires, source)

    def agent(self, ext: str, workdir: Path, talk_ms: int = 3000) -> Agent:
        """A SIPp agent for ``ext``, started and registered at Kamailio."""
        agent = Agent(ext, workdir, talk_ms)
        agent.start()
        status = self.register(ext, agent.address)
        assert status.startswith("SIP/2.0 200"), f"REGISTER {ext}: {status}"
        self.agents.append(agent)
        return agent

    # -- what Kamailio logged -------------------------------------------------------------

    def log_lines(self, marker: str, since: int = 0) -> list[str]:
        text = self.log.read_text(errors="replace")[since:]
        return [line for line in text.splitlines() if marker in line]

    def log_size(self) -> int:
        return self.log.stat().st_size


def _digest(challenge: str, ext: str, password: str, uri: str) -> str:
    """The Authorization header answering a WWW-Authenticate digest challenge (RFC 2617,
    MD5, qop=auth when offered)."""
    fields = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split(" ", 1)[1]))
    realm, nonce = fields["realm"], fields["nonce"]

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5(f"{ext}:{realm}:{password}"), md5(f"REGISTER:{uri}")
    header = f'Digest username="{ext}", realm="{realm}", nonce="{nonce}", uri="{uri}"'
    if "auth" in fields.get("qop", "").split(","):
        cnonce = secrets.token_hex(4)
        response = md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
        header += f', qop=auth, nc=00000001, cnonce="{cnonce}"'
    else:
        response = md5(f"{ha1}:{nonce}:{ha2}")
    return header + f', response="{response}", algorithm=MD5'


def register(
    proxy: tuple[str, int],
    ext: str,
    contact: tuple[str, int],
    password: str,
    expires: int = 600,
    source: str = "127.0.0.1",
) -> str:
    """A REGISTER for ``ext`` sent from ``source``, answering Kamailio's digest challenge
    once with ``password``; the first line of the final reply."""
    uri = f"sip:{proxy[0]}:{proxy[1]}"
    call_id = secrets.token_hex(8) + "@hotline-tests"
    tag = secrets.token_hex(4)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(1.0)
        host, port = s.getsockname()
        authorization = ""
        for cseq in (1, 2):
            msg = (
                f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {host}:{port};rport;branch=z9hG4bK{secrets.token_hex(6)}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:{ext}@{proxy[0]}>;tag={tag}\r\n"
                f"To: <sip:{ext}@{proxy[0]}>\r\n"
                f"Call-ID: {call_id}\r\n"
                f"CSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{ext}@{contact[0]}:{contact[1]}>;expires={expires}\r\n"
                f"{authorization}"
                "User-Agent: hotline-tests\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode()
            reply = _exchange(s, msg, proxy)
            first = reply.split("\r\n", 1)[0]
            challenge = next(
                (ln.split(":", 1)[1].strip() for ln in reply.split("\r\n")
                 if ln.lower().startswith("www-authenticate:")),
                None,
            )  # fmt: skip
            if not first.startswith("SIP/2.0 401") or challenge is None or cseq == 2:
                return first
            authorization = f"Authorization: {_digest(challenge, ext, password, uri)}\r\n"
    raise AssertionError("unreachable")


def _exchange(s: socket.socket, msg: bytes, proxy: tuple[str, int]) -> str:
    """Send ``msg`` (again on silence) and return the first final reply."""
    for _ in range(5):
        s.sendto(msg, proxy)
        try:
            while True:
                reply = s.recv(65535).decode(errors="replace")
                if not reply.startswith("SIP/2.0 1"):
                    return reply
        except TimeoutError:
            continue
    raise AssertionError(f"Kamailio at {proxy} did not answer a REGISTER")


# -- an agent's phone: SIPp as a server ---------------------------------------------------


@dataclass
class Agent:
    ext: str
    workdir: Path
    talk_ms: int = 3000
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    since: int = 0  # where this module's part of the message log begins (:meth:`mark`)

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    @property
    def messages(self) -> Path:
        return self.workdir / f"agent-{self.ext}.messages.log"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        template = (sip.SIPP_DIR / "agent_uas.xml").read_text()
        scenario = self.workdir / f"agent-{self.ext}.xml"
        scenario.write_text(
            template.replace("@EXT@", self.ext).replace("@TALK_MS@", str(self.talk_ms))
        )
        self.port = sip.free_udp_ports(1)
        media = sip.free_udp_ports(4)
        argv = [
            sip.tool("sipp"), "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(self.port),
            "-mp", str(media), "-aa", "-nostdin",
            "-trace_msg", "-message_file", str(self.messages),
            "-trace_err", "-error_file", str(self.workdir / f"agent-{self.ext}.errors.log"),
        ]  # fmt: skip
        out = (self.workdir / f"agent-{self.ext}.stdout.log").open("wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            cwd=self.workdir, start_new_session=True,
        )  # fmt: skip
        out.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # SIPp is up once its port is taken
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                try:
                    probe.bind(("127.0.0.1", self.port))
                except OSError:
                    return
            assert self.proc.poll() is None, f"SIPp agent {self.ext} exited at start"
            time.sleep(0.05)
        raise AssertionError(f"SIPp agent {self.ext} did not bind its port")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def mark(self) -> None:
        """Count calls from here on (the bed is shared by several modules)."""
        self.since = self.messages.stat().st_size if self.messages.exists() else 0

    def calls(self) -> list[Call]:
        """The agent's calls since :meth:`mark` from SIPp's message log: INVITE in,
        BYE/CANCEL/final."""
        with self.messages.open("rb") as log:
            log.seek(self.since)
            return parse_calls(log.read().decode(errors="replace"))


@dataclass
class Call:
    call_id: str
    pbx: str
    """The address of the PBX that sent the INVITE (the bottom Via)."""
    start: float
    end: float | None = None


_BLOCK = re.compile(
    r"^-+ (\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+)\s*\n"
    r"UDP message (sent|received)[^\n]*\n\n(.*?)(?=^-{20,} \d{4}-|\Z)",
    re.MULTILINE | re.DOTALL,
)


def _header(message: str, name: str) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in message.splitlines()
        if line.lower().startswith(name.lower() + ":")
    ]


def parse_calls(log: str) -> list[Call]:
    calls: dict[str, Call] = {}
    for stamp, way, message in _BLOCK.findall(log):
        at = datetime.fromisoformat(re.sub(r"\s+", " ", stamp)).timestamp()
        first = message.split("\n", 1)[0].strip()
        call_ids = _header(message, "Call-ID")
        if not call_ids:
            continue
        call_id = call_ids[0]
        if way == "received" and first.startswith("INVITE ") and call_id not in calls:
            vias = _header(message, "Via")
            m = re.search(r"UDP (\d+\.\d+\.\d+\.\d+)", vias[-1]) if vias else None
            calls[call_id] = Call(call_id, m.group(1) if m else "?", at)
        elif call_id in calls and calls[call_id].end is None:
            ends = first.startswith(("BYE ", "CANCEL ")) or (
                way == "sent" and re.match(r"SIP/2\.0 [3-6]\d\d", first) is not None
            )
            if ends:
                calls[call_id].end = at
    return sorted(calls.values(), key=lambda c: c.start)


def most_at_once(calls: list[Call]) -> int:
    """The largest number of the agent's calls that overlapped (ringing or talking)."""
    events = sorted(
        [(c.start, 1) for c in calls] + [(c.end if c.end is not None else 1e18, -1) for c in calls],
        key=lambda e: (e[0], e[1]),
    )
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


# -- citizens through Kamailio ------------------------------------------------------------


def caller_scenario(digits: str, workdir: Path, hold_ms: int, name: str) -> Path:
    """An IVR caller whose ACK and BYE follow Kamailio's Record-Route."""
    made = sip.write_scenario(sip.RFC4733, digits, workdir / name, sip.Timing(hold=hold_ms))
    text = made.read_text()
    text = text.replace("CSeq: 1 ACK\n", "CSeq: 1 ACK\n      [routes]\n")
    text = re.sub(r"(CSeq: \d+ (?:BYE|INFO)\n)", r"\1      [routes]\n", text)
    made.write_text(text)
    return made


async def call(
    centre: Centre, digits: str, workdir: Path, hold_ms: int, name: str, timeout: float = 90
) -> sip.SippRun:
    scenario = caller_scenario(digits, workdir, hold_ms, name)
    return await sip.run_sipp(
        scenario, centre.pbxs[0], remote=f"{centre.proxy[0]}:{centre.proxy[1]}", timeout=timeout
    )


async def place(
    centre: Centre, count: int, folder: str, hold_ms: int, *, timeout: float = 90
) -> list[asyncio.Task[sip.SippRun]]:
    """COUNT citizens pressing 0, sent to Kamailio 0.3 s apart (``<folder[0]><n>``, their
    files under ``base/folder``); the running calls, to be gathered."""
    runs = []
    for n in range(count):
        name = f"{folder[0]}{n}"
        runs.append(asyncio.create_task(
            call(centre, "0", centre.base / folder, hold_ms, name, timeout=timeout)
        ))  # fmt: skip
        await asyncio.sleep(0.3)
    return runs


def answered_by(run: sip.SippRun) -> str | None:
    """The PBX (its address) whose 200 OK the caller got, from the caller's log."""
    text = run.logs.get("messages", "")
    for block in text.split("UDP message received")[1:]:
        lines = block.split("\n\n", 1)[-1]
        if lines.startswith("SIP/2.0 200") and "INVITE" in "".join(_header(lines, "CSeq")):
            contact = "".join(_header(lines, "Contact"))
            m = re.search(r"@?(\d+\.\d+\.\d+\.\d+):", contact)
            return m.group(1) if m else None
    return None


def setup_seconds(run: sip.SippRun) -> float | None:
    """From the caller's INVITE to the 200 OK (SIPp's message log timestamps)."""
    sent = got = None
    for stamp, way, message in _BLOCK.findall(run.logs.get("messages", "")):
        at = datetime.fromisoformat(re.sub(r"\s+", " ", stamp)).timestamp()
        first = message.split("\n", 1)[0].strip()
        if way == "sent" and first.startswith("INVITE ") and sent is None:
            sent = at
        if way == "received" and first.startswith("SIP/2.0 200") and got is None:
            got = at
    return None if sent is None or got is None else got - sent
