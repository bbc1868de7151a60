"""Kamailio in front of several PBXs, and each PBX's side of it (pure).

The design (docs/architecture.md, "Scale-out"): agents register at Kamailio; every PBX
has the queues and reaches an agent with ``INVITE sip:<ext>@<kamailio>``, which Kamailio
sends to the agent's registered contact unless she already has a dialog (486: one agent,
one ringing or talking call, whichever PBX rings); citizens' calls arriving at Kamailio
from the carrier's side are spread over the PBXs (dispatcher set 1), each PBX probed with
OPTIONS every second, and an INVITE a PBX does not take goes to the next one.

This module renders:

* ``kamailio.cfg`` from the template the package carries (``pbx/kamailio.cfg``) and
  ``dispatcher.list``: :func:`render_kamailio`;
* on each PBX, ``pjsip-kamailio.conf``: Kamailio as an endpoint known by its address,
  whose calls enter the IVR (:func:`render_pbx_side`); the agents' contacts through
  Kamailio (:func:`agent_contact`); the PBX's own ``systemname`` and ``entityid``
  (:func:`with_identity`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass

from hotline.pbx.errors import PBXError
from hotline.pbx.render import render_configs

CFG = "kamailio.cfg"
DISPATCHER = "dispatcher.list"
PJSIP_FILE = "pjsip-kamailio.conf"
ENDPOINT = "hotline-kamailio"
IVR_CONTEXT = "hotline-ivr"
DS_SET = 1
DS_ROUND_ROBIN = 4
"""dispatcher algorithm 4: round robin (10, call load, needs dialog tracking of the
citizens' calls too; round robin keeps the bed's spread predictable)."""


@dataclass(frozen=True, slots=True)
class Proxy:
    """What Kamailio needs: where it listens, the PBXs, and its timers."""

    address: str
    port: int
    pbxs: tuple[tuple[str, int], ...]
    run_dir: str
    """Where the control socket and dispatcher.list are (Kamailio's run directory)."""
    ping_s: int = 1
    """``ds_ping_interval``: an OPTIONS to every PBX this often."""
    ping_threshold: int = 2
    """``ds_probing_threshold``: failed probes in a row before a PBX is marked down."""
    fr_ms: int = 2000
    """tm ``fr_timer``: no reply within it is a local 408 (a probe of a dead PBX)."""
    pbx_fr_ms: int = 1500
    """a citizen's INVITE to a PBX that sends nothing back within it goes to the next."""
    children: int = 2
    agents: tuple[tuple[str, str], ...] = ()
    """(extension, SIP password) of every phone that may register: the agents' and the
    supervisors' (center.yaml), with the passwords hotline derives for them."""
    agent_nets: tuple[str, ...] = ()
    """``HOTLINE_SIP_NETWORKS``: where phones may register from (empty: anywhere)."""
    carriers: tuple[str, ...] = ()
    """``HOTLINE_KAMAILIO_CARRIERS``: where citizens' calls may come from (empty: anywhere)."""
    flood: int = 100
    """``HOTLINE_KAMAILIO_FLOOD``: requests in 2 s from one address (not a PBX or carrier)
    above which it is ignored while it lasts (pike); 0: no guard."""
    auth_fails: int = 10
    """Failed digests from one address that shut it out ..."""
    ban_s: int = 300
    """... until this long after the last one."""


NOBODY = "255.255.255.255/32"  # a network no request comes from
AGENTS_MARKER = "\t# hotline-agents: one line per extension, rendered\n"
_EXT = re.compile(r"[0-9A-Za-z_-]{1,32}")
_PASSWORD = re.compile(r"[0-9a-f]{8,64}")


def _address(value: str, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise PBXError(f"{what}: {value!r} is not an IPv4 address") from None


def _port(value: int, what: str) -> int:
    if not 0 < value < 65536:
        raise PBXError(f"{what}: port {value} is outside 1..65535")
    return value


def check(proxy: Proxy) -> Proxy:
    """The proxy's values, or a :class:`PBXError` naming the bad one."""
    _address(proxy.address, "HOTLINE_KAMAILIO")
    _port(proxy.port, "HOTLINE_KAMAILIO")
    if proxy.address == "0.0.0.0":
        raise PBXError("HOTLINE_KAMAILIO=0.0.0.0: name the address agents and PBXs reach")
    if not proxy.pbxs:
        raise PBXError(
            "HOTLINE_KAMAILIO_PBXS is not set: list the centre's PBXs as ADDR:PORT, "
            "comma-separated (e.g. 127.0.0.2:5060,127.0.0.3:5060)"
        )
    for addr, port in proxy.pbxs:
        _address(addr, "HOTLINE_KAMAILIO_PBXS")
        _port(port, "HOTLINE_KAMAILIO_PBXS")
        if (addr, port) == (proxy.address, proxy.port):
            raise PBXError(
                f"HOTLINE_KAMAILIO_PBXS: {addr}:{port} is Kamailio's own address "
                "(HOTLINE_KAMAILIO): a PBX needs an address or port of its own"
            )
    if len({addr for addr, _ in proxy.pbxs}) != len(proxy.pbxs):
        # Kamailio tells a PBX's requests (to agents) from a citizen's by source address
        raise PBXError("HOTLINE_KAMAILIO_PBXS: each PBX needs an address of its own")
    if proxy.address in {addr for addr, _ in proxy.pbxs}:
        raise PBXError(
            f"HOTLINE_KAMAILIO_PBXS: {proxy.address} is Kamailio's address too: Kamailio "
            "could not tell a PBX's requests from its own"
        )
    if any(c in proxy.run_dir for c in '"\n\r\0'):
        raise PBXError(f"Kamailio's run directory {proxy.run_dir!r} has a quote or line break")
    if not (1 <= proxy.ping_s <= 60 and 1 <= proxy.ping_threshold <= 10):
        raise PBXError("probing: an interval of 1..60 s and a threshold of 1..10")
    for ext, password in proxy.agents:
        if not _EXT.fullmatch(ext):
            raise PBXError(f"center.yaml: extension {ext!r} cannot be a SIP user at Kamailio")
        if not _PASSWORD.fullmatch(password):
            raise PBXError(f"the SIP password of {ext} is not a derived one (hex)")
    if not (100 <= proxy.pbx_fr_ms <= proxy.fr_ms <= 30000):
        raise PBXError("timers: 100 <= the INVITE's timer <= fr_timer <= 30000 ms")
    for name, nets in (("HOTLINE_SIP_NETWORKS", proxy.agent_nets),
                       ("HOTLINE_KAMAILIO_CARRIERS", proxy.carriers)):  # fmt: skip
        for net in nets:
            try:
                ipaddress.IPv4Network(net)
            except ValueError:
                raise PBXError(f"{name}: {net!r} is not an IPv4 network") from None
    if not (0 <= proxy.flood <= 100_000):
        raise PBXError(f"HOTLINE_KAMAILIO_FLOOD={proxy.flood}: 0 (off) to 100000 requests in 2 s")
    if not (1 <= proxy.auth_fails <= 1000 and 10 <= proxy.ban_s <= 86_400):
        raise PBXError("failed digests: 1..1000 before a ban of 10..86400 s")
    return proxy


def _subnets(nets: tuple[str, ...]) -> str:
    """ipops' list of networks (``0.0.0.0/0``: any address)."""
    return ",".join(nets) or "0.0.0.0/0"


def render_dispatcher(proxy: Proxy) -> str:
    """dispatcher.list: set 1, one line per PBX (``pbx=<n>`` names it in the logs)."""
    lines = ["# Generated by hotline from HOTLINE_KAMAILIO_PBXS. Do not edit.",
             "# setid destination flags priority attributes"]  # fmt: skip
    for n, (addr, port) in enumerate(check(proxy).pbxs, start=1):
        lines.append(f"{DS_SET} sip:{addr}:{port} 0 0 pbx={n}")
    return "\n".join(lines) + "\n"


def render_kamailio(template: str, proxy: Proxy) -> dict[str, str]:
    """kamailio.cfg and dispatcher.list, from the template and the checked values."""
    check(proxy)
    values = {
        "LISTEN_ADDRESS": proxy.address,
        "LISTEN_PORT": str(proxy.port),
        "RUN_DIR": proxy.run_dir,
        "CHILDREN": str(proxy.children),
        "FR_MS": str(proxy.fr_ms),
        "PBX_FR_MS": str(proxy.pbx_fr_ms),
        "PING_S": str(proxy.ping_s),
        "PING_THRESHOLD": str(proxy.ping_threshold),
        "DS_SET": str(DS_SET),
        "DS_ALGORITHM": str(DS_ROUND_ROBIN),
        "AGENT_NETS": _subnets(proxy.agent_nets),
        "CARRIERS": _subnets(proxy.carriers),
        # the carriers are never flood-guarded; with none named, nobody is exempt
        "PIKE_EXEMPT": ",".join(proxy.carriers) or NOBODY,
        "FLOOD": str(proxy.flood),
        "PIKE_DENSITY": str(max(proxy.flood, 1)),  # pike's own minimum; unused at 0
        "AUTH_FAILS": str(proxy.auth_fails),
        "BAN_S": str(proxy.ban_s),
    }
    cfg = render_configs({CFG: template}, values)[CFG]
    if cfg.count(AGENTS_MARKER) != 1:
        raise PBXError(f"{CFG}: the template needs the line {AGENTS_MARKER.strip()!r} once")
    passwords = "".join(f'\t$sht(agents=>{ext}) = "{pw}";\n' for ext, pw in proxy.agents)
    cfg = cfg.replace(AGENTS_MARKER, AGENTS_MARKER + passwords)
    return {CFG: cfg, DISPATCHER: render_dispatcher(proxy)}


# -- each PBX's side ----------------------------------------------------------------------


def agent_contact(ext: str, proxy: tuple[str, int]) -> str:
    """The static contact of an agent's AOR on a PBX: her extension at Kamailio."""
    return f"sip:{ext}@{proxy[0]}:{proxy[1]}"


def render_pbx_side(proxy: tuple[str, int] | None) -> str:
    """pjsip-kamailio.conf: Kamailio as an endpoint identified by its address (its probes
    are answered 200, its INVITEs enter the IVR), nothing else may use it (ACL)."""
    head = "; Generated by hotline from HOTLINE_KAMAILIO. Do not edit."
    if proxy is None:
        return f"{head}\n; HOTLINE_KAMAILIO is unset: this PBX stands alone.\n"
    addr = _address(proxy[0], "HOTLINE_KAMAILIO")
    return "\n".join([
        head,
        f"; Kamailio at {addr}:{proxy[1]}: citizens' calls in, agents' calls out through it",
        "",
        f"[{ENDPOINT}]",
        "type = endpoint",
        "transport = transport-udp",
        f"context = {IVR_CONTEXT}",
        "disallow = all",
        "allow = ulaw,alaw",
        "dtmf_mode = rfc4733",
        "direct_media = no",
        "rtp_symmetric = yes",
        "trust_id_inbound = yes",
        f"aors = {ENDPOINT}",
        "deny = 0.0.0.0/0",
        f"permit = {addr}/32",
        "",
        f"[{ENDPOINT}]",
        "type = aor",
        f"contact = sip:{addr}:{proxy[1]}",
        "",
        f"[{ENDPOINT}]",
        "type = identify",
        f"endpoint = {ENDPOINT}",
        f"match = {addr}",
        "",
    ])  # fmt: skip


def entity_id(name: str) -> str:
    """A stable Asterisk ``entityid`` for the PBX named ``name``: a locally administered
    MAC-like id (the first octet's bit 1 set), so two PBXs of a centre never share one."""
    digest = bytearray(hashlib.sha256(name.encode()).digest()[:6])
    digest[0] = (digest[0] | 0x02) & 0xFE
    return ":".join(f"{b:02x}" for b in digest)


def with_identity(asterisk_conf: str, name: str | None) -> str:
    """asterisk.conf with this PBX's ``systemname`` and ``entityid`` in ``[options]``
    (unchanged without a name: one PBX keeps Asterisk's plain uniqueids)."""
    if name is None:
        return asterisk_conf
    lines = asterisk_conf.splitlines()
    try:
        at = next(i for i, line in enumerate(lines) if line.strip() == "[options]")
    except StopIteration:
        raise PBXError("asterisk.conf has no [options] section for systemname") from None
    own = [
        f"; HOTLINE_PBX_NAME: uniqueids read {name}-<epoch>.<n>",
        f"systemname = {name}",
        f"entityid = {entity_id(name)}",
    ]
    return "\n".join([*lines[: at + 1], *own, *lines[at + 1 :]]) + "\n"
