"""hotline.ami's asyncio client against the real Asterisk: actions, lists, events, faults."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from hotline.ami.client import AMIClient, ClientOptions, Endpoint
from hotline.ami.errors import ActionFailed, LoginFailed, NotConnected
from hotline.ami.message import EventList, Message
from hotline.ami.stand_in import StandInAMI
from hotline.host.settings import Settings
from hotline.pbx import process
from hotline.pbx import runner as pbx
from tests.integration.conftest import OPS_USER

pytestmark = pytest.mark.asyncio


def endpoint(settings: Settings, **changes: str) -> Endpoint:
    base = pbx.endpoint(settings)
    return Endpoint(
        changes.get("host", base.host),
        base.port,
        changes.get("username", base.username),
        changes.get("secret", base.secret),
        changes.get("auth", base.auth),
    )


@pytest.mark.parametrize("auth", ["md5", "plain"])
async def test_login_both_ways(pbx_running: Settings, auth: str) -> None:
    client = AMIClient(endpoint(pbx_running, auth=auth))
    await client.connect()
    try:
        await asyncio.wait_for(client.fully_booted.wait(), 5)
        reply = await client.action("Ping")
        assert isinstance(reply, Message)
        assert reply.get("Ping") == "Pong"
    finally:
        await client.close()


async def test_a_wrong_secret_is_a_login_error(pbx_running: Settings) -> None:
    client = AMIClient(endpoint(pbx_running, secret="wrong"))
    with pytest.raises(LoginFailed, match="refused"):
        await client.connect()
    assert not client.connected


async def test_queue_status_arrives_as_one_list(ami: AMIClient) -> None:
    reply = await ami.action("QueueStatus", {"Queue": "hotline-test"})
    assert isinstance(reply, EventList)
    assert [e.name for e in reply.events] == ["QueueParams"]
    assert reply.events[0].get("ServiceLevel") == "15"
    assert reply.complete.name == "QueueStatusComplete"
    assert reply.complete.get("ListItems") == "1"


async def test_queue_add_and_pause_with_a_chinese_reason(ami: AMIClient) -> None:
    pauses = ami.subscribe("QueueMemberPause")
    iface = "Local/1001@hotline-test-agent/n"
    await ami.action(
        "QueueAdd", {"Queue": "hotline-test", "Interface": iface, "MemberName": "话务员1001"}
    )
    await ami.action(
        "QueuePause",
        {"Queue": "hotline-test", "Interface": iface, "Paused": "true", "Reason": "午饭 lunch"},
    )
    event = await pauses.get(timeout=5)
    assert event.get("MemberName") == "话务员1001"
    assert event.get("Paused") == "1"
    assert event.get("PausedReason") == "午饭 lunch"
    status = await ami.action("QueueStatus", {"Queue": "hotline-test"})
    assert isinstance(status, EventList)
    members = [e for e in status.events if e.name == "QueueMember"]
    assert [(m.get("Name"), m.get("Paused"), m.get("PausedReason")) for m in members] == [
        ("话务员1001", "1", "午饭 lunch")
    ]
    with pytest.raises(ActionFailed, match="QueueAdd"):  # already a member
        await ami.action("QueueAdd", {"Queue": "hotline-test", "Interface": iface})


async def test_originate_waits_for_its_response_and_tags_the_call(ami: AMIClient) -> None:
    events = ami.subscribe()
    action_id, response = await ami.originate(
        {
            "Channel": "Local/wait@hotline-test",
            "Application": "Wait",
            "Data": "5",
            "CallerID": '"张三丰" <13800000001>',
        }
    )
    assert response.name == "OriginateResponse"
    assert response.get("Response") == "Success"
    assert response.action_id == action_id
    names = set()
    while "张三丰" not in names:  # Newchannel comes before the caller ID is set
        event = await events.get(timeout=5)
        names.add(event.get("CallerIDName"))
    tagged = await ami.action(
        "Getvar", {"Channel": response.get("Channel") or "", "Variable": "HOTLINE_ORIGINATE_ID"}
    )
    assert isinstance(tagged, Message)
    assert tagged.get("Value") == action_id


async def test_command_output_is_kept_line_by_line(pbx_running: Settings) -> None:
    secret = "ops-" + (pbx_running.ami_secret or "")
    client = AMIClient(endpoint(pbx_running, username=OPS_USER, secret=secret))
    await client.connect()
    try:
        reply = await client.action("Command", {"Command": "core show help queue"})
        assert isinstance(reply, Message)
        output = reply.getall("Output")
        assert len(output) > 3
        assert any(line.startswith("queue show") for line in output)
    finally:
        await client.close()


async def test_the_controller_user_may_not_run_cli_commands(ami: AMIClient) -> None:
    with pytest.raises(ActionFailed, match="Permission denied"):
        await ami.action("Command", {"Command": "core stop now"})


async def wait_until(predicate: object, timeout: float) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_reconnects_after_kill_9_and_reruns_its_hooks(other_env: dict[str, str]) -> None:
    settings = Settings.from_env(other_env)
    await asyncio.to_thread(pbx.start, settings)
    hooks: list[int] = []

    async def resync(client: AMIClient) -> None:
        reply = await client.action("QueueStatus")
        assert isinstance(reply, EventList)
        hooks.append(len(reply.events))

    client = AMIClient(pbx.endpoint(settings), ClientOptions(backoff_initial=0.1, backoff_max=0.5))
    client.on_connect(resync)
    await client.start()
    try:
        assert hooks == [1]
        asterisk = process.asterisk_pid(settings.pbx_dir)
        assert asterisk is not None
        os.kill(asterisk, signal.SIGKILL)
        await wait_until(lambda: not client.connected, 5)
        began = time.monotonic()
        with pytest.raises(NotConnected):  # fails at once, nothing queued
            await client.action("Ping")
        assert time.monotonic() - began < 0.1
        await asyncio.to_thread(pbx.start, settings)
        await client.wait_ready(timeout=15)
        assert hooks == [1, 1]
        assert client.stats.connects == 2
        reply = await client.action("Ping")
        assert isinstance(reply, Message)
    finally:
        await client.close()


async def test_a_frozen_asterisk_is_detected_and_recovered(other_env: dict[str, str]) -> None:
    settings = Settings.from_env(other_env)
    await asyncio.to_thread(pbx.start, settings)
    interval = 1.0
    client = AMIClient(
        pbx.endpoint(settings),
        ClientOptions(
            ping_interval=interval,
            ping_timeout=interval,
            backoff_initial=0.1,
            backoff_max=0.5,
            connect_timeout=1.0,
        ),
    )
    await client.start()
    asterisk = process.asterisk_pid(settings.pbx_dir)
    assert asterisk is not None
    try:
        frozen_at = time.monotonic()
        os.kill(asterisk, signal.SIGSTOP)
        await wait_until(lambda: client.stats.disconnects == 1, 10)
        took = client.stats.last_disconnect - frozen_at
        assert took <= 2 * interval + 0.5, f"frozen peer noticed after {took:.2f} s"
        assert client.stats.last_error == "ping timeout"
        os.kill(asterisk, signal.SIGCONT)
        await client.wait_ready(timeout=15)
        reply = await client.action("Ping")
        assert isinstance(reply, Message)
    finally:
        os.kill(asterisk, signal.SIGCONT)
        await client.close()


@pytest.fixture(params=["asterisk", "stand-in"])
def sender(request: pytest.FixtureRequest) -> AMIClient | StandInAMI:
    """The client on a real Asterisk, and the stand-in the component tests send to."""
    if request.param == "stand-in":
        return StandInAMI(
            refuse={"QueueRemove": "Unable to remove interface: Not there", "Originate": ""}
        )
    client: AMIClient = request.getfixturevalue("ami")
    return client


async def test_the_stand_in_answers_as_asterisk_does(sender: AMIClient | StandInAMI) -> None:
    """Contract: an accepted action is answered Success; a refused one is ActionFailed,
    named after the action and carrying Asterisk's Response: Error."""
    assert sender.connected
    iface = "Local/1001@hotline-test-agent/n"
    reply = await sender.action(
        "QueueAdd", {"Queue": "hotline-test", "Interface": iface, "MemberName": "话务员1001"}
    )
    assert isinstance(reply, Message)
    assert reply.get("Response") == "Success"
    with pytest.raises(ActionFailed, match="QueueRemove: Unable to remove interface") as info:
        await sender.action("QueueRemove", {"Queue": "hotline-test", "Interface": iface + "x"})
    assert info.value.response is not None
    assert info.value.response.get("Response") == "Error"


async def test_an_originate_nobody_answers_fails_as_on_asterisk(
    sender: AMIClient | StandInAMI,
) -> None:
    """Contract: an Originate nobody answers is ActionFailed whose event is
    the OriginateResponse with Response Failure (what the recaller counts as the agent's
    phone not answering)."""
    with pytest.raises(ActionFailed, match=r"Originate \S+ failed \(Reason \d+\)") as info:
        await sender.originate(
            [("Channel", "Local/unanswered@hotline-test"), ("Context", "hotline-test"),
             ("Exten", "echo"), ("Priority", "1")],
            timeout=10,
        )  # fmt: skip
    assert info.value.response is not None
    assert info.value.response.get("Response") == "Failure"
