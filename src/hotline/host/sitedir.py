"""A site's own copies of the files the package carries: ``hotline init DIR``.

    init_site(Path("/etc/hotline"))   # DIR/dialplan/*.conf, DIR/flows/12345.yaml,
                                      # DIR/center.yaml, DIR/hotline.env

A centre edits its copies (its menus, its agents and teams, its PBX templates) and points
hotline at them with ``HOTLINE_SITE=DIR`` (what ``hotline.env`` says). A file that is there
already is kept, so running init again after an upgrade only adds what is new.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from hotline.host.settings import DEFAULT_CENTER, DEFAULT_DIALPLAN_DIR, DEFAULT_FLOW, SITE_FILES

ENV_FILE = "hotline.env"


class Outcome(Enum):
    WRITTEN = "written"
    KEPT = "kept (already there)"


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    outcome: Outcome


def _sources() -> list[tuple[Path, Path]]:
    """(bundled file, its path relative to the site directory)."""
    pairs = [(DEFAULT_FLOW, Path(SITE_FILES["flow"])), (DEFAULT_CENTER, Path(SITE_FILES["center"]))]
    pairs += [
        (conf, Path(SITE_FILES["dialplan"]) / conf.name)
        for conf in sorted(DEFAULT_DIALPLAN_DIR.glob("*.conf"))
    ]
    return pairs


def env_text(site: Path) -> str:
    return (
        "# hotline settings for this site: `set -a; . ./hotline.env; set +a` or a systemd\n"
        "# EnvironmentFile. Every HOTLINE_* variable is listed in the README.\n"
        f"HOTLINE_SITE={site}\n"
        "# HOTLINE_RUN_DIR=/var/lib/hotline\n"
        "# HOTLINE_REDIS_URL=redis://127.0.0.1:6379/0\n"
        "# the web app's address under systemd (hotline-web.service)\n"
        "# HOTLINE_WEB_HOST=127.0.0.1\n"
        "# HOTLINE_WEB_PORT=8345\n"
    )


def init_site(site: Path) -> list[Written]:
    """Write the editable copies into SITE (made if missing); keep files already there."""
    site = site.resolve()
    done: list[Written] = []
    for source, relative in _sources():
        target = site / relative
        if target.exists():
            done.append(Written(target, Outcome.KEPT))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        done.append(Written(target, Outcome.WRITTEN))
    env = site / ENV_FILE
    if env.exists():
        done.append(Written(env, Outcome.KEPT))
    else:
        env.write_text(env_text(site), encoding="utf-8")
        done.append(Written(env, Outcome.WRITTEN))
    return done
