"""Files for a non-container install: systemd units and a logrotate configuration.

    units(exec_argv, env_file, user)     # {"hotline-pbx.service": text, ...}
    logrotate(exec_argv, run_dir)        # /etc/logrotate.d/hotline

The templates are package data (``host/systemd/``, ``host/logrotate/``); ``hotline systemd``
and ``hotline logrotate`` write them for a site. The units run what ``hotline run`` starts
(Redis, Asterisk, the controller, the STT worker, the web app), each restarted on failure,
logging to the journal, with the site's ``hotline.env`` as their EnvironmentFile.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from hotline.host.settings import bundled

__all__ = ["SERVICES", "TARGET", "logrotate", "units"]

TARGET = "hotline.target"
SERVICES = (
    "hotline-redis.service",
    "hotline-pbx.service",
    "hotline-controller.service",
    "hotline-stt.service",
    "hotline-web.service",
)


def _render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise ValueError(f"unrendered placeholders: {leftover}")
    return text


def _command(exec_argv: list[str]) -> str:
    return shlex.join(exec_argv)


def units(exec_argv: list[str], env_file: Path, user: str) -> dict[str, str]:
    """The unit files by name; EXEC_ARGV runs hotline (e.g. ``[python, "-m", "hotline"]``)."""
    if not env_file.is_absolute():
        raise ValueError(f"{env_file}: systemd needs an absolute EnvironmentFile")
    values = {"HOTLINE": _command(exec_argv), "ENV_FILE": str(env_file), "USER": user}
    root = bundled("host", "systemd")
    return {
        name: _render((root / name).read_text(encoding="utf-8"), values)
        for name in (TARGET, *SERVICES)
    }


def logrotate(exec_argv: list[str], run_dir: Path) -> str:
    """The logrotate configuration for the logs and queue_log under RUN_DIR."""
    text = bundled("host", "logrotate", "hotline").read_text(encoding="utf-8")
    return _render(text, {"HOTLINE": _command(exec_argv), "RUN_DIR": str(run_dir)})
