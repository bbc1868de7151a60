"""Flows and the centre file are data, never dialplan: every value that reaches a rendered
.conf file or an AMI header is refused when it carries Asterisk syntax, with a message
naming its node."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from hotline.center.config import CenterError, load_center
from hotline.host.settings import DEFAULT_CENTER, DEFAULT_FLOW
from hotline.ivr.asterisk import render_extensions, render_queues
from hotline.ivr.loader import FlowError, load_flow
from hotline.pbx.softphones import render_softphones

FLOW = yaml.safe_load((DEFAULT_FLOW).read_text(encoding="utf-8"))
CENTER = yaml.safe_load((DEFAULT_CENTER).read_text(encoding="utf-8"))

HOSTILE = [
    "x${SHELL(id)}\n[evil]\nexten => s,1,System(id)",
    "ok\n",  # a trailing newline: re.match(... $) let it through
    "a${SHELL(id)}",
    "a$[1+1]",
    "a,b",
    "a)b",
    "a;b",
    "a[b",
    "a\x00b",
    "a|b",
    "a" * 10_000,
]

Edit = Callable[[dict[str, Any], str], None]


def _set(path: str) -> Edit:
    """Set the value at a dotted path."""

    def edit(doc: dict[str, Any], value: str) -> None:
        *parents, last = path.split(".")
        for key in parents:
            doc = doc[key]
        doc[last] = value

    return edit


def _rename(path: str, key: str) -> Edit:
    """Rename a mapping's key (names that are keys: queues, menus, codes, extensions)."""

    def edit(doc: dict[str, Any], value: str) -> None:
        for part in path.split("."):
            doc = doc[part]
        doc[value] = doc.pop(key)

    return edit


def _hours(doc: dict[str, Any], value: str) -> None:
    doc["line"]["hours"] = {"timezone": value, "weekly": {"mon-fri": "08:00-18:00"}}


FLOW_FIELDS: dict[str, Edit] = {
    "line.name": _set("line.name"),
    "line.did": _set("line.did"),
    "line.hours.timezone": _hours,
    "queues.labour.label": _set("queues.labour.label"),
    "queues": _rename("queues", "environment"),
    "menus": _rename("menus", "help"),
    "prompts": _rename("prompts", "invalid"),
    "menus.complaint.options.1.tag": _set("menus.complaint.options.1.tag"),
}


@pytest.mark.parametrize("field", list(FLOW_FIELDS))
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:12])
def test_a_hostile_flow_value_is_refused_naming_its_node(field: str, value: str) -> None:
    doc = copy.deepcopy(FLOW)
    FLOW_FIELDS[field](doc, value)
    text = yaml.safe_dump(doc, allow_unicode=True)
    with pytest.raises(FlowError) as refused:  # so nothing is ever rendered from it
        load_flow(text)
    nodes = [p.node for p in refused.value.problems]
    assert any(node.startswith(field) for node in nodes), (field, nodes)
    assert all(len(str(p)) < 400 for p in refused.value.problems)  # 10 kB is not echoed


CENTER_FIELDS: dict[str, Edit] = {
    "pause_reasons": _rename("pause_reasons", "toilet"),
    "pause_reasons.meal.label": lambda d, v: d["pause_reasons"]["meal"].__setitem__("label", v),
    "teams.team-a.label": lambda d, v: d["teams"]["team-a"].__setitem__("label", v),
    "teams.team-a.supervisor": lambda d, v: d["teams"]["team-a"].__setitem__("supervisor", v),
    "agents.1001.name": lambda d, v: d["agents"]["1001"].__setitem__("name", v),
    "agents.1001.interface": lambda d, v: d["agents"]["1001"].__setitem__("interface", v),
    "agents.1001.queues": lambda d, v: d["agents"]["1001"].__setitem__("queues", [v]),
    "agents": _rename("agents", "1003"),
}


@pytest.mark.parametrize("field", list(CENTER_FIELDS))
@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:12])
def test_a_hostile_centre_value_is_refused_naming_its_node(field: str, value: str) -> None:
    doc = copy.deepcopy(CENTER)
    CENTER_FIELDS[field](doc, value)
    with pytest.raises(CenterError) as refused:  # so no pjsip.conf is rendered from it
        load_center(yaml.safe_dump(doc, allow_unicode=True))
    nodes = [p.node for p in refused.value.problems]
    assert any(node.startswith(field) for node in nodes), (field, nodes)
    assert all(len(str(p)) < 400 for p in refused.value.problems)


def test_the_shipped_files_pass_and_render_no_syntax_of_their_own() -> None:
    text = (DEFAULT_FLOW).read_text(encoding="utf-8")
    flow = load_flow(text)
    center = load_center((DEFAULT_CENTER).read_text(encoding="utf-8"))
    for rendered in (render_extensions(flow, text), render_queues(flow)):
        assert "SHELL" not in rendered
        assert "System(" not in rendered
    assert "王芳" in render_softphones(center, "s")
