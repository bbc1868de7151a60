"""Where a controller's action goes in a centre of several PBXs: the default PBX while its
link is up, else the first PBX up; a call's PBX by its id; one reply when none is up."""

from __future__ import annotations

from hotline.ami.stand_in import StandInAMI
from hotline.controller.agent_actions import NOT_CONNECTED_REPLY
from hotline.controller.links import Links, none_up, one_or_many


def centre() -> tuple[Links[StandInAMI], StandInAMI, StandInAMI, StandInAMI]:
    one, two, three = StandInAMI(), StandInAMI(), StandInAMI()
    return Links("pbx1", one, {"pbx2": two, "pbx3": three}), one, two, three


def test_a_call_out_goes_to_the_default_pbx_while_it_is_up_else_the_first_up() -> None:
    links, one, two, three = centre()
    assert list(links) == ["pbx1", "pbx2", "pbx3"]
    assert links.dialler() == ("pbx1", one)
    one.connected = False
    assert links.dialler() == ("pbx2", two)
    assert links.down() == ["pbx1"]
    two.connected = False
    assert links.dialler() == ("pbx3", three)
    three.connected = False
    assert links.dialler() is None
    assert links.up() == []
    one.connected = True  # back: the default again
    assert links.dialler() == ("pbx1", one)


def test_a_calls_pbx_is_named_by_its_id() -> None:
    links, *_ = centre()
    assert links.owner("1795.7") == "pbx1"  # bare: the default's (calls.namespace)
    assert links.owner("pbx3:1795.7") == "pbx3"
    assert links.owner("pbx9:1795.7") is None  # not followed here
    assert links.owner("pbx1:1795.7") is None  # the default's ids are never qualified


def test_with_no_link_up_the_reply_says_so() -> None:
    links, one, two, three = centre()
    for link in (one, two, three):
        link.connected = False
    reply = none_up(links)
    assert (reply.ok, reply.key, reply.details) == (False, "no_pbx_connected",
                                                    {"pbxs": "pbx1, pbx2, pbx3"})  # fmt: skip
    assert "none of the PBXs" in reply.message
    alone = one_or_many(one)  # a bare client: one link, the usual reply
    assert (list(alone), alone.several) == ([""], False)
    assert none_up(alone) == NOT_CONNECTED_REPLY
    assert one_or_many(links) is links
