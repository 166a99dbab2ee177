"""What the model reads: API payloads reduced to the facts a person could ask about.

Each tool result is a pydantic model (its schema is the tool's output schema, its dump the
`structuredContent`) with a `line()` rendering: one line per record, no keys repeated, no
timestamps, nulls or empty lists, each fact stated once. Each summary is built from a plain dict
in one `model_validate` call (pydantic-core), far cheaper than a constructor call per nested ref.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from focus_mcp.models import Group, MemberTag, OrganizationUser, Role, UserGroupInfo

SANDBOX_BANNER = "[SANDBOX: invented demo organization, not real data]"


class Ref(BaseModel):
    """Something named, by id."""

    id: int
    name: str


def ref(id: int, name: str) -> dict[str, object]:
    return {"id": id, "name": name}


def _refs(refs: list[Ref]) -> str:
    return ", ".join(f"{r.name}#{r.id}" for r in refs)


class Team(BaseModel):
    id: int
    name: str
    emoji: str = ""
    workspaces: list[Ref] = Field(default_factory=list)
    members: list[Ref] = Field(default_factory=list, description="Organization users (id, display name).")
    ghosts: list[Ref] = Field(default_factory=list, description="Placeholder members without an account.")

    @classmethod
    def of(cls, group: Group) -> Team:
        return cls.model_validate(
            {
                "id": group.id,
                "name": group.name,
                "emoji": group.emoji,
                "workspaces": [ref(w.workspace_id, w.name) for w in group.workspaces],
                "members": [ref(u.organization_user_id, u.display_name) for u in group.users],
                "ghosts": [ref(g.id, g.name) for g in group.ghosts],
            }
        )

    def line(self) -> str:
        head = f"{self.id} {self.emoji} {self.name}" if self.emoji else f"{self.id} {self.name}"
        parts = [head, f"ws {_refs(self.workspaces)}" if self.workspaces else "no workspace"]
        parts.append(f"{len(self.members)} members: {_refs(self.members)}" if self.members else "0 members")
        if self.ghosts:
            parts.append(f"{len(self.ghosts)} ghosts: {_refs(self.ghosts)}")
        return " | ".join(parts)


class Rate(BaseModel):
    hourly_rate: float | None = None
    currency: str | None = None
    workspace_id: int | None = None


class User(BaseModel):
    id: int = Field(description="Organization user id.")
    name: str
    email: str
    owner: bool = False
    admin: bool = False
    two_factor: bool = False
    active: bool = True
    joined: bool = True
    invite_sent: bool = False
    locked: bool = False
    groups: list[Ref] = Field(default_factory=list, description="Teams the user is in.")
    workspaces: list[Ref] = Field(default_factory=list)
    tags: list[Ref] = Field(default_factory=list)
    working_hours: float | None = None
    rate: Rate | None = None

    @classmethod
    def of(cls, user: OrganizationUser) -> User:
        rate = user.rate
        return cls.model_validate(
            {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "owner": user.owner,
                "admin": user.admin,
                "two_factor": user.two_factor_enabled,
                "active": user.active,
                "joined": user.joined,
                "invite_sent": user.invite_sent,
                "locked": bool(user.account_locked_at),
                "groups": [ref(g.id, g.name) for g in user.groups or []],
                "workspaces": [ref(w.id, w.name) for w in user.workspaces or []],
                "tags": [ref(t.id, t.label) for t in user.tags or []],
                "working_hours": user.working_hours,
                "rate": {"hourly_rate": rate.hourly_rate, "currency": rate.currency, "workspace_id": rate.workspace_id}
                if rate is not None and rate.hourly_rate is not None
                else None,
            }
        )

    def flags(self) -> list[str]:
        pairs = [
            (self.owner, "owner"),
            (self.admin, "admin"),
            (self.two_factor, "2fa"),
            (not self.active, "inactive"),
            (not self.joined, "not-joined"),
            (self.invite_sent, "invite-sent"),
            (self.locked, "locked"),
        ]
        return [name for on, name in pairs if on]

    def line(self) -> str:
        parts = [" ".join([f"{self.id} {self.name} <{self.email}>", *self.flags()])]
        parts.append(f"teams {_refs(self.groups)}" if self.groups else "no team")
        if self.workspaces:
            parts.append(f"ws {_refs(self.workspaces)}")
        if self.tags:
            parts.append(f"tags {_refs(self.tags)}")
        if self.working_hours is not None:
            parts.append(f"{self.working_hours:g} h/day")
        if self.rate is not None:
            parts.append(f"rate {self.rate.hourly_rate:g} {self.rate.currency or ''}".rstrip())
        return " | ".join(parts)


USER_LEGEND = (
    "Line: id name <email> flags | teams | ws | tags. Flags appear only when true "
    "(owner admin 2fa inactive not-joined invite-sent locked): no 2fa means 2FA off, no inactive means active."
)


class RoleSummary(BaseModel):
    id: int
    name: str
    code: str = ""
    type: str | None = None
    entity: str | None = None
    privilege_level: int | None = None
    require_group: bool = False
    permissions: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, role: Role) -> RoleSummary:
        return cls.model_validate(
            {
                "id": role.role_id,
                "name": role.name,
                "code": role.code,
                "type": role.type,
                "entity": role.entity,
                "privilege_level": role.privilege_level,
                "require_group": role.require_group,
                "permissions": [p.name for p in role.permissions],
            }
        )

    def line(self) -> str:
        facts = [f"code {self.code}", f"type {self.type}", f"entity {self.entity}"]
        facts.append(f"level {self.privilege_level}")
        if self.require_group:
            facts.append("only via a team")
        perms = ", ".join(self.permissions) if self.permissions else "none"
        return f"{self.id} {self.name} ({', '.join(facts)}) perms: {perms}"


class Tag(BaseModel):
    id: int
    label: str
    color: str = ""

    @classmethod
    def of(cls, tag: MemberTag) -> Tag:
        return cls.model_validate({"id": tag.id, "label": tag.label, "color": tag.color})

    def line(self) -> str:
        return f"{self.id} {self.label} {self.color}".rstrip()


class MyGroup(BaseModel):
    id: int
    name: str
    emoji: str = ""

    @classmethod
    def of(cls, group: UserGroupInfo) -> MyGroup:
        return cls.model_validate({"id": group.id, "name": group.name, "emoji": group.emoji})

    def line(self) -> str:
        return f"{self.id} {self.emoji} {self.name}" if self.emoji else f"{self.id} {self.name}"


def cut_to_budget(lines: list[str], budget: int, narrow_hint: str) -> tuple[list[str], int]:
    """Keep whole lines while they fit in `budget` characters; return them and how many were dropped."""
    kept: list[str] = []
    used = 0
    for line in lines:
        used += len(line) + 1
        if used > budget:
            break
        kept.append(line)
    dropped = len(lines) - len(kept)
    if dropped:
        kept.append(f"[cut: {dropped} more not shown to stay under the response budget; {narrow_hint}]")
    return kept, dropped
