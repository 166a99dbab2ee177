"""A team as answers show it: its members with their Focus roles named, one line per team, and the
legend of a listing of teams (list_teams, and every write's answer that names a group)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from pydantic import BaseModel, Field

from focus_mcp.api.models import Group
from focus_mcp.render.lines import counted, id_emoji_name, refs_text
from focus_mcp.toolkit.base import Ref

RoleNames = dict[int, str]


class Member(Ref):
    role: str | None = Field(default=None, description="The member's Focus role in the team, when set.")
    role_id: int | None = Field(default=None, description="That role's id (set_group_member_role takes it).")


class Team(BaseModel):
    id: int
    name: str
    emoji: str = ""
    workspaces: list[Ref] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list, description="Organization users (id, display name, role).")
    ghosts: list[Ref] = Field(default_factory=list, description="The team's ghosts as the API lists them.")

    @classmethod
    def from_api(cls, group: Group, roles: RoleNames | None = None) -> Team:
        """The team; each member with the name of their Focus role in it when `roles` names it."""
        roles = roles or {}
        return cls(
            id=group.id,
            name=group.name,
            emoji=group.emoji,
            workspaces=[Ref(id=w.workspace_id, name=w.name) for w in group.workspaces],
            members=[
                Member(
                    id=u.organization_user_id,
                    name=u.display_name,
                    role=_role(u.focus_role_id, roles),
                    role_id=u.focus_role_id or None,
                )
                for u in group.users
            ],
            ghosts=[Ref(id=g.id, name=g.name) for g in group.ghosts],
        )


def _role(role_id: int | None, roles: RoleNames) -> str | None:
    """The role's name, or role#id when the names are not at hand (None: no Focus role)."""
    return roles.get(role_id, f"role#{role_id}") if role_id else None


def _member_text(member: Member, role: str | None) -> str:
    """A member as name#id, with `role` (the role as the line marks it) after it when there is one."""
    return f"{refs_text([member])} ({role})" if role else refs_text([member])


def team_line(team: Team) -> str:
    """One team with everything said in place: a write's answer, a refusal naming a group. A member
    without a Focus role is marked "no role" (list_teams' words), or, when none has one, it is said once."""
    parts = [id_emoji_name(team), f"ws {refs_text(team.workspaces)}" if team.workspaces else "no workspace"]
    members, ghosts = team.members, team.ghosts
    if any(m.role for m in members):
        marked = ", ".join(_member_text(m, m.role or "no role") for m in members)
        parts.append(f"{counted(len(members), 'member')}: {marked}")
    else:
        none = ", none with a Focus role" if members else ""
        parts.append(f"{counted(len(members), 'member')}{none}: {refs_text(members)}" if members else "0 members")
    if ghosts:
        parts.append(f"{counted(len(ghosts), 'ghost')}: {refs_text(ghosts)}")
    return " | ".join(parts)


def team_listing(teams: list[Team]) -> tuple[list[str], Callable[[Team], str]]:
    """The legend and line of a listing of teams: each workspace's id said once, in the legend
    (inline only where a name has several ids), and the members' most common role said once
    instead of after every member who has it."""
    roles = Counter(m.role for t in teams for m in t.members if m.role)
    common = roles.most_common(1)[0][0] if roles else None
    pairs = sorted({(w.name, w.id) for t in teams for w in t.workspaces})
    names = Counter(name for name, _ in pairs)
    inline = {name for name, n in names.items() if n > 1 or not name}
    unmarked = f"; unmarked: {common}" if common else ""
    legend = [f"Line: id emoji name | ws | members: name#id (their Focus role{unmarked}) | ghosts."]
    named = sorted({(m.role, m.role_id) for t in teams for m in t.members if m.role and m.role != f"role#{m.role_id}"})
    ids = [f"ws {', '.join(f'{name}={i}' for name, i in pairs if name not in inline)}"] if pairs else []
    ids += [f"roles {', '.join(f'{role}={i}' for role, i in named)}"] if named else []  # set_group_member_role's
    if ids:
        legend.append("Ids: " + " | ".join(ids))

    def marked(member: Member) -> str | None:
        """The member's role as the line marks it: unmarked means the common role, so no role is said
        (a string, not a copy of each member: 600 teams' rosters are thousands of members)."""
        return None if member.role == common else member.role or ("no role" if common else None)

    def members_text(members: list[Member]) -> str:
        return ", ".join(_member_text(m, marked(m)) for m in members)

    def line(team: Team) -> str:
        spaces = ", ".join(f"{w.name}#{w.id}" if w.name in inline else w.name for w in team.workspaces)
        parts = [id_emoji_name(team), f"ws {spaces}" if spaces else "no workspace"]
        members, ghosts = team.members, team.ghosts
        parts.append(f"{counted(len(members), 'member')}: {members_text(members)}" if members else "0 members")
        if ghosts:
            parts.append(f"{counted(len(ghosts), 'ghost')}: {refs_text(ghosts)}")
        return " | ".join(parts)

    return legend, line
