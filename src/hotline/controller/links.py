"""Every PBX's AMI link by name, the default PBX first: where a controller's action goes.

    links = Links("pbx1", client, {"pbx2": client2})
    links.up()                  # [("pbx1", client), ("pbx2", client2)]: the links up now
    links.dialler()             # ("pbx1", client): the default while up, else the first up
    links.owner("pbx2:1795.7")  # "pbx2": the PBX of a call, by its id (calls.namespace)

A centre on several PBXs (docs/architecture.md "Scale-out") acts where the call is: the
supervisor's phone is rung into ChanSpy on the PBX that carries the agent's call, the IVR
notice is set on every PBX, and a call out (recall, 回访) is originated on the default PBX
or, while its link is down, on the first PBX whose link is up (agents and the trunk are
reached from any PBX through Kamailio). A site with one PBX has one link, named "" when
the component was given a bare client: its replies then name no PBX, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Generic, Protocol, TypeVar

from hotline.calls.namespace import SEPARATOR
from hotline.commands.bus import Reply
from hotline.controller.agent_actions import NOT_CONNECTED_REPLY


class Link(Protocol):
    @property
    def connected(self) -> bool: ...


L = TypeVar("L", bound=Link, covariant=True)


class Links(Generic[L]):
    """The links in order, the default PBX's first."""

    def __init__(self, default: str, client: L, others: Mapping[str, L] | None = None) -> None:
        self.default = default
        self._links: dict[str, L] = {default: client} | dict(others or {})

    def __len__(self) -> int:
        return len(self._links)

    def __iter__(self) -> Iterator[str]:
        return iter(self._links)

    def get(self, name: str) -> L | None:
        return self._links.get(name)

    @property
    def client(self) -> L:
        """The default PBX's link."""
        return self._links[self.default]

    @property
    def several(self) -> bool:
        """Whether there is more than one PBX (replies then name the PBX)."""
        return len(self._links) > 1

    def up(self) -> list[tuple[str, L]]:
        """The links up now, the default first."""
        return [(name, link) for name, link in self._links.items() if link.connected]

    def down(self) -> list[str]:
        """The PBXs whose link is down now."""
        return [name for name, link in self._links.items() if not link.connected]

    def dialler(self) -> tuple[str, L] | None:
        """Where a call out is originated: the default PBX while its link is up, else the
        first PBX whose link is up; None when every link is down."""
        up = self.up()
        return up[0] if up else None

    def owner(self, call_id: str) -> str | None:
        """The PBX of a call by its id: a qualified id (``pbx2:<uid>``) names its PBX, a bare
        one is the default's; None for a PBX this controller does not follow."""
        if SEPARATOR in call_id:
            name = call_id.split(SEPARATOR, 1)[0]
            return name if name in self._links and name != self.default else None
        return self.default


def one_or_many(asterisk: L | Links[L]) -> Links[L]:
    """A component given a bare client (a one-PBX site, a test) sees one link named ""."""
    return asterisk if isinstance(asterisk, Links) else Links("", asterisk)


def none_up(links: Links[Link]) -> Reply:
    """The reply when no PBX's link is up (the controller's usual one for a single PBX)."""
    if not links.several:
        return NOT_CONNECTED_REPLY
    names = ", ".join(links)
    return Reply(
        False, f"the controller is connected to none of the PBXs right now ({names})",
        {"pbxs": names}, "no_pbx_connected",
    )  # fmt: skip
