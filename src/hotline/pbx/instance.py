"""The instance directory of the bundled PBX: rendered config, logs, spool, run files.

On the host it is ``RUN_DIR/asterisk``; inside the chroot it is bind-mounted at
:data:`MOUNT_POINT`, which dialplan/asterisk.conf names.
"""

from __future__ import annotations

import grp
import math
import os
import pwd
import secrets
import struct
from collections.abc import Iterable
from pathlib import Path

from hotline.center.config import Center, CenterError, load_center
from hotline.host.settings import Settings
from hotline.pbx import kamailio
from hotline.pbx.errors import PBXError
from hotline.pbx.lan import TLS_CERT, TLS_DIR, TLS_KEY, Lan, agent_security, render_lan
from hotline.pbx.render import render_configs
from hotline.pbx.softphones import render_softphones
from hotline.pbx.trunk import render_trunk

MOUNT_POINT = "/srv/hotline"
ASTERISK_CONF = f"{MOUNT_POINT}/etc/asterisk.conf"
SUBDIRS = ("etc", "log", "spool", "run", "lib", "cache")


def secret_file(settings: Settings, name: str = "ami-secret") -> Path:
    return settings.run_dir / "secrets" / name


def generated_secret(settings: Settings, name: str) -> str:
    """A secret of the bundled PBX, generated once into a file only its owner can read."""
    path = secret_file(settings, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def resolve_secret(settings: Settings) -> Settings:
    """Settings with an AMI secret: the environment's, else the bundled PBX's generated one."""
    if settings.ami_secret is not None:
        return settings
    if settings.pbx != "bundled":
        raise PBXError("HOTLINE_AMI_SECRET is not set")
    return settings.with_secret(generated_secret(settings, "ami-secret"))


def sip_secret(settings: Settings) -> str:
    return settings.sip_secret or generated_secret(settings, "sip-secret")


def config_values(settings: Settings) -> dict[str, str]:
    if settings.ami_secret is None:
        raise PBXError("no AMI secret: call resolve_secret() first")
    return {
        "AMI_PORT": str(settings.ami_port),
        "AMI_USER": settings.ami_user,
        "AMI_SECRET": settings.ami_secret,
        "SIP_PORT": str(settings.sip_port),
        # transport-udp: loopback, on HOTLINE_SIP_ADDRESS when that is a loopback address
        # (127.0.0.2, 127.0.0.3: two PBXs of a centre on one machine)
        "SIP_LOOPBACK": settings.sip_address if lan(settings).loopback else "127.0.0.1",
        "RTP_START": str(settings.rtp_ports[0]),
        "RTP_END": str(settings.rtp_ports[1]),
    }


def lan(settings: Settings) -> Lan:
    """The agents' side of SIP (transports, TLS, SRTP, NAT, ACL) from the settings."""
    return Lan(
        address=settings.sip_address,
        port=settings.sip_port,
        tls_port=settings.sip_tls_port,
        tls=settings.sip_tls_cert is not None,
        external_address=settings.sip_external_address,
        local_nets=settings.sip_local_nets,
        networks=settings.sip_networks,
        srtp=settings.sip_srtp,
        etc=f"{MOUNT_POINT}/etc",
    )


def read_pem(path: Path, what: str, marker: str) -> str:
    """A PEM file the TLS transport needs, checked before Asterisk would refuse it."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not a PEM text file"
        raise PBXError(f"{what} {path}: {why}") from None
    if f"-----BEGIN {marker}" not in text and not (
        marker == "PRIVATE KEY" and "PRIVATE KEY-----" in text
    ):
        raise PBXError(f"{what} {path} holds no PEM {marker}")
    return text


def tls_files(settings: Settings) -> dict[str, str]:
    """The site's certificate and key, to copy into the instance (the chroot sees no other
    path); empty without TLS."""
    if settings.sip_tls_cert is None or settings.sip_tls_key is None:
        return {}
    return {
        TLS_CERT: read_pem(settings.sip_tls_cert, "HOTLINE_SIP_TLS_CERT", "CERTIFICATE"),
        TLS_KEY: read_pem(settings.sip_tls_key, "HOTLINE_SIP_TLS_KEY", "PRIVATE KEY"),
    }


def read_templates(dialplan_dir: Path) -> dict[str, str]:
    if not (dialplan_dir / "asterisk.conf").is_file():
        raise PBXError(
            f"no Asterisk configuration in {dialplan_dir}: set HOTLINE_DIALPLAN_DIR to a "
            "directory of templates (`hotline init DIR` writes one), or unset it for the "
            "bundled ones"
        )
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(dialplan_dir.glob("*.conf"))}


def read_center(settings: Settings) -> Center:
    try:
        return load_center(settings.center.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PBXError(f"cannot read {settings.center}: {exc.strerror}") from None
    except CenterError as exc:
        raise PBXError(f"{settings.center} is invalid:\n{exc}") from None


SUPERVISOR_BEEP = "supervisor-beep.slin"
"""What an agent hears when a supervisor joins their call, if the centre tells agents
(center.yaml supervision.notify_agent; the dialplan's hotline-supervise-notify)."""


def double_beep(hz: int = 1400, rate: int = 8000) -> bytes:
    """Two 150 ms beeps 100 ms apart: signed linear 16-bit, 8 kHz (Asterisk's ``.slin``)."""
    beep = [round(9000 * math.sin(2 * math.pi * hz * n / rate)) for n in range(rate * 15 // 100)]
    gap = [0] * (rate // 10)
    samples = beep + gap + beep
    return struct.pack(f"<{len(samples)}h", *samples)


PBX_USER = "asterisk"  # the Debian package's system user, in the rootfs's /etc/passwd
WRITABLE = ("log", "spool", "run", "lib", "cache")  # what Asterisk writes (the rest it reads)


def pbx_owner(rootfs: Path) -> tuple[int, int] | None:
    """The uid and gid Asterisk runs as (the rootfs's ``asterisk``), when hotline is root.

    None when hotline is not root: Asterisk then runs as hotline's own user.
    """
    if os.geteuid() != 0:
        return None
    try:
        lines = (rootfs / "etc" / "passwd").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PBXError(
            f"cannot read the rootfs's users ({exc.strerror}): run scripts/setup"
        ) from None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == PBX_USER:
            owner = int(fields[2]), int(fields[3])
            _refuse_a_host_account(owner)
            return owner
    raise PBXError(f"the rootfs {rootfs} has no user {PBX_USER!r}: rebuild it (scripts/setup)")


def _refuse_a_host_account(owner: tuple[int, int]) -> None:
    """Asterisk must not run with the rights of another account of this host: the rootfs's
    ids mean nothing outside it, and Debian numbered its asterisk user 101, which on a
    host with PostgreSQL is ``postgres``."""
    uid, gid = owner
    for kind, name in (("user", _host_user(uid)), ("group", _host_group(gid))):
        if name is not None and name != PBX_USER:
            raise PBXError(
                f"the rootfs's {PBX_USER} {kind} has id {uid if kind == 'user' else gid}, "
                f"which on this host is {name!r}: Asterisk would run with its rights. "
                "Rebuild the rootfs (`hotline pbx build`): it picks ids this host does not use"
            )


def _host_user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _host_group(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def _write_private(target: Path, text: str, owner: tuple[int, int] | None) -> None:
    """Write a file readable by its owner and Asterisk's group only, from its first byte
    (the mode is set at creation, not after: a secret is never readable by others)."""
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        if owner is not None:
            os.fchown(fd, 0, owner[1])
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
    finally:
        if fd >= 0:
            os.close(fd)
    tmp.replace(target)


def _own(base: Path, owner: tuple[int, int]) -> None:
    """Give Asterisk what it writes; keep everything else root's, readable by its group.

    Closed recordings are left as they are (there may be millions, and Asterisk never
    writes them again): only their folders, which MixMonitor adds files to.
    """
    uid, gid = owner
    os.chown(base, 0, gid)
    base.chmod(0o750)
    etc = base / "etc"
    os.chown(etc, 0, gid)
    etc.chmod(0o750)
    recordings = base / "spool" / "recordings"
    for sub in WRITABLE:
        top = base / sub
        for folder, _, files in os.walk(top):
            here = Path(folder)
            st = os.stat(here)
            if st.st_uid != uid:
                os.chown(here, uid, gid)
            if st.st_mode & 0o007:
                here.chmod(st.st_mode & 0o770)  # not for others (an older run's 0755)
            if here == recordings or recordings in here.parents:
                continue
            for name in files:
                path = here / name
                st = path.lstat()
                if st.st_uid != uid:
                    os.chown(path, uid, gid, follow_symlinks=False)
                if st.st_mode & 0o007 and not path.is_symlink():
                    path.chmod(st.st_mode & 0o770)


def share_with_pbx(settings: Settings, *paths: Path) -> None:
    """Let Asterisk read what hotline wrote for it (rendered dialplan, prompts) through its
    group, whatever hotline's umask (027: nothing of hotline's is for others)."""
    owner = pbx_owner(settings.rootfs)
    if owner is not None:
        _share(owner[1], paths)


def _share(gid: int, paths: Iterable[Path]) -> None:
    for top in paths:
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            if path.is_symlink() or not path.exists():
                continue
            os.chown(path, -1, gid)
            mode = path.stat().st_mode
            path.chmod(mode | (0o050 if path.is_dir() else 0o040))


def prepare(settings: Settings) -> Path:
    """Create the instance directory and (re)write its configuration; return its path.

    As root, the directories Asterisk writes belong to the rootfs's ``asterisk`` user and
    the configuration (the AMI and SIP secrets among it) is root's, readable by its group.
    """
    if settings.kamailio is not None and not settings.pbx_named:
        raise PBXError(
            "HOTLINE_KAMAILIO needs HOTLINE_PBX_NAME on a PBX: each PBX of a centre has its "
            "own name (its uniqueids and entity id derive from it, so two PBXs' calls never "
            "collide)"
        )
    base = settings.pbx_dir
    for sub in SUBDIRS:
        (base / sub).mkdir(parents=True, exist_ok=True)
    owner = pbx_owner(settings.rootfs)
    rendered = render_configs(read_templates(settings.dialplan_dir), config_values(settings))
    site = lan(settings)
    rendered["pjsip-lan.conf"] = render_lan(site)
    rendered["pjsip-agents.conf"] = render_softphones(
        read_center(settings), sip_secret(settings), agent_security(site), settings.kamailio
    )
    rendered[kamailio.PJSIP_FILE] = kamailio.render_pbx_side(settings.kamailio)
    rendered["asterisk.conf"] = kamailio.with_identity(
        rendered["asterisk.conf"], settings.pbx_name if settings.pbx_named else None
    )
    rendered.update(render_trunk(settings.trunk))
    (base / "prompts").mkdir(exist_ok=True)
    (base / "prompts" / SUPERVISOR_BEEP).write_bytes(double_beep())
    etc = base / "etc"
    for name, text in rendered.items():
        _write_private(etc / name, text, owner)
    tls = tls_files(settings)
    if tls:
        (etc / TLS_DIR).mkdir(exist_ok=True)
        for name, text in tls.items():
            _write_private(etc / TLS_DIR / name, text, owner)
    if owner is not None:
        _own(base, owner)
        _share(owner[1], [etc, base / "prompts"])
    return base
