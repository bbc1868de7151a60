"""`hotline backup DIR` / `hotline restore DIR`: a site with calls' recordings, an agent
journal, an access log, a disposal and anchors, backed up while the journal is written,
restored into an empty site elsewhere: every chain verifies, every recording has the
catalogue's SHA-256 at its new place; a tampered backup or a non-empty site is refused."""

from __future__ import annotations

import os
import shutil
import threading
import wave
from pathlib import Path

import pytest

from hotline.cli.main import main
from hotline.core.records import AgentChange
from hotline.host.settings import Settings
from hotline.recordings.catalogue import describe
from hotline.recordings.integrity import sha256_of
from hotline.recordings.leg import Leg
from hotline.recordings.retention import Due, Kept
from hotline.stores.access import AccessEntry, AccessLog
from hotline.stores.history import History
from hotline.stores.retention import RetentionStore

T0 = 1_796_000_000_000
QUEUE_LOG = b"1796000000|1.1|intake|NONE|ENTERQUEUE||13800000000|1\n"


def wav(path: Path, seconds: float, tone: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes([tone % 256, 0]) * int(8000 * seconds))


def site_env(run_dir: Path) -> dict[str, str]:
    return {"HOTLINE_RUN_DIR": str(run_dir), "HOTLINE_AMI_SECRET": "test-secret"}


def use(monkeypatch: pytest.MonkeyPatch, run_dir: Path) -> Settings:
    for key, value in site_env(run_dir).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HOTLINE_DB", raising=False)
    return Settings.from_env(site_env(run_dir))


def make_site(settings: Settings) -> dict[str, str]:
    """Calls with recorded legs (one call disposed of), journal, access log, queue_log,
    secrets; the catalogue's SHA-256 of each leg kept, by (call, leg)."""
    spool = settings.pbx_dir / "spool" / "recordings" / "2026" / "12" / "07"
    history = History.open(settings.db)
    catalogued: dict[str, str] = {}
    try:
        for n in range(4):
            call = f"1796000000.{n}"
            legs = []
            for leg, suffix in ((Leg.CALLER, "-rx.wav"), (Leg.AGENT, "-tx.wav")):
                path = spool / f"{call}{suffix}"
                wav(path, 0.5 + n / 10, n * 7 + (leg is Leg.AGENT))
                legs.append(describe(call, leg, path))
            assert history.save_recordings(legs, at=T0 + n) == []
            catalogued.update({f"{call} {r.leg.value}": r.sha256 for r in legs})
        history.append_journal(
            AgentChange(T0 + i, "1001", "pause" if i % 2 else "unpause", reason="meal")
            for i in range(20)
        )
    finally:
        history.close()
    access = AccessLog.open(settings.db)
    for i in range(5):
        access.append(AccessEntry(T0 + i, "jijian01", "auditor", "play", f"1796000000.{i}",
                                  "工单2026-1234"))  # fmt: skip
    access.close()
    retention = RetentionStore.open(settings.db)
    files = (str(spool / "1796000000.0-rx.wav"), str(spool / "1796000000.0-tx.wav"))
    kept = Kept("1796000000.0", "inquiry", T0, files, 0)
    assert retention.dispose(Due(kept, 180, T0 + 1), by="retention", t=T0 + 2) is not None
    retention.close()
    for leg in ("rx", "tx"):
        catalogued.pop(f"1796000000.0 {leg}")
    log = settings.pbx_dir / "log" / "queue_log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(QUEUE_LOG * 3 + b"1796000001|1.1|intake|NONE|CONN")  # a line half-written
    (settings.run_dir / "secrets").mkdir(mode=0o700)
    fd = os.open(settings.run_dir / "secrets" / "sip-secret", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"site-secret")
    os.close(fd)
    assert main(["audit", "anchor"]) == 0
    return catalogued


def test_backup_while_writing_then_restore_elsewhere_verifies_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = use(monkeypatch, tmp_path / "site-a")
    catalogued = make_site(old)

    # the controller goes on writing the journal while the backup runs
    stop = threading.Event()

    def write() -> None:
        history = History.open(old.db)
        try:
            n = 0
            while not stop.is_set():
                history.append_journal([AgentChange(T0 + 1000 + n, "1002", "ring")])
                n += 1
        finally:
            history.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert main(["backup", str(tmp_path / "backup")]) == 0
    finally:
        stop.set()
        writer.join()
    out = capsys.readouterr().out
    assert "6 recordings" in out, out  # the disposed call's two legs are gone
    assert "SHA-256" in out

    new = use(monkeypatch, tmp_path / "site-b")
    assert main(["restore", str(tmp_path / "backup")]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "6 legs match the catalogue's SHA-256" in out, out
    assert "3 anchors hold" in out, out
    assert main(["audit", "verify"]) == 0  # the command auditors run, on the restored site
    assert "intact: 3 chains, 3 anchors hold" in capsys.readouterr().out

    history = History.open(new.db)
    try:
        assert history.verify_journal() is None
        assert len(history.journal("1001")) == 20
        restored = {}
        for n in range(1, 4):
            for rec in history.recordings(f"1796000000.{n}"):
                assert Path(rec.path).is_relative_to(new.run_dir), rec.path  # not site-a's
                assert sha256_of(rec.path) == rec.sha256
                restored[f"{rec.call_id} {rec.leg.value}"] = rec.sha256
    finally:
        history.close()
    assert restored == catalogued
    retention = RetentionStore.open(new.db)
    assert retention.verify() is None
    assert [d.call_id for d in retention.disposals()] == ["1796000000.0"]
    retention.close()
    access = AccessLog.open(new.db)
    assert access.verify() is None
    access.close()
    # queue_log up to its last complete line; the secrets for the owner only
    assert (new.pbx_dir / "log" / "queue_log").read_bytes() == QUEUE_LOG * 3
    secret = new.run_dir / "secrets" / "sip-secret"
    assert secret.read_text() == "site-secret"
    assert secret.stat().st_mode & 0o077 == 0


def test_restore_refuses_a_site_in_use_and_a_backup_unlike_its_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_site(use(monkeypatch, tmp_path / "site-a"))
    backup = tmp_path / "backup"
    assert main(["backup", str(backup)]) == 0
    assert main(["backup", str(backup)]) == 1  # never over another backup
    assert "not empty" in capsys.readouterr().err

    use(monkeypatch, tmp_path / "site-a")  # the site it came from: not empty
    assert main(["restore", str(backup)]) == 1
    assert "not empty" in capsys.readouterr().err

    for damage in ("flip", "extra", "missing"):
        copy = tmp_path / f"backup-{damage}"
        shutil.copytree(backup, copy)
        leg = next((copy / "run").rglob("*-rx.wav"))
        if damage == "flip":
            data = bytearray(leg.read_bytes())
            data[-1] ^= 1
            leg.write_bytes(bytes(data))
        elif damage == "extra":
            (copy / "run" / "planted.wav").write_bytes(b"RIFF")
        else:
            leg.unlink()
        target = tmp_path / f"site-{damage}"
        use(monkeypatch, target)
        assert main(["restore", str(copy)]) == 1, damage
        err = capsys.readouterr().err
        assert "does not match its manifest" in err, err
        assert {"flip": "SHA-256 differs", "extra": "planted.wav: not in the manifest",
                "missing": ": missing"}[damage] in err  # fmt: skip
        assert not target.exists()  # nothing written
