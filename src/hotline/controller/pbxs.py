"""The PBXs a controller follows besides the default one (``HOTLINE_PBXS``).

Each has its own AMI link, queue_log tail (with its own saved position) and resync; its
calls' ids are qualified at the edge (:mod:`hotline.calls.namespace`) so that the one calls
reducer, the history and the live store key them by (PBX, Uniqueid). ``core.Controller``
wires them; this module holds their state and the wallboard's PBX status document.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from hotline.ami.client import AMIClient, Subscription
from hotline.calls.namespace import Namespace
from hotline.controller.reconcile import Reconciler
from hotline.controller.recorder import Recorder
from hotline.host.settings import PbxLink
from hotline.queues.state import Queues
from hotline.stores.keys import Keys

AGENT_CALL_EVENTS = frozenset(
    {"AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "AgentDump"}
)
"""What another PBX tells the agents' model: that it rings or connects an agent. Her
memberships, pauses and device state are the same on every PBX and come from the default.
Its callers go to its own queue model, read with the default PBX's as the centre's queues
(:class:`hotline.queues.state.CentreQueues`)."""


@dataclass
class PbxSide:
    """One other PBX: its settings, ids, AMI link, queue_log follower and recorder."""

    link: PbxLink
    namespace: Namespace
    client: AMIClient
    reconciler: Reconciler
    keys: Keys
    recorder: Recorder
    events: Subscription | None = None
    resyncs: int = 0
    queues: Queues = field(default_factory=Queues)  # its callers, for the centre's queues
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # set at its first resync

    @property
    def started_key(self) -> str:
        """When this PBX last started, as seen at the last resync (a change: it restarted)."""
        return f"{self.keys.prefix}:started"


def pbx_status_doc(up: dict[str, bool], now: int) -> dict[str, Any]:
    """The live ``setting`` document ``pbxs``: each PBX's AMI link, in the settings' order."""
    return {"t": now, "pbxs": [{"name": name, "up": link} for name, link in up.items()]}
