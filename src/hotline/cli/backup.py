"""``hotline backup DIR`` and ``hotline restore DIR``: a site's history, recordings,
queue_log and secrets, with a manifest of every file's SHA-256.

    hotline backup /backup/hotline-2026-12-07    # consistent while the controller writes
    hotline restore /backup/hotline-2026-12-07   # into an empty site (RUN_DIR, HOTLINE_DB)

``restore`` checks the backup against its manifest before writing anything, refuses a site
that is not empty, then verifies what it restored: every hash chain (agent journal, access
log, disposals), the audit anchors, and every recording against the catalogue's SHA-256.
It exits 1 if any of that fails. Redis is not backed up (the live state is rebuilt from
Asterisk). Restore with the PBX, the controller and the web stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hotline.cli.common import CLIError
from hotline.host.clock import wall_ms
from hotline.host.settings import Settings
from hotline.stores import backup as store

__all__ = ["add_parsers", "run_backup", "run_restore"]


def add_parsers(sub: Any) -> None:
    b = sub.add_parser("backup", help="back up the history, recordings, queue_log, secrets")
    b.set_defaults(handler=run_backup)
    b.add_argument("dir", type=Path, help="a new (or empty) directory")
    r = sub.add_parser("restore", help="restore a backup into an empty site, then verify it")
    r.set_defaults(handler=run_restore)
    r.add_argument("dir", type=Path, help="a directory `hotline backup` wrote")


def run_backup(settings: Settings, args: argparse.Namespace) -> int:
    try:
        manifest = store.backup(settings, args.dir, wall_ms())
    except store.BackupError as exc:
        raise CLIError(str(exc)) from None
    _summary("backed up", manifest)
    for leg in manifest.missing:
        print(f"MISSING catalogued leg not on disk: {leg}")
    print(f"manifest    {args.dir / store.MANIFEST}  SHA-256 {store.manifest_sha256(args.dir)}")
    print("            (keep that hash elsewhere: it identifies this backup)")
    return 0


def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        manifest = store.restore(settings, args.dir)
    except store.BackupError as exc:
        raise CLIError(str(exc)) from None
    _summary("restored", manifest)
    print(f"into        {settings.run_dir} (history {settings.db})")
    checked = store.check(settings)
    print(f"chains      {', '.join(checked.chains)}; {checked.anchors} anchors hold")
    print(f"recordings  {checked.recordings} legs match the catalogue's SHA-256")
    for problem in checked.problems:
        print(f"FAILED {problem}")
    if checked.problems:
        return 1
    print("verified: every chain intact, every recording as catalogued")
    return 0


def _summary(done: str, manifest: store.Manifest) -> None:
    size = sum(e.size for e in manifest.files)
    print(f"{done:<11} {len(manifest.files)} files, {size / 1e6:.1f} MB (from {manifest.run_dir})")
    print(
        f"            history, {manifest.count('run/asterisk/spool/')} recordings, "
        f"{manifest.count('run/asterisk/log/queue_log')} queue_log files, "
        f"{manifest.count('run/secrets/')} secrets"
    )
