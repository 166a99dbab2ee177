"""What the organization snapshot holds: every member in a compact record, every team once, the roles.

A member is kept as a slotted record of what an answer can show (flags, teams, workspaces, tags, rate,
working hours), with names kept once per organization (a workspace's name is not repeated on each
of its 2,000 members): 6,000 members take a few MB where the API's pydantic records took ~60 MB.
`as_api` gives the member back as the API's record (OrganizationUser), built from what was read.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from focus_mcp.api.models import (
    Group,
    OrganizationUser,
    Rate,
    Role,
    UserGroup,
    UserTag,
    UserWorkspace,
    UserWorkspaceGroup,
)


@dataclass(slots=True)
class Member:
    """One organization user as the snapshot holds it (read with its rate and working hours)."""

    id: int
    name: str
    email: str
    account_id: int | None
    owner: bool
    admin: bool
    active: bool
    joined: bool
    invite_sent: bool
    two_factor: bool
    locked_at: str | None
    groups: tuple[int, ...]
    workspaces: tuple[int, ...]
    workspace_roles: tuple[int | None, ...]  # the member's Focus role in each of `workspaces`
    products: tuple[str, ...]  # the Toggl products of any of its workspaces
    tags: tuple[int, ...]
    working_hours: float | None
    rate: float | None
    currency: str | None
    rate_workspace: int | None


@dataclass
class Names:
    """Names of what members refer to by id, each kept once."""

    workspaces: dict[int, str] = field(default_factory=dict)
    groups: dict[int, tuple[str, str, tuple[int, ...]]] = field(default_factory=dict)  # name, emoji, workspaces
    tags: dict[int, tuple[str, str]] = field(default_factory=dict)  # label, color


def member_of(user: OrganizationUser, names: Names) -> Member:
    """The compact record of an API user (read with include_rates and include_working_hours)."""
    for g in user.groups or ():
        names.groups.setdefault(g.id, (g.name, g.emoji, tuple(g.workspace_ids)))
    for w in user.workspaces or ():
        names.workspaces.setdefault(w.id, w.name)
    for t in user.tags or ():
        names.tags.setdefault(t.id, (t.label, t.color))
    spaces = user.workspaces or ()
    products = sorted({sys.intern(p) for w in spaces for p in w.toggl_products or ()})
    rate = user.rate
    has_rate = rate is not None and bool(rate.hourly_rate)
    return Member(
        id=user.id,
        name=user.name,
        email=user.email,
        account_id=user.user_account_id,
        owner=user.owner,
        admin=user.admin,
        active=user.active,
        joined=user.joined,
        invite_sent=user.invite_sent,
        two_factor=user.two_factor_enabled,
        locked_at=user.account_locked_at or None,
        groups=tuple(g.id for g in user.groups or ()),
        workspaces=tuple(w.id for w in spaces),
        workspace_roles=tuple(w.focus_role_id or None for w in spaces),
        products=tuple(products),
        tags=tuple(t.id for t in user.tags or ()),
        working_hours=user.working_hours or None,
        rate=rate.hourly_rate if has_rate and rate is not None else None,
        currency=(rate.currency or None) if has_rate and rate is not None else None,
        rate_workspace=(rate.workspace_id or None) if has_rate and rate is not None else None,
    )


@dataclass
class Snapshot:
    """One read of an organization: `read_at` is a time.time(), `cost` the requests the read spent,
    `gaps` the workspaces whose teams could not be read (a sentence each), `short` why not every
    member was read (the hour's quota; "" when every one was)."""

    organization_id: int
    members: list[Member]
    teams: dict[int, Group]
    names: Names
    roles: list[Role] | None
    read_at: float
    cost: int
    gaps: list[str] = field(default_factory=list)
    version: str = ""
    short: str = ""  # why not every member was read ("" when every one was)

    @cached_property
    def by_id(self) -> dict[int, Member]:
        return {m.id: m for m in self.members}

    @cached_property
    def team_roles(self) -> dict[int, set[int]]:
        """Organization user id -> the Focus roles the teams give them."""
        held: dict[int, set[int]] = {}
        for team in self.teams.values():
            for u in team.users:
                if u.focus_role_id:
                    held.setdefault(u.organization_user_id, set()).add(u.focus_role_id)
        return held

    def forget_indexes(self) -> None:
        """After a write changed the teams or members: the derived indexes are rebuilt when next asked."""
        for name in ("by_id", "team_roles"):
            self.__dict__.pop(name, None)

    def workspace_name(self, ws: int) -> str:
        return self.names.workspaces.get(ws, "")

    def as_api(self, m: Member) -> OrganizationUser:
        """The member as the API's record, with the rate and working hours read (no placeholder)."""
        names = self.names
        groups_in: dict[int, list[UserWorkspaceGroup]] = {}
        user_groups = []
        for gid in m.groups:
            name, emoji, spaces = names.groups.get(gid, ("", "", ()))
            user_groups.append(UserGroup.model_construct(id=gid, name=name, emoji=emoji, workspace_ids=list(spaces)))
            for ws in spaces:
                groups_in.setdefault(ws, []).append(UserWorkspaceGroup.model_construct(id=gid, name=name, emoji=emoji))
        workspaces = [
            UserWorkspace.model_construct(
                id=ws,
                name=names.workspaces.get(ws, ""),
                focus_role_id=role,
                toggl_products=list(m.products),
                groups=groups_in.get(ws, []),
            )
            for ws, role in zip(m.workspaces, m.workspace_roles, strict=True)
        ]
        tags = [UserTag.model_construct(id=t, label=names.tags.get(t, ("", ""))[0], color="") for t in m.tags]
        rate = (
            Rate.model_construct(hourly_rate=m.rate, currency=m.currency, workspace_id=m.rate_workspace)
            if m.rate is not None
            else None
        )
        values: dict[str, Any] = {
            "id": m.id,
            "name": m.name,
            "email": m.email,
            "user_account_id": m.account_id,
            "organization_id": self.organization_id,
            "owner": m.owner,
            "admin": m.admin,
            "active": m.active,
            "joined": m.joined,
            "invite_sent": m.invite_sent,
            "two_factor_enabled": m.two_factor,
            "account_locked_at": m.locked_at,
            "groups": user_groups,
            "workspaces": workspaces,
            "tags": tags,
            "working_hours": m.working_hours,
            "rate": rate,
        }
        return OrganizationUser.model_construct(**values)

    def record(self, m: Member) -> dict[str, Any]:
        """detail=true: the member as the snapshot holds it, ids named; no field it did not read."""
        names = self.names
        record: dict[str, Any] = {
            "id": m.id,
            "name": m.name,
            "email": m.email,
            "user_account_id": m.account_id,
            "owner": m.owner,
            "admin": m.admin,
            "active": m.active,
            "joined": m.joined,
            "invite_sent": m.invite_sent,
            "2fa_enabled": m.two_factor,
            "account_locked_at": m.locked_at,
            "groups": [{"id": g, "name": names.groups.get(g, ("",))[0]} for g in m.groups],
            "workspaces": [
                {"id": w, "name": names.workspaces.get(w, ""), "focus_role_id": r}
                for w, r in zip(m.workspaces, m.workspace_roles, strict=True)
            ],
            "toggl_products": list(m.products),
            "tags": [{"id": t, "label": names.tags.get(t, ("",))[0]} for t in m.tags],
            "working_hours": m.working_hours,
            "rate": None
            if m.rate is None
            else {"hourly_rate": m.rate, "currency": m.currency, "workspace_id": m.rate_workspace},
        }
        return {k: v for k, v in record.items() if v is not None}
