"""What the model reads: API payloads reduced to the facts a person could ask about.

Each kind of record has a pydantic model (the tool's output schema), a function that turns the
API's record into a plain dict of that shape (the `structuredContent`, built from data validated
on the way in, so not validated again per call; the tests check every result against the schema),
and a function that renders the dict as one line of text: no keys repeated, no timestamps, nulls
or empty lists, each fact stated once.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, Field

from focus_mcp.api.models import Group, MemberTag, Role, UserGroupInfo, UserSummary

SANDBOX_BANNER = "[SANDBOX: invented demo organization, not real data]"
Record = dict[str, Any]
# Joiners that emoji sequences need; every other control or format character is shown escaped.
KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")


def one_line(text: str) -> str:
    """`text` with control, format (bidi overrides) and line-separator characters shown as escapes
    (a newline as \\n), so that no name from the API can break one record per line or forge one."""
    if text.isprintable():
        return text
    return "".join(
        ch
        if ch.isprintable() or ch == " " or ch in KEPT_FORMAT_CHARACTERS
        else (ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) != "Zs" else " ")
        for ch in text
    )


class Ref(BaseModel):
    """Something named, by id."""

    id: int
    name: str


def ref(id: int, name: str) -> Record:
    return {"id": id, "name": name}


def refs_text(refs: list[Record]) -> str:
    return ", ".join(f"{r['name']}#{r['id']}" if r["name"] else f"#{r['id']}" for r in refs)


def _head(record: Record) -> str:
    emoji = record.get("emoji")
    return f"{record['id']} {emoji} {record['name']}" if emoji else f"{record['id']} {record['name']}"


# --- teams ------------------------------------------------------------------------------------


class Team(BaseModel):
    id: int
    name: str
    emoji: str = ""
    workspaces: list[Ref] = Field(default_factory=list)
    members: list[Ref] = Field(default_factory=list, description="Organization users (id, display name).")
    ghosts: list[Ref] = Field(default_factory=list, description="Placeholder members without an account.")


def team_record(group: Group) -> Record:
    return {
        "id": group.id,
        "name": group.name,
        "emoji": group.emoji,
        "workspaces": [ref(w.workspace_id, w.name) for w in group.workspaces],
        "members": [ref(u.organization_user_id, u.display_name) for u in group.users],
        "ghosts": [ref(g.id, g.name) for g in group.ghosts],
    }


def team_line(team: Record) -> str:
    parts = [_head(team), f"ws {refs_text(team['workspaces'])}" if team["workspaces"] else "no workspace"]
    members, ghosts = team["members"], team["ghosts"]
    parts.append(f"{len(members)} members: {refs_text(members)}" if members else "0 members")
    if ghosts:
        parts.append(f"{len(ghosts)} ghosts: {refs_text(ghosts)}")
    return " | ".join(parts)


# --- users ------------------------------------------------------------------------------------


class Rate(BaseModel):
    hourly_rate: float
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
    custom_fields: dict[str, Any] | None = None


def user_record(user: UserSummary) -> Record:
    """The summary of one user; `user` has the API's keys (a UserSummary, or a full record dumped by alias)."""
    record: Record = {
        "id": user["id"],
        "name": user.get("name", ""),
        "email": user.get("email", ""),
        "owner": user.get("owner", False),
        "admin": user.get("admin", False),
        "two_factor": user.get("2fa_enabled", False),
        "active": user.get("active", True),
        "joined": user.get("joined", True),
        "invite_sent": user.get("invite_sent", False),
        "locked": bool(user.get("account_locked_at")),
        "groups": [ref(g["id"], g.get("name", "")) for g in user.get("groups") or ()],
        "workspaces": [ref(w["id"], w.get("name", "")) for w in user.get("workspaces") or ()],
        "tags": [ref(t["id"], t.get("label", "")) for t in user.get("tags") or ()],
    }
    if (hours := user.get("working_hours")) is not None:
        record["working_hours"] = hours
    rate = user.get("rate")
    if rate and rate.get("hourly_rate") is not None:
        record["rate"] = {
            "hourly_rate": rate["hourly_rate"],
            "currency": rate.get("currency"),
            "workspace_id": rate.get("workspace_id"),
        }
    if fields := user.get("custom_field_values"):
        record["custom_fields"] = {
            str(v.get("custom_field_name", v.get("custom_field_id"))): v.get("value") for v in fields
        }
    return record


USER_FLAGS = (  # (flag shown, field, value that shows it)
    ("owner", "owner", True),
    ("admin", "admin", True),
    ("2fa", "two_factor", True),
    ("inactive", "active", False),
    ("not-joined", "joined", False),
    ("invite-sent", "invite_sent", True),
    ("locked", "locked", True),
)
USER_LEGEND = (
    "Line: id name <email> flags | teams | ws | tags. Flags appear only when true "
    "(owner admin 2fa inactive not-joined invite-sent locked): no 2fa means 2FA off, no inactive means active."
)
USER_REFS = (("groups", "teams"), ("workspaces", "ws"), ("tags", "tags"))


def user_id_legend(users: list[Record]) -> tuple[str, frozenset[str]]:
    """One line naming every team, workspace and tag id once, and the names that need their id inline."""
    parts, ambiguous = [], set()
    for field, label in USER_REFS:
        pairs = sorted({(r["name"], r["id"]) for user in users for r in user[field]})
        previous = None
        for name, _ in pairs:  # sorted, so a name with several ids comes several times in a row
            if name == previous or not name:
                ambiguous.add(name)
            previous = name
        if pairs:
            parts.append(f"{label} " + ", ".join([f"{name}={i}" for name, i in pairs]))
    return ("Ids: " + " | ".join(parts) if parts else ""), frozenset(ambiguous)


def _names(refs: list[Record], ambiguous: frozenset[str]) -> str:
    if ambiguous:
        return ", ".join([f"{r['name']}#{r['id']}" if r["name"] in ambiguous else r["name"] for r in refs])
    return ", ".join([r["name"] for r in refs])


def user_line(user: Record, ambiguous: frozenset[str] = frozenset()) -> str:
    """One user; teams, workspaces and tags by name (their ids are in the legend line)."""
    head = f"{user['id']} {user['name']} <{user['email']}>"
    if flags := [shown for shown, field, value in USER_FLAGS if user[field] is value]:
        head = " ".join([head, *flags])
    parts = [head, f"teams {_names(user['groups'], ambiguous)}" if user["groups"] else "no team"]
    if user["workspaces"]:
        parts.append("ws " + _names(user["workspaces"], ambiguous))
    if user["tags"]:
        parts.append("tags " + _names(user["tags"], ambiguous))
    if "working_hours" in user:
        parts.append(f"{user['working_hours']:g} h/day")
    if "rate" in user:
        rate = user["rate"]
        parts.append(f"rate {rate['hourly_rate']:g} {rate['currency'] or ''}".rstrip())
    if user.get("custom_fields"):
        parts.append("fields " + ", ".join(f"{k}={v}" for k, v in user["custom_fields"].items()))
    return " | ".join(parts)


# --- roles, tags, my groups -------------------------------------------------------------------


class RoleSummary(BaseModel):
    id: int
    name: str
    code: str = ""
    type: str | None = None
    entity: str | None = None
    privilege_level: int | None = None
    require_group: bool = False
    permissions: list[str] = Field(default_factory=list)


def role_record(role: Role) -> Record:
    record: Record = {
        "id": role.role_id,
        "name": role.name,
        "code": role.code,
        "require_group": role.require_group,
        "permissions": [p.name for p in role.permissions],
    }
    for key in ("type", "entity", "privilege_level"):
        if getattr(role, key) is not None:
            record[key] = getattr(role, key)
    return record


def role_line(role: Record) -> str:
    facts = [f"{key} {role[key]}" for key in ("code", "type", "entity") if role.get(key)]
    if "privilege_level" in role:
        facts.append(f"level {role['privilege_level']}")
    if role["require_group"]:
        facts.append("only via a team")
    perms = ", ".join(role["permissions"]) or "none"
    return f"{role['id']} {role['name']} ({', '.join(facts)}) perms: {perms}"


class Tag(BaseModel):
    id: int
    label: str
    color: str = ""


def tag_record(tag: MemberTag) -> Record:
    return {"id": tag.id, "label": tag.label, "color": tag.color}


def tag_line(tag: Record) -> str:
    return f"{tag['id']} {tag['label']} {tag['color']}".rstrip()


class MyGroup(BaseModel):
    id: int
    name: str
    emoji: str = ""


def my_group_record(group: UserGroupInfo) -> Record:
    return {"id": group.id, "name": group.name, "emoji": group.emoji}


my_group_line = _head


# --- fitting a response into its budget -------------------------------------------------------


def fit(head: list[str], lines: list[str], budget: int) -> int:
    """How many of `lines` fit after `head` in `budget` characters (at least what fits, maybe 0)."""
    used = sum(len(h) + 1 for h in head)
    for kept, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            return kept
    return len(lines)
