"""No root through the PBX: Asterisk runs unprivileged, the controller's AMI user reaches no
shell, and the files that hold secrets or recordings are not for others.

Every attempt below was a working way to a root shell on the bundled PBX before: the
controller's user had write class 'system' and Asterisk ran as uid 0.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from hotline.ami.client import AMIClient
from hotline.ami.message import Message
from hotline.host.settings import Settings
from hotline.pbx import process
from hotline.pbx import runner as pbx
from hotline.pbx.instance import pbx_owner


def _ids(pid: int) -> tuple[list[int], list[int]]:
    """(real, effective, saved, fs) uids and gids of a process."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return [int(x) for x in fields["Uid"].split()], [int(x) for x in fields["Gid"].split()]


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            children = (task / "children").read_text().split()
            out += [int(c) for c in children]
            todo += [int(c) for c in children]
    return out


def test_nothing_asterisk_runs_is_root(pbx_running: Settings) -> None:
    asterisk = process.asterisk_pid(pbx_running.pbx_dir)
    assert asterisk is not None
    for pid in [asterisk, *_descendants(asterisk)]:
        uids, gids = _ids(pid)
        assert 0 not in uids, f"pid {pid} has uids {uids}"
        assert 0 not in gids, f"pid {pid} has gids {gids}"


def test_secrets_and_what_asterisk_writes_are_not_for_others(pbx_running: Settings) -> None:
    base = pbx_running.pbx_dir
    for name in ("manager.conf", "pjsip-agents.conf"):
        mode = (base / "etc" / name).stat().st_mode
        assert mode & stat.S_IRWXO == 0, f"{name}: {stat.filemode(mode)}"
        assert (base / "etc" / name).stat().st_uid == 0  # Asterisk reads it, cannot change it
    for sub in ("log", "spool", "lib"):
        assert (base / sub).stat().st_mode & stat.S_IRWXO == 0, sub
    assert (base / "log" / "queue_log").stat().st_mode & stat.S_IRWXO == 0


@pytest_asyncio.fixture
async def controller_account(pbx_running: Settings) -> AsyncIterator[AMIClient]:
    """The controller's own AMI user (HOTLINE_AMI_USER), not the test bed's operator."""
    client = AMIClient(pbx.endpoint(pbx_running))
    await client.connect()
    yield client
    await client.close()


MARK = "/srv/hotline/spool/owned"  # inside the chroot; the instance's spool/ on the host


def _marked(settings: Settings) -> bool:
    return (settings.pbx_dir / "spool" / "owned").exists()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("action", "headers"),
    [
        ("ModuleLoad", {"Module": "app_system.so", "LoadType": "load"}),
        ("Reload", {"Module": "pbx_config"}),
        ("Command", {"Command": f"!touch {MARK}"}),
        (
            "UpdateConfig",
            {
                "SrcFilename": "extensions.conf",
                "DstFilename": "extensions.conf",
                "Action-000000": "Append",
                "Cat-000000": "hotline-ivr",
                "Var-000000": "exten",
                "Value-000000": f"666,1,System(touch {MARK})",
            },
        ),
        (
            "Originate",
            {
                "Channel": "Local/12345@hotline-ivr",
                "Application": "System",
                "Data": f"touch {MARK}",
            },
        ),
        (
            "Originate",
            {
                "Channel": "Local/12345@hotline-ivr",
                "Application": "TrySystem",
                "Data": f"touch {MARK}",
            },
        ),
        (
            "Originate",
            {
                "Channel": "Local/12345@hotline-ivr",
                "Application": "Verbose",
                "Data": f"${{SHELL(touch {MARK})}}",
            },
        ),
        ("Getvar", {"Variable": f"SHELL(touch {MARK})"}),
        ("Setvar", {"Variable": f"FILE({MARK})", "Value": "x"}),
    ],
)
async def test_the_controller_s_account_reaches_no_shell(
    controller_account: AMIClient, pbx_running: Settings, action: str, headers: dict[str, str]
) -> None:
    reply = await controller_account.action(action, headers, timeout=10, check=False)
    assert isinstance(reply, Message)
    print(action, reply.as_dict())
    assert (reply.get("Response") or "").lower() == "error", reply.as_dict()
    await asyncio.sleep(0.5)
    assert not _marked(pbx_running)


@pytest.mark.asyncio
async def test_a_global_variable_set_to_shell_text_stays_text(
    controller_account: AMIClient, pbx_running: Settings
) -> None:
    """Setvar's value is stored, never evaluated."""
    await controller_account.action(
        "Setvar", {"Variable": "HOTLINE_PROBE", "Value": f"${{SHELL(touch {MARK})}}"}
    )
    reply = await controller_account.action("Getvar", {"Variable": "HOTLINE_PROBE"})
    assert isinstance(reply, Message)
    assert reply.get("Value") == f"${{SHELL(touch {MARK})}}"  # the text as given
    assert not _marked(pbx_running)


def test_the_bundled_rootfs_has_an_asterisk_of_its_own(settings: Settings) -> None:
    """The builder gave the rootfs's asterisk user an id no account of this host uses (Debian's
    101 was postgres here)."""
    owner = pbx_owner(settings.rootfs)
    assert owner is not None
    assert owner[0] >= 64100
    assert owner[1] >= 64100
