"""Commands from the bus: each goes to its handler, and the IVR announcement is switched
on Asterisk, shown live and journaled."""

from __future__ import annotations

import asyncio

from hotline.agents.state import Agents
from hotline.agents.status import PausePolicy
from hotline.ami.stand_in import StandInAMI
from hotline.commands.plan import NOTICE_VARIABLE, Command, Verb
from hotline.controller.agent_actions import AgentActions
from hotline.controller.alerting import Alerting
from hotline.controller.inbox import Commands
from hotline.controller.links import Links
from hotline.controller.outbox import Outbox
from hotline.host.settings import DEFAULT_FLOW
from hotline.stores.history import History
from hotline.stores.live import MemoryLive

from .parts import CENTER, Clock, outbox_on, watchdog

T = 1_795_563_000_000


def commands_on(history: History, live: MemoryLive) -> tuple[Commands, StandInAMI, Outbox]:
    outbox, _ = outbox_on(history, live)
    ami, clock = StandInAMI(), Clock(T)
    agents = Agents(policy=PausePolicy.from_reasons(CENTER.reasons.values()))
    actions = AgentActions(CENTER, ami, agents, clock)
    alerting = Alerting(watchdog(), outbox, history, live, carry_out=actions.carry_out,
                        clock=clock)  # fmt: skip
    commands = Commands(
        agent_actions=actions.carry_out, alerts=alerting.handle, asterisk=ami,
        flow=DEFAULT_FLOW, outbox=outbox, clock=clock,
    )  # fmt: skip
    return commands, ami, outbox


def run(commands: Commands, verb: Verb, **kw: object) -> tuple[bool, str]:
    command = Command(id="c1", verb=verb, actor="班长01", **{"agent": "", **kw})  # type: ignore[arg-type]
    reply = asyncio.run(commands.execute(command))
    return reply.ok, reply.message


def test_each_command_goes_to_its_handler(history: History, live: MemoryLive) -> None:
    commands, ami, _ = commands_on(history, live)
    assert run(commands, Verb.LOGIN, agent="1002", queue="property") == (
        True, "login 李娜 (property)")  # fmt: skip
    assert [name for name, _ in ami.sent] == ["QueueAdd"]
    assert run(commands, Verb.ACKNOWLEDGE, alert="a1", comment="x") == (False, "no alert 'a1'")


def test_a_supervisor_switches_the_announcement_on_and_off(
    history: History, live: MemoryLive
) -> None:
    commands, ami, outbox = commands_on(history, live)
    assert run(commands, Verb.NOTICE, notice="water-cut", supervisor=True) == (
        True, "announcement water-cut")  # fmt: skip
    assert ami.sent == [("Setvar", {"Variable": NOTICE_VARIABLE, "Value": "water-cut"})]
    asyncio.run(outbox.flush())
    assert live.hashes["setting"]["notice"] == {"value": "water-cut", "by": "班长01", "t": T}
    assert run(commands, Verb.NOTICE, notice="", supervisor=True) == (True, "announcement off")
    asyncio.run(outbox.flush())
    assert live.hashes["setting"]["notice"]["value"] == ""
    assert [(c.kind, c.reason, c.actor) for c in history.journal()] == [
        ("notice", "water-cut", "班长01"),
        ("notice", "", "班长01"),
    ]


def test_an_announcement_that_cannot_be_switched_changes_nothing(
    history: History, live: MemoryLive
) -> None:
    commands, ami, outbox = commands_on(history, live)
    ok, message = run(commands, Verb.NOTICE, notice="fire", supervisor=True)
    assert (ok, message) == (False, "unknown announcement 'fire' (the flow has: water-cut)")
    ok, message = run(commands, Verb.NOTICE, notice="water-cut")
    assert (ok, message) == (False, "only a supervisor may switch the announcement")
    ami.connected = False
    ok, message = run(commands, Verb.NOTICE, notice="water-cut", supervisor=True)
    assert (ok, message) == (False, "the controller is not connected to Asterisk right now")
    ami.connected, ami.refuse = True, {"Setvar": "Permission denied"}
    ok, message = run(commands, Verb.NOTICE, notice="water-cut", supervisor=True)
    assert (ok, message) == (False, "notice: Setvar: Permission denied")
    assert not outbox.pending


def on_two_pbxs(
    history: History, live: MemoryLive
) -> tuple[Commands, StandInAMI, StandInAMI, Outbox]:
    commands, one, outbox = commands_on(history, live)
    two = StandInAMI()
    commands = Commands(
        agent_actions=commands.agent_actions, alerts=commands.alerts,
        asterisk=Links("pbx1", one, {"pbx2": two}), flow=DEFAULT_FLOW, outbox=outbox,
        clock=Clock(T), live=live,
    )  # fmt: skip
    return commands, one, two, outbox


def test_the_announcement_is_set_on_every_pbx_and_a_pbx_back_gets_it(
    history: History, live: MemoryLive
) -> None:
    commands, one, two, outbox = on_two_pbxs(history, live)
    setvar = ("Setvar", {"Variable": NOTICE_VARIABLE, "Value": "water-cut"})
    assert run(commands, Verb.NOTICE, notice="water-cut", supervisor=True) == (
        True, "announcement water-cut")  # fmt: skip
    assert (one.sent, two.sent) == ([setvar], [setvar])
    # pbx2's link is down: switched off on pbx1, and the reply says pbx2 is still to follow
    two.connected = False
    command = Command(id="c2", verb=Verb.NOTICE, agent="", actor="班长01", supervisor=True)
    reply = asyncio.run(commands.execute(command))
    assert (reply.ok, reply.key, reply.details) == (
        True, "notice_off_partial", {"notice": "", "set": "pbx1", "missed": "pbx2"})  # fmt: skip
    assert reply.message == "announcement off on pbx1; not yet on pbx2: set when its link is back"
    assert one.sent[-1] == ("Setvar", {"Variable": NOTICE_VARIABLE, "Value": ""})
    asyncio.run(outbox.flush())
    # pbx2 (re)connects: its resync sets the notice in force (the live setting)
    two.connected = True
    asyncio.run(commands.resend_notice("pbx2", two))
    assert two.sent[-1] == ("Setvar", {"Variable": NOTICE_VARIABLE, "Value": ""})
    assert run(commands, Verb.NOTICE, notice="water-cut", supervisor=True)[0]
    asyncio.run(outbox.flush())
    restarted = StandInAMI()  # a restarted pbx2 lost its globals
    asyncio.run(commands.resend_notice("pbx2", restarted))
    assert restarted.sent == [setvar]


def test_a_pbx_that_refuses_is_named_and_none_up_is_refused(
    history: History, live: MemoryLive
) -> None:
    commands, one, two, outbox = on_two_pbxs(history, live)
    # never switched: a PBX that connects keeps the dialplan's own default
    asyncio.run(commands.resend_notice("pbx2", two))
    assert two.sent == []
    two.refuse = {"Setvar": "Permission denied"}
    command = Command(id="c1", verb=Verb.NOTICE, agent="", actor="x", supervisor=True,
                      notice="water-cut")  # fmt: skip
    reply = asyncio.run(commands.execute(command))
    assert (reply.ok, reply.key) == (True, "notice_partial")
    assert "not yet on pbx2 (pbx2: Setvar: Permission denied)" in reply.message
    one.refuse = {"Setvar": "Permission denied"}
    ok, message = run(commands, Verb.NOTICE, notice="water-cut", supervisor=True)
    refused = "pbx1: Setvar: Permission denied; pbx2: Setvar: Permission denied"
    assert (ok, message) == (False, f"notice: {refused}")
    one.connected = two.connected = False
    ok, message = run(commands, Verb.NOTICE, notice="water-cut", supervisor=True)
    assert not ok
    assert message == "the controller is connected to none of the PBXs right now (pbx1, pbx2)"
    asyncio.run(outbox.flush())
    assert [c.reason for c in history.journal()] == ["water-cut"]  # once: when it was set
