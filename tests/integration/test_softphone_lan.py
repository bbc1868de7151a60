"""Softphones on the LAN: another host (a network namespace) registers over TLS and answers a
queue call with SRTP; a phone from outside the site's networks is refused.

The test makes its own "LAN": two namespaces on veth pairs with addresses of its own
(10.78.N.0/29, N from the pid, checked unused), the PBX's transports on the host side, the
agent's phone at .2 (inside the ACL, 10.78.N.0/30) and an outsider at .6 (outside it). All
are removed whatever happens. Needs root (namespaces).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.host.settings import Settings
from hotline.pbx import install
from hotline.pbx import runner as pbx
from tests.conftest import bed_env, free_port
from tests.integration.softphone import Softphone, speech
from tests.integration.test_ivr_calls import dial
from tests.integration.test_softphone_call import rms_db

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]


def ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False)


@dataclass
class Lan:
    ns: str  # the agent's host
    out_ns: str  # a host outside the site's networks
    host: str  # the PBX's address
    agent: str  # a phone inside the ACL
    outsider: str  # a phone outside it
    acl: str


@pytest.fixture
def lan() -> Iterator[Lan]:
    """Two namespaces, each on a veth pair of the test's own; always removed.

    The agent's is 10.78.N.0/30 (the PBX at .1, the phone at .2, the ACL); the outsider's
    10.78.N.4/30 (the host at .5, the phone at .6), with a route to the PBX's address.
    (One namespace with two addresses does not do: a TLS connection leaves from the
    interface's first address, whatever baresip binds for UDP.)
    """
    pid = os.getpid()
    net = f"10.78.{16 + pid % 200}"
    taken = ip("-o", "addr").stdout + ip("route", "show", "table", "all").stdout
    assert f"{net}." not in taken, f"{net}.0/29 is in use on this host: pick another"
    tag = pid % 10**6
    ns, out_ns = f"hl-lan-{pid}", f"hl-out-{pid}"
    veths = (f"hlh{tag}", f"hlo{tag}")
    try:
        for args in (
            ("netns", "add", ns),
            ("netns", "add", out_ns),
            ("link", "add", veths[0], "type", "veth", "peer", "name", "sip0", "netns", ns),
            ("link", "add", veths[1], "type", "veth", "peer", "name", "sip0", "netns", out_ns),
            ("addr", "add", f"{net}.1/30", "dev", veths[0]),
            ("addr", "add", f"{net}.5/30", "dev", veths[1]),
            ("link", "set", veths[0], "up"),
            ("link", "set", veths[1], "up"),
            ("-n", ns, "addr", "add", f"{net}.2/30", "dev", "sip0"),
            ("-n", out_ns, "addr", "add", f"{net}.6/30", "dev", "sip0"),
            ("-n", ns, "link", "set", "sip0", "up"),
            ("-n", out_ns, "link", "set", "sip0", "up"),
            ("-n", ns, "link", "set", "lo", "up"),
            ("-n", out_ns, "link", "set", "lo", "up"),
            ("-n", out_ns, "route", "add", f"{net}.1/32", "via", f"{net}.5"),
        ):
            done = ip(*args)
            assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr}"
        yield Lan(ns, out_ns, f"{net}.1", f"{net}.2", f"{net}.6", f"{net}.0/30")
    finally:
        for veth in veths:
            ip("link", "del", veth)  # deletes its peer with it
        ip("netns", "del", ns)
        ip("netns", "del", out_ns)
    left = ip("netns", "list").stdout + ip("-br", "link").stdout
    for name in (ns, out_ns, *veths):
        assert name not in left


def make_certs(d: Path, address: str) -> tuple[Path, Path, Path]:
    """A site CA and a certificate for the PBX's address, signed by it (openssl)."""
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        d / n for n in ("ca.key", "ca.pem", "sip.key", "sip.csr", "sip.pem")
    )

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
            "-out", str(ca), "-days", "2", "-subj", "/CN=hotline test site CA")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
            "-subj", f"/CN={address}")  # fmt: skip
    ext = d / "ext.cnf"
    ext.write_text(f"subjectAltName = IP:{address}\nextendedKeyUsage = serverAuth\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))  # fmt: skip
    return ca, cert, key


@pytest.fixture
def lan_pbx(lan: Lan, tmp_path: Path) -> Iterator[Settings]:
    """A PBX of its own whose agents' transports listen on the LAN, with TLS and the ACL."""
    _, cert, key = make_certs(tmp_path / "tls", lan.host)
    env = bed_env(tmp_path / "run")
    env |= {
        "HOTLINE_SIP_ADDRESS": lan.host,
        "HOTLINE_SIP_TLS_PORT": str(free_port()),
        "HOTLINE_SIP_TLS_CERT": str(cert),
        "HOTLINE_SIP_TLS_KEY": str(key),
        "HOTLINE_SIP_NETWORKS": lan.acl,
        "HOTLINE_SIP_SRTP": "optional",
    }
    settings = Settings.from_env(env)
    install.install(settings, settings.flow)
    pbx.start(settings)
    try:
        yield settings
    finally:
        pbx.stop(settings)


@pytest_asyncio.fixture
async def lan_ami(lan_pbx: Settings) -> AsyncIterator[AMIClient]:
    client = AMIClient(pbx.endpoint(lan_pbx))
    await client.connect()
    yield client
    await client.close()


async def test_a_phone_on_the_lan_registers_over_tls_and_answers_with_srtp(
    lan: Lan, lan_pbx: Settings, lan_ami: AMIClient, tmp_path: Path
) -> None:
    started = time.monotonic()
    ami, settings = lan_ami, lan_pbx
    spool = settings.pbx_dir / "spool"
    speech(spool / "test-citizen.wav", "我要反映小区物业费的问题", pad=4)
    agent_audio = speech(tmp_path / "agent.wav", "您好，十二三四五热线，请讲。", pad=2)
    ca = tmp_path / "tls" / "ca.pem"
    tls = f"{lan.host}:{settings.sip_tls_port}"
    statuses = ami.subscribe("AgentCalled", "AgentConnect", "AgentComplete")
    hangups = ami.subscribe("Hangup")
    with Softphone(settings, "1001", tmp_path / "agent", agent_audio, netns=lan.ns,
                   address=lan.agent, server=tls, transport="tls", cafile=ca,
                   mediaenc="srtp") as phone:  # fmt: skip
        await ami.action(
            "QueueAdd",
            {"Queue": "intake", "Interface": "PJSIP/1001", "MemberName": "王芳",
             "StateInterface": "PJSIP/1001"},
        )  # fmt: skip
        uid = await dial(ami, "1-0", SPEECH="/srv/hotline/spool/test-citizen", TALK="15")
        seen: dict[str, dict[str, object]] = {}
        secure: dict[str, str | None] = {}
        try:
            while "AgentComplete" not in seen:
                event = await statuses.get(timeout=30)
                seen[event.name] = event.as_dict()
                if event.name == "AgentConnect":
                    channel = event.get("DestChannel") or ""
                    for var in ("CHANNEL(rtp,secure)", "CHANNEL(pjsip,secure)"):
                        reply = await ami.action("Getvar", {"Channel": channel, "Variable": var})
                        secure[var] = reply.get("Value")
        except TimeoutError:
            pytest.fail(f"no complete call; seen {list(seen)}; baresip:\n{phone.tail()}")
        log = phone.log.read_text(errors="replace")
    assert "{0/TLS/v4} 200 OK" in log, log[-2000:]
    assert "SRTP is Enabled" in log, phone.tail()
    assert secure == {"CHANNEL(rtp,secure)": "1", "CHANNEL(pjsip,secure)": "1"}
    assert seen["AgentConnect"]["MemberName"] == "王芳"
    while (await hangups.get(timeout=30)).get("Uniqueid") != uid:
        pass
    await asyncio.sleep(0.5)
    rx, tx = sorted((spool / "recordings").rglob(f"{uid}-[rt]x.wav"))
    # the agent's leg came over SRTP from the namespace and was decrypted: speech, not silence
    assert rms_db(tx) > -40, f"agent leg too quiet: {rms_db(tx)}"
    assert rms_db(rx) > -40, f"caller leg too quiet: {rms_db(rx)}"

    # the same (right) credentials from an address outside HOTLINE_SIP_NETWORKS are refused:
    # the endpoint's deny/permit is checked before the password, and the answer is a 401
    # (Asterisk does not tell a stranger that the endpoint exists)
    messages = settings.pbx_dir / "log" / "messages.log"
    with Softphone(settings, "1001", tmp_path / "outsider", agent_audio, netns=lan.out_ns,
                   address=lan.outsider, server=tls, transport="tls", cafile=ca,
                   expect="401 Unauthorized") as outsider:  # fmt: skip
        contacts = pbx.cli(settings, "pjsip show contacts")
        assert "200 OK" not in outsider.log.read_text(errors="replace")
    assert lan.outsider not in contacts, contacts
    refused = [ln for ln in messages.read_text(errors="replace").splitlines()
               if "Not match Endpoint ACL" in ln]  # fmt: skip
    assert refused, "no 'Not match Endpoint ACL' in messages.log"
    assert f"failed for '{lan.outsider}:" in refused[0]
    print(f"LAN softphone test body: {time.monotonic() - started:.1f} s")
