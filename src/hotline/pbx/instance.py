"""The instance directory of the bundled PBX: rendered config, logs, spool, run files.

On the host it is ``RUN_DIR/asterisk``; inside the chroot it is bind-mounted at
:data:`MOUNT_POINT`, which dialplan/asterisk.conf names.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hotline.center import Center, CenterError, load_center
from hotline.config import Settings
from hotline.pbx.errors import PBXError
from hotline.pbx.render import render_configs
from hotline.pbx.softphones import render_softphones

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
        "RTP_START": str(settings.rtp_ports[0]),
        "RTP_END": str(settings.rtp_ports[1]),
    }


def read_templates(dialplan_dir: Path) -> dict[str, str]:
    if not (dialplan_dir / "asterisk.conf").is_file():
        raise PBXError(
            f"no Asterisk configuration in {dialplan_dir}: set HOTLINE_DIALPLAN_DIR to the "
            "checkout's dialplan/ directory"
        )
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(dialplan_dir.glob("*.conf"))}


def read_center(settings: Settings) -> Center:
    try:
        return load_center(settings.center.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PBXError(f"cannot read {settings.center}: {exc.strerror}") from None
    except CenterError as exc:
        raise PBXError(f"{settings.center} is invalid:\n{exc}") from None


def prepare(settings: Settings) -> Path:
    """Create the instance directory and (re)write its configuration; return its path."""
    base = settings.pbx_dir
    for sub in SUBDIRS:
        (base / sub).mkdir(parents=True, exist_ok=True)
    rendered = render_configs(read_templates(settings.dialplan_dir), config_values(settings))
    rendered["pjsip-agents.conf"] = render_softphones(read_center(settings), sip_secret(settings))
    etc = base / "etc"
    for name, text in rendered.items():
        target = etc / name
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        # manager.conf holds the AMI secret
        tmp.chmod(0o600 if name in ("manager.conf", "pjsip-agents.conf") else 0o644)
        tmp.replace(target)
    return base
