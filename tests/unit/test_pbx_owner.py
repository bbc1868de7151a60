"""Asterisk never runs with the rights of another account of the host.

The rootfs's ids mean nothing outside it: Debian numbered its asterisk user 101, which on a
host with PostgreSQL is ``postgres``, and the bundled Asterisk ran as that uid.
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from hotline.pbx.errors import PBXError
from hotline.pbx.instance import pbx_owner


def rootfs(tmp_path: Path, uid: int, gid: int) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text(
        f"root:x:0:0:root:/root:/bin/bash\nasterisk:x:{uid}:{gid}:Asterisk:/var/lib/asterisk:/x\n"
    )
    return tmp_path


def unused_id() -> int:
    return next(
        i for i in range(64999, 60000, -1) if not any(u.pw_uid == i for u in pwd.getpwall())
    )


@pytest.fixture(autouse=True)
def as_root() -> None:
    assert os.geteuid() == 0, "hotline's test bed runs as root (the PBX drops to its own user)"


def test_a_rootfs_user_that_is_another_host_account_is_refused(tmp_path: Path) -> None:
    daemon = pwd.getpwnam("daemon")  # every Debian host has it
    with pytest.raises(PBXError, match=r"which on this host is 'daemon'.*hotline pbx build"):
        pbx_owner(rootfs(tmp_path, daemon.pw_uid, unused_id()))


def test_an_id_no_host_account_uses_is_taken(tmp_path: Path) -> None:
    free = unused_id()
    assert pbx_owner(rootfs(tmp_path, free, free)) == (free, free)
