"""Agent commands: what is sent to Asterisk, what the reply says, and that the events
Asterisk sends back are journaled as done by whoever gave the command."""

from __future__ import annotations

import asyncio

from hotline.agents.state import Agents
from hotline.agents.status import PausePolicy
from hotline.ami.stand_in import StandInAMI
from hotline.commands.plan import Command, Verb
from hotline.controller.agent_actions import AgentActions
from hotline.core.records import PauseSetBy
from tests.unit.core.events import T0, member

from .parts import CENTER, Clock


def agents() -> Agents:
    return Agents(policy=PausePolicy.from_reasons(CENTER.reasons.values()))


def command(verb: Verb, agent: str = "1001", **kw: object) -> Command:
    return Command(id="c1", verb=verb, agent=agent, actor=str(kw.pop("actor", "班长01")), **kw)  # type: ignore[arg-type]


def test_a_supervisor_s_pause_goes_to_every_queue_and_is_journaled_as_theirs() -> None:
    ami, model = StandInAMI(), agents()
    for queue in ("intake", "labour"):
        model.apply(member("QueueMemberAdded", T0, agent="王芳", queue=queue))
    actions = AgentActions(CENTER, ami, model, Clock(T0 + 1000))
    reply = asyncio.run(actions.carry_out(command(Verb.PAUSE, reason="busy", supervisor=True)))
    assert (reply.ok, reply.message) == (True, "pause 王芳 (intake, labour)")
    assert [(name, h["Queue"], h["Paused"], h["Reason"]) for name, h in ami.sent] == [
        ("QueuePause", "intake", "true", "busy"),
        ("QueuePause", "labour", "true", "busy"),
    ]
    # Asterisk answers with the events: the journal says who did it
    changes = model.apply(
        member("QueueMemberPause", T0 + 1200, agent="王芳", queue="intake", paused=True,
               reason="busy")
    )  # fmt: skip
    pauses = [c for c in changes if c.kind == "pause"]
    assert [(c.actor, c.set_by) for c in pauses] == [("班长01", PauseSetBy.SUPERVISOR)]


def test_an_event_nobody_announced_is_the_agent_s_own() -> None:
    model = agents()
    model.apply(member("QueueMemberAdded", T0, agent="王芳", queue="intake"))
    changes = model.apply(
        member("QueueMemberPause", T0 + 1200, agent="王芳", queue="intake", paused=True,
               reason="busy")
    )  # fmt: skip
    assert [c.actor for c in changes if c.kind == "pause"] == [""]


def test_a_command_that_cannot_be_planned_sends_nothing() -> None:
    ami = StandInAMI()
    actions = AgentActions(CENTER, ami, agents(), Clock(T0))
    reply = asyncio.run(actions.carry_out(command(Verb.LOGIN, agent="9999")))
    assert not reply.ok
    assert "unknown agent '9999'" in reply.message
    reply = asyncio.run(actions.carry_out(command(Verb.PAUSE, reason="nap")))
    assert not reply.ok
    assert "unknown pause reason 'nap'" in reply.message
    assert ami.sent == []


def test_without_asterisk_the_reply_says_so() -> None:
    ami = StandInAMI(connected=False)
    reply = asyncio.run(AgentActions(CENTER, ami, agents(), Clock(T0)).carry_out(
        command(Verb.LOGOUT)))  # fmt: skip
    assert (reply.ok, reply.message) == (
        False, "the controller is not connected to Asterisk right now")  # fmt: skip
    assert ami.sent == []


def test_a_refused_queue_is_named_in_the_reply() -> None:
    ami = StandInAMI(refuse={"QueueAdd": "Unable to add interface: Already there"})
    actions = AgentActions(CENTER, ami, agents(), Clock(T0))
    reply = asyncio.run(actions.carry_out(command(Verb.LOGIN, queue="labour")))
    assert not reply.ok  # nothing was done
    assert reply.message == "login 王芳: labour: QueueAdd: Unable to add interface: Already there"
    ami.refuse = {}
    reply = asyncio.run(actions.carry_out(command(Verb.LOGIN)))
    assert (reply.ok, reply.message) == (True, "login 王芳 (intake, labour)")
    assert [h["MemberName"] for name, h in ami.sent if name == "QueueAdd"] == ["王芳"] * 3


def test_on_several_pbxs_her_command_goes_to_each_but_never_unpauses_a_hold() -> None:
    one, two, three = StandInAMI(), StandInAMI(), StandInAMI(connected=False)
    model = agents()
    model.apply(member("QueueMemberAdded", T0, agent="王芳", queue="intake"))
    actions = AgentActions(
        CENTER, one, model, Clock(T0), mirrors={"pbx2": two, "pbx3": three},
        held=lambda pbx, iface: pbx == "pbx2" and iface == "PJSIP/1001",
    )  # fmt: skip
    reply = asyncio.run(actions.carry_out(command(Verb.PAUSE, actor="1001", reason="meal")))
    assert [(n, h["Queue"], h["Paused"]) for n, h in two.sent] == [
        ("QueuePause", "intake", "true"), ("QueuePause", "labour", "true"),
    ]  # fmt: skip
    assert two.sent == one.sent
    # pbx3 is down: the default PBX did it, the reply says where it could not
    assert reply.ok
    assert "pbx3: the controller is not connected to Asterisk right now" in reply.message
    reply = asyncio.run(actions.carry_out(command(Verb.UNPAUSE, actor="1001")))
    assert one.sent[-1] == ("QueuePause", {"Queue": "labour", "Interface": "PJSIP/1001",
                                           "Paused": "false"})  # fmt: skip
    assert len(two.sent) == 2  # held on pbx2 (another PBX rings her): the hold's lift frees her


def test_with_the_default_pbx_down_her_command_goes_to_the_pbxs_that_are_up() -> None:
    """pbx1 (the default) is down: the first PBX up takes the command (its events feed the
    agents' model meanwhile: controller/members.py), the others mirror it, the reply names
    the PBX it could not reach; with none up, nothing is sent."""
    one, two, three = StandInAMI(connected=False), StandInAMI(), StandInAMI()
    model = agents()
    model.apply(member("QueueMemberAdded", T0, agent="王芳", queue="intake"))
    actions = AgentActions(CENTER, one, model, Clock(T0), mirrors={"pbx2": two, "pbx3": three},
                           name="pbx1")  # fmt: skip
    reply = asyncio.run(actions.carry_out(command(Verb.PAUSE, actor="1001", reason="meal")))
    assert reply.ok, reply.message
    assert "pbx1: the controller is not connected to Asterisk right now" in reply.message
    assert one.sent == []
    assert [(n, h["Queue"], h["Paused"]) for n, h in two.sent] == [
        ("QueuePause", "intake", "true"), ("QueuePause", "labour", "true"),
    ]  # fmt: skip
    assert three.sent == two.sent
    two.connected = three.connected = False
    none = asyncio.run(actions.carry_out(command(Verb.UNPAUSE, actor="1001")))
    assert (none.ok, none.message) == (
        False,
        "the controller is not connected to Asterisk right now",
    )
