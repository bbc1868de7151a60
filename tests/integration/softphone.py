"""A real agent softphone for tests: baresip, auto-answering, speaking a WAV file.

baresip 1.0.0 facts (docs/platform.md): ``net_interface 127.0.0.1`` or it advertises eth0; its
aufile source hangs up the call at the end of the file (so the agent "speaks and hangs up";
pad with silence to stay longer); ``sndfile`` dumps what it sent and received per call.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from hotline.host.settings import Settings
from hotline.pbx.instance import sip_secret
from hotline.pbx.softphones import agent_password


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def speech(path: Path, text: str, *, voice: str = "cmn-latn-pinyin", pad: float = 0.0) -> Path:
    """Synthesise ``text`` to an 8 kHz mono WAV, with ``pad`` seconds of silence after it."""
    raw = path.with_suffix(".22k.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
    effects = ["rate", "8000", "channels", "1"] + (["pad", "0", str(pad)] if pad else [])
    subprocess.run(["sox", str(raw), "-b", "16", str(path), *effects], check=True)
    raw.unlink()
    return path


@dataclass
class Softphone:
    """``with Softphone(settings, "1001", home, audio) as phone:`` registers and auto-answers."""

    settings: Settings
    ext: str
    home: Path
    audio: Path
    process: subprocess.Popen[bytes] | None = None
    netns: str | None = None
    """Run in this network namespace (another host on the LAN)."""
    address: str = "127.0.0.1"
    """The phone's own address (its SIP and RTP)."""
    server: str | None = None
    """The PBX's address and port to register with (default: loopback's SIP port)."""
    transport: str = "udp"
    cafile: Path | None = None
    """The CA that signed the PBX's certificate (TLS)."""
    mediaenc: str | None = None
    """baresip's media encryption: ``srtp`` (SDES where offered), ``srtp-mand``."""
    expect: str = "200 OK"
    """The registration reply to wait for (a refused phone: ``403``)."""
    control: int | None = None
    """A TCP port for baresip's ctrl_tcp (commands such as ``sndcode`` while in a call)."""

    @property
    def log(self) -> Path:
        return self.home / "baresip.log"

    def _configure(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "dumps").mkdir(exist_ok=True)
        lo, hi = 30000 + int(self.ext) % 100 * 20, 30019 + int(self.ext) % 100 * 20
        (self.home / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen {self.address}:{free_udp_port()}",
                    f"net_interface {self.address}",
                    f"sip_trans_def {self.transport}",
                    *([f"sip_cafile {self.cafile}"] if self.cafile else []),
                    "audio_player alsa,null",
                    "audio_alert alsa,null",
                    f"audio_source aufile,{self.audio}",
                    "ausrc_srate 8000",
                    "auplay_srate 8000",
                    "ausrc_channels 1",
                    "auplay_channels 1",
                    f"rtp_ports {lo}-{hi}",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module sndfile.so",
                    *(["module srtp.so"] if self.mediaenc else []),
                    f"snd_path {self.home / 'dumps'}",
                    "module_app account.so",
                    "module_app menu.so",
                    *(
                        ["module_app ctrl_tcp.so", f"ctrl_tcp_listen 127.0.0.1:{self.control}"]
                        if self.control
                        else []
                    ),
                    "",
                ]
            )
        )
        password = agent_password(sip_secret(self.settings), self.ext)
        server = self.server or f"127.0.0.1:{self.settings.sip_port}"
        uri = f"sip:{self.ext}@{server}" + (
            f";transport={self.transport}" if self.transport != "udp" else ""
        )
        media = f";mediaenc={self.mediaenc}" if self.mediaenc else ""
        (self.home / "accounts").write_text(
            f"<{uri}>;auth_pass={password};answermode=auto;"
            f"regint=300;audio_codecs=PCMU,PCMA{media}\n"
        )

    def __enter__(self) -> Softphone:
        self._configure()
        with self.log.open("wb") as out:
            prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
            self.process = subprocess.Popen(
                [*prefix, "baresip", "-f", str(self.home), "-n", self.address, "-t", "300"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while self.expect not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"baresip {self.ext} did not register:\n{self.tail()}")
            time.sleep(0.1)
        return self

    def command(self, command: str, params: str = "") -> str:
        """Send a command over ctrl_tcp (a netstring of JSON, as baresip 1.0 takes it);
        its response's text."""
        assert self.control, "start the phone with control=PORT"
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.control), timeout=5) as conn:
            conn.sendall(f"{len(body)}:".encode() + body + b",")
            data = b""
            while not data.endswith(b","):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.decode(errors="replace")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        # menu prints a status line every ~100 ms: drop those
        kept = [ln for ln in text.splitlines() if not re.match(r"^\s*\[?\d+:\d+:\d+", ln)]
        return "\n".join(kept[-lines:])

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
