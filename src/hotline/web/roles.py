"""Who may do what in the web app: roles, a user's scope, and the access of a route (pure).

    user.role is Role.SUPERVISOR and user.scope.sees_agent("王芳", center)
    Access.of(Role.AUDITOR).allows(user)        # the route table says who may use a route

Roles (docs/domain.md): a supervisor (班长) watches the wallboard of their teams and queues and
acts on those agents; an auditor (质检, 纪检监察) searches and plays recordings, each access
logged with a purpose, scores calls for quality inspection and settles agents' appeals
(another auditor than the one who scored); an admin manages accounts and reads the access
log; an agent (话务员) logs in and out, pauses themself, and sees and appeals their own QA
scores; a department's handler (承办单位) acts on the work orders of the department
center.yaml lists them under, and sees only those. Nobody has every power: an admin does not
read transcripts, an auditor does not force pauses.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from hotline.orders.model import Actor, Side

if TYPE_CHECKING:
    from hotline.center.config import Center
    from hotline.orders.config import OrdersConfig


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    AGENT = "agent"
    DEPARTMENT = "department"  # a handler of a department (承办单位, center.yaml orders:)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a supervisor sees: whole teams, single queues, or everything (``all``)."""

    teams: frozenset[str] = frozenset()
    queues: frozenset[str] = frozenset()
    all: bool = False

    def queues_of(self, center: Center) -> frozenset[str]:
        """The queues in scope: those named and every queue of the teams' agents."""
        own = {q for a in center.agents.values() if a.team in self.teams for q in a.queues}
        return frozenset(own | self.queues)

    def sees_agent(self, name: str, center: Center) -> bool:
        if self.all:
            return True
        agent = center.agent(name)
        if agent is None:
            return False
        return agent.team in self.teams or bool(self.queues & set(agent.queues))

    def sees_queue(self, queue: str, center: Center) -> bool:
        return self.all or queue in self.queues_of(center)

    def to_json(self) -> dict[str, object]:
        return {"teams": sorted(self.teams), "queues": sorted(self.queues), "all": self.all}

    @classmethod
    def from_json(cls, raw: dict[str, object]) -> Scope:
        teams = raw.get("teams") or []
        queues = raw.get("queues") or []
        assert isinstance(teams, list)
        assert isinstance(queues, list)
        return cls(frozenset(map(str, teams)), frozenset(map(str, queues)), bool(raw.get("all")))

    def describe(self) -> str:
        if self.all:
            return "all"
        parts = [f"team {t}" for t in sorted(self.teams)] + [
            f"queue {q}" for q in sorted(self.queues)
        ]
        return ", ".join(parts) or "nothing"


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in account as the app sees it (never the password hash)."""

    username: str
    role: Role
    scope: Scope = Scope()
    agent: str = ""  # the agent's extension, for Role.AGENT
    can_unmask: bool = False  # an auditor allowed to see personal data unmasked
    disabled: bool = False
    must_change: bool = False  # the password was set by someone else: change it first


def scope_of(user: User) -> Scope:
    """What the user sees: an admin every team and queue, anyone else their account's scope."""
    return Scope(all=True) if user.role is Role.ADMIN else user.scope


@dataclass(frozen=True, slots=True)
class Access:
    """Who may use a route: no one anonymous unless ``public``; else one of ``roles``.

    ``signed``: the request authenticates itself (Twilio's signature, a bearer token) and
    the handler checks it; ``roles`` then names the sessions that may use it as well.
    """

    roles: frozenset[Role] = frozenset()
    public: bool = False
    signed: bool = False

    @classmethod
    def of(cls, *roles: Role) -> Access:
        return cls(frozenset(roles))

    def allows(self, user: User | None) -> bool:
        if self.public or self.signed:
            return True
        return user is not None and not user.disabled and user.role in self.roles

    @property
    def needs_session(self) -> bool:
        """Only signed-in users get in: neither public nor a request that signs itself."""
        return not self.public and not self.signed

    def describe(self) -> str:
        if self.public:
            return "anyone"
        if self.signed:
            return "signed requests"
        return ", ".join(sorted(r.value for r in self.roles))


PUBLIC = Access(public=True)
SIGNED = Access(signed=True)
ANY_USER = Access.of(*Role)
ROLES: tuple[Role, ...] = tuple(Role)


ORDER_SIDES = {
    Role.AGENT: Side.INTAKE,
    Role.SUPERVISOR: Side.CENTRE,
    Role.DEPARTMENT: Side.DEPARTMENT,
    Role.AUDITOR: Side.AUDIT,
}
"""How each role takes part in the work orders (an admin does not: accounts only)."""


def order_actor(user: User, orders: OrdersConfig) -> Actor | str:
    """The actor USER is for the work orders, or why they are none (a disabled account, an
    admin, a department account center.yaml does not list as any department's handler)."""
    if user.disabled:
        return f"{user.username}'s account is disabled"
    side = ORDER_SIDES.get(user.role)
    if side is None:
        return f"{user.username} is an {user.role.value}: work orders are not theirs to handle"
    if side is Side.DEPARTMENT:
        dept = orders.department_of(user.username)
        if dept is None:
            return (f"{user.username} handles for no department: list them under "
                    "orders.departments.<code>.handlers in center.yaml")  # fmt: skip
        return Actor(user.username, side, dept.code)
    return Actor(user.username, side)
