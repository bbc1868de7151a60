"""Backup and restore of a site: the history, the recordings, queue_log and the secrets.

    manifest = backup(settings, Path("/backup/2026-12-07"), now_ms)
    manifest = restore(settings, Path("/backup/2026-12-07"))   # into an empty site only
    problems = check(settings)     # every hash chain, every recording against the catalogue

A backup is a directory: ``manifest.json`` and the files it lists, each with its size and
SHA-256 (``db/`` the SQLite history, ``run/`` what was under RUN_DIR, ``external/`` legs an
external Asterisk wrote elsewhere). The manifest is written last: a directory without one
is not a backup. What goes in:

- the SQLite history (calls, agent journal, access log, disposals, transcripts, accounts)
  through SQLite's online backup API: one consistent snapshot while the controller writes;
- every catalogued recording not disposed of (its path as that snapshot has it), and
  every file under the PBX's recordings spool (legs of calls not catalogued yet);
- queue_log, up to its last complete line, and its rotated files;
- the secrets (``RUN_DIR/secrets``: the AMI and SIP secrets, from which the agents' SIP
  passwords derive) and the audit anchors (``RUN_DIR/audit-anchors.jsonl``).

Not the Redis data: the live state is rebuilt from Asterisk; legs whose transcription was
queued but not done are queued again by ``hotline stt`` from the catalogue only if never
queued (see :meth:`hotline.stores.legs.Legs.unqueued`).

``restore`` refuses a site that is not empty and a backup whose files differ from its
manifest (missing, extra, another size or SHA-256) before writing anything. Restored into
another RUN_DIR, the catalogue's paths of legs not disposed of are moved along (paths in
the disposal records are part of their hash chain and stay as they were).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from hotline.host.settings import Settings
from hotline.recordings.errors import IntegrityError
from hotline.recordings.integrity import verify
from hotline.stores import anchors
from hotline.stores.dialect import Connection
from hotline.stores.site_chains import read_anchors, site_chains

__all__ = [
    "MANIFEST",
    "BackupError",
    "Checked",
    "Entry",
    "Manifest",
    "backup",
    "check",
    "manifest_sha256",
    "restore",
    "verify_backup",
]

MANIFEST = "manifest.json"
FORMAT = "hotline-backup/1"
DB = "db/hotline.sqlite3"
ANCHORS = "audit-anchors.jsonl"
_BLOCK = 1 << 20


class BackupError(Exception):
    """A backup cannot be made or restored as asked; the text says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # relative, in the backup directory
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    created: int  # epoch ms
    run_dir: str  # the RUN_DIR backed up
    files: tuple[Entry, ...]
    missing: tuple[str, ...] = ()  # catalogued legs whose file was not there to back up
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            d = json.loads(text)
            if d.get("format") != FORMAT:
                raise BackupError(f"not a {FORMAT} manifest (format {d.get('format')!r})")
            files = tuple(
                Entry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in d["files"]
            )
            return cls(int(d["created"]), str(d["run_dir"]), files, tuple(d.get("missing", ())))
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"the manifest is unreadable: {exc}") from None

    def count(self, prefix: str) -> int:
        return sum(1 for e in self.files if e.path.startswith(prefix))


@dataclass
class _Writer:
    """Copies files into the backup, hashing what it writes."""

    dest: Path
    entries: list[Entry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def copy(self, source: Path, name: str, limit: int | None = None) -> None:
        if name in self.seen:
            return
        target = self.dest / name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.entries.append(_copy(source, target, limit, name))
        self.seen.add(name)

    def add(self, name: str) -> None:  # a file already written into the backup
        path = self.dest / name
        self.entries.append(Entry(name, path.stat().st_size, _sha256(path)))
        self.seen.add(name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


def _copy(source: Path, target: Path, limit: int | None, name: str) -> Entry:
    """Copy SOURCE (its first LIMIT bytes) to TARGET (mode 0600); its entry."""
    h = hashlib.sha256()
    size = 0
    with source.open("rb") as src:  # first: a missing source leaves no empty copy behind
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        dst = os.fdopen(fd, "wb")
        with dst:
            while limit is None or size < limit:
                block = src.read(_BLOCK if limit is None else min(_BLOCK, limit - size))
                if not block:
                    break
                h.update(block)
                dst.write(block)
                size += len(block)
            dst.flush()
            os.fsync(dst.fileno())
    return Entry(name, size, h.hexdigest())


def _complete_lines(path: Path) -> int:
    """How many bytes of PATH (a log being appended to) end at its last newline now."""
    size = path.stat().st_size
    with path.open("rb") as f:
        end = size
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                return start + cut + 1
            end = start
    return 0


def _name_for(settings: Settings, path: Path) -> str:
    """Where a file of the site goes in the backup."""
    path = Path(os.path.abspath(path))
    run_dir = Path(os.path.abspath(settings.run_dir))
    if path.is_relative_to(run_dir):
        return "run/" + path.relative_to(run_dir).as_posix()
    return "external/" + path.as_posix().lstrip("/")


def _empty(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _snapshot(db: Path, target: Path) -> None:
    """The history as one consistent snapshot (SQLite's online backup API), mode 0600."""
    if not db.is_file():
        raise BackupError(f"no history at {db} (HOTLINE_DB)")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = sqlite3.connect(str(db))
    try:
        source.execute("PRAGMA busy_timeout=5000")
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)  # all pages in one step: one read transaction, one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
    finally:
        source.close()


def _live_legs(conn: Connection | sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(call_id, leg, path) of every catalogued leg not disposed of."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "recordings" not in tables:
        return []
    sql = "SELECT call_id, leg, path FROM recordings r"
    if "disposal_files" in tables:
        sql += (
            " WHERE NOT EXISTS (SELECT 1 FROM disposal_files f WHERE f.call_id = r.call_id"
            " AND f.path = r.path AND f.outcome IN ('deleted', 'missing'))"
        )
    return [(str(a), str(b), str(c)) for a, b, c in conn.execute(sql + " ORDER BY call_id, leg")]


def sqlite_file(settings: Settings) -> Path:
    """The history's file: backup and restore cover a SQLite site (a PostgreSQL history is
    backed up with PostgreSQL's own tools; the recordings and secrets still are ours)."""
    if not isinstance(settings.db, Path):
        raise BackupError(
            "HOTLINE_DB is PostgreSQL: back its database up with pg_dump or a standby; "
            "hotline backup covers a SQLite site"
        )
    return settings.db


def backup(settings: Settings, dest: Path, now: int) -> Manifest:
    """Back the site up into DEST (made if missing; must be empty)."""
    db = sqlite_file(settings)
    if not _empty(dest):
        raise BackupError(f"{dest} is not empty: back up into a new directory")
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    writer = _Writer(dest)
    _snapshot(db, dest / DB)
    writer.add(DB)
    conn = sqlite3.connect(f"file:{dest / DB}?mode=ro", uri=True)
    try:
        legs = _live_legs(conn)
    finally:
        conn.close()
    missing = []
    for call_id, leg, where in legs:
        try:
            writer.copy(Path(where), _name_for(settings, Path(where)))
        except FileNotFoundError:
            missing.append(f"{call_id} {leg} {where}")
    spool = settings.pbx_dir / "spool" / "recordings"
    for path in sorted(spool.rglob("*")) if spool.is_dir() else []:
        if path.is_file() and not path.is_symlink():
            writer.copy(path, _name_for(settings, path))
    logs = settings.pbx_dir / "log"
    for path in sorted(logs.glob("queue_log*")) if logs.is_dir() else []:
        writer.copy(path, _name_for(settings, path), _complete_lines(path))
    secrets = settings.run_dir / "secrets"
    for path in sorted(secrets.iterdir()) if secrets.is_dir() else []:
        if path.is_file():
            writer.copy(path, _name_for(settings, path))
    if (settings.run_dir / ANCHORS).is_file():
        writer.copy(settings.run_dir / ANCHORS, _name_for(settings, settings.run_dir / ANCHORS))
    manifest = Manifest(now, str(Path(os.path.abspath(settings.run_dir))), tuple(writer.entries),
                        tuple(missing))  # fmt: skip
    tmp = dest / f".{MANIFEST}.tmp"
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(dest / MANIFEST)  # last: a directory without a manifest is not a backup
    return manifest


def manifest_sha256(src: Path) -> str:
    """The manifest's own SHA-256: write it down elsewhere to know the backup later."""
    return _sha256(src / MANIFEST)


def _safe(name: str) -> bool:
    p = PurePosixPath(name)
    return (
        not p.is_absolute()
        and ".." not in p.parts
        and len(p.parts) >= 2
        and p.parts[0] in ("db", "run", "external")
    )


def _files(src: Path) -> Iterator[str]:
    for path in src.rglob("*"):
        if path.is_file() or path.is_symlink():
            yield path.relative_to(src).as_posix()


def verify_backup(src: Path) -> Manifest:
    """The manifest, if every file it lists is there with its size and SHA-256 and there is
    no other file; BackupError naming each difference otherwise."""
    try:
        manifest = Manifest.from_json((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{src} has no {MANIFEST}: not a (complete) backup") from None
    problems = []
    listed = {e.path for e in manifest.files}
    if DB not in listed:
        problems.append(f"{DB}: not in the manifest")
    for e in manifest.files:
        path = src / e.path
        if not _safe(e.path):
            problems.append(f"{e.path}: not a path a backup holds")
        elif path.is_symlink() or not path.is_file():
            problems.append(f"{e.path}: missing")
        elif path.stat().st_size != e.size:
            problems.append(f"{e.path}: {path.stat().st_size} bytes, the manifest says {e.size}")
        elif _sha256(path) != e.sha256:
            problems.append(f"{e.path}: SHA-256 differs from the manifest's")
    for name in sorted(set(_files(src)) - listed - {MANIFEST}):
        problems.append(f"{name}: not in the manifest")
    if problems:
        raise BackupError("the backup does not match its manifest:\n  " + "\n  ".join(problems))
    return manifest


def _target(settings: Settings, name: str) -> Path:
    if name == DB:
        return sqlite_file(settings)
    top, _, rest = name.partition("/")
    if top == "run":
        return settings.run_dir / rest
    return settings.run_dir / "external" / rest


def restore(settings: Settings, src: Path) -> Manifest:
    """Restore the backup at SRC into this (empty) site: RUN_DIR and HOTLINE_DB."""
    manifest = verify_backup(src)  # before anything is written
    if not _empty(settings.run_dir):
        raise BackupError(f"{settings.run_dir} is not empty: restore into an empty site only")
    if sqlite_file(settings).exists():
        raise BackupError(f"{settings.db} exists: restore into an empty site only")
    settings.run_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    for e in manifest.files:
        target = _target(settings, e.path)
        private = e.path.startswith(("run/secrets/", "db/"))
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o750)
        copied = _copy(src / e.path, target, None, e.path)
        if copied != e:  # the backup changed while we read it
            raise BackupError(f"{e.path}: the copy differs from the manifest; restore stopped")
    _relocate(settings, manifest)
    return manifest


def _relocate(settings: Settings, manifest: Manifest) -> None:
    """Point the catalogue's legs (those not disposed of) at where they were restored."""
    old_run = manifest.run_dir.rstrip("/")
    new_run = str(Path(os.path.abspath(settings.run_dir)))
    conn = sqlite3.connect(str(settings.db), isolation_level=None)
    try:
        moves = []
        for call_id, leg, path in _live_legs(conn):
            if path == old_run or path.startswith(old_run + "/"):
                moved = new_run + path[len(old_run) :]
            else:
                moved = str(Path(new_run) / "external" / path.lstrip("/"))
            if moved != path:
                moves.append((moved, call_id, leg))
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("UPDATE recordings SET path = ? WHERE call_id = ? AND leg = ?", moves)
        conn.execute("COMMIT")
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class Checked:
    chains: tuple[str, ...]  # the chains verified
    anchors: int  # anchors that hold
    recordings: int  # legs whose SHA-256 matches the catalogue
    problems: tuple[str, ...]


def check(settings: Settings) -> Checked:
    """Every hash chain intact (agent journal, access log, disposals), every anchor in
    RUN_DIR/audit-anchors.jsonl still true, every leg not disposed of with the catalogue's
    SHA-256."""
    anchored = read_anchors(settings.run_dir / ANCHORS) or []
    with site_chains(settings.db) as chains:
        failed = chains.unanchored(anchored)
        problems = chains.broken() + failed
        history = chains.history
        live = {(call_id, leg) for call_id, leg, _ in history.read(_live_legs)}
        ok = 0
        for call_id in sorted({call_id for call_id, _ in live}):
            for rec in history.recordings(call_id):
                if (rec.call_id, rec.leg.value) not in live:
                    continue
                try:
                    verify(rec)
                    ok += 1
                except IntegrityError as exc:
                    problems.append(str(exc))
    return Checked(anchors.CHAINS, len(anchored) - len(failed), ok, tuple(problems))
