"""list_teams: the teams (groups) of a workspace with their members, workspaces and ghosts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, TeamsFilters
from focus_mcp.org.queries import matching_teams
from focus_mcp.org.store import snapshots
from focus_mcp.tools.base import (
    READ_ONLY,
    AppState,
    ReadWorkspaceArgs,
    Ref,
    Result,
    ToolSpec,
    app_state,
    common_fields_as,
    organization,
    workspace,
)
from focus_mcp.tools.paging import DETAIL, progress
from focus_mcp.tools.render import LOW_QUOTA, counted, cut_beyond, id_emoji_name, listing, may_fit, refs_text
from focus_mcp.tools.team_pages import one_workspace


class ListTeamsArgs(TeamsFilters, ReadWorkspaceArgs):
    detail: bool = DETAIL
    all_workspaces: bool = Field(default=False, description="Every workspace's teams, each once.")


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


class TeamsResult(Result):
    teams: list[Team]
    total: int
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


def _members_text(members: list[Member]) -> str:
    return ", ".join(f"{refs_text([m])} ({m.role})" if m.role else refs_text([m]) for m in members)


async def role_names(state: AppState, org: int) -> RoleNames:
    """Role id to name, from the snapshot's roles or the cached roles (kept ten times as long as teams);
    {} when unreadable."""
    held = snapshots(state.client).held(org)
    if held is not None and held.roles is not None:
        return {r.role_id: r.name for r in held.roles}
    try:
        return {r.role_id: r.name for r in await state.client.list_roles(org)}
    except FocusError:
        return {}


async def team_with_roles(state: AppState, org: int, group: Group) -> Team:
    """The team with its members' Focus roles named from the cached roles, without a request: a
    write's answer costs no GET roles; roles not cached show as role#id."""
    cached = await state.client.cached_roles(org) if any(u.focus_role_id for u in group.users) else None
    return Team.from_api(group, {r.role_id: r.name for r in cached or ()})


def team_line(team: Team) -> str:
    """One team with everything said in place: a write's answer, a refusal naming a group. A member
    without a Focus role is marked "no role" (list_teams' words), or, when none has one, it is said once."""
    parts = [id_emoji_name(team), f"ws {refs_text(team.workspaces)}" if team.workspaces else "no workspace"]
    members, ghosts = team.members, team.ghosts
    if any(m.role for m in members):
        marked = [m if m.role else m.model_copy(update={"role": "no role"}) for m in members]
        parts.append(f"{counted(len(members), 'member')}: {_members_text(marked)}")
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

    def marked(member: Member) -> Member:
        """The member as the line marks them: unmarked means the common role, so no role is said."""
        role = None if member.role == common else member.role or ("no role" if common else None)
        return member.model_copy(update={"role": role})

    def members_text(members: list[Member]) -> str:
        return _members_text([marked(m) for m in members])

    def line(team: Team) -> str:
        spaces = ", ".join(f"{w.name}#{w.id}" if w.name in inline else w.name for w in team.workspaces)
        parts = [id_emoji_name(team), f"ws {spaces}" if spaces else "no workspace"]
        members, ghosts = team.members, team.ghosts
        parts.append(f"{counted(len(members), 'member')}: {members_text(members)}" if members else "0 members")
        if ghosts:
            parts.append(f"{counted(len(ghosts), 'ghost')}: {refs_text(ghosts)}")
        return " | ".join(parts)

    return legend, line


async def list_teams(args: ListTeamsArgs, ctx: Context) -> CallToolResult:
    """List a workspace's teams (groups): members with their Focus roles, workspaces, ghosts."""
    state = app_state(ctx)
    org = organization(args, state)
    filters = common_fields_as(args, TeamsFilters)
    if args.all_workspaces and args.workspace_id is not None:
        raise ToolError("all_workspaces lists every workspace itself: drop workspace_id.")

    async def on_page(done: int) -> None:
        await progress(ctx, done, None, "users")

    store = snapshots(state.client)
    if not (args.all_workspaces or args.fresh) and await store.current(org) is None:
        return await _cold(state, org, args, filters, ctx)
    view = await store.view(org, args.fresh, on_page)
    snap = view.snapshot
    note = [view.note] if view.note else []
    if snap.gaps:  # the members' own records still name their teams; the rosters of these were not read
        note.append(f"Not read: {'; '.join(snap.gaps)}.")
    if snap.short:
        note.append(f"Not every member was read: {snap.short}.")
    if args.all_workspaces:
        groups = matching_teams(snap, filters, None)
        spaces = {w for m in snap.members for w in m.workspaces} | set(snap.names.workspaces)
        # Teams in only some of the workspaces say so: "1 team across 4 workspaces" read as 4 of its own.
        own = len({w.workspace_id for g in groups for w in g.workspaces} & spaces)
        where = (
            f"across {counted(len(spaces), 'workspace')}"
            if own == len(spaces)
            else f"in {own} of the {len(spaces)} workspaces searched"
        )
        heading = [f"{counted(len(groups), 'team')} {where}; each team once.", *note]
        return await _teams_answer(state, org, args, heading, groups, len(groups))
    ws = workspace(args, state)
    groups = matching_teams(snap, filters, ws)
    where = f"{snap.workspace_name(ws)}#{ws}" if snap.workspace_name(ws) else f"#{ws}"
    heading = [f"{counted(len(groups), 'team')} in workspace {where}.", *note]
    if args.workspace_id is None and groups:  # the configured workspace: say that it is one of perhaps several
        heading[0] += " Teams are listed per workspace: all_workspaces=true lists every workspace's."
    if not groups:
        others = ", ".join(f"{n}#{i}" for i, n in sorted(snap.names.workspaces.items()) if i != ws)
        heading[0] += (
            f" Teams are listed one workspace at a time (this was workspace {ws}). Pass another workspace_id, or "
            f"all_workspaces=true. Other workspaces: {others or 'none'}."
        )
    return await _teams_answer(state, org, args, heading, groups, len(groups))


async def _cold(state: AppState, org: int, args: ListTeamsArgs, filters: TeamsFilters, ctx: Context) -> CallToolResult:
    """One workspace's teams on a server with no snapshot yet: read from the API (team_pages.py)."""
    ws = workspace(args, state)

    async def on_page(done: int, expected: int | None) -> None:
        await progress(ctx, done, expected, "pages of teams")

    groups, heading, total = await one_workspace(state.client, org, ws, filters, args.fresh, on_page)
    if args.workspace_id is None and groups:  # the configured workspace: say that it is one of perhaps several
        heading += " Teams are listed per workspace: all_workspaces=true lists every workspace's."
    if not groups:
        heading += f" Teams are listed one workspace at a time (this was workspace {ws}). " + await _others(
            state, org, ws
        )
    return await _teams_answer(state, org, args, [heading], groups, total)


async def _others(state: AppState, org: int, ws: int) -> str:
    """Where else to look: the other workspaces by name, from the organization snapshot (read now if
    none is held), unless few requests are left this hour or it cannot be read."""
    hint = "Pass another workspace_id, or all_workspaces=true."
    left = state.client.quota.remaining
    if left is not None and left <= LOW_QUOTA:
        return hint + " (list_workspaces names them.)"
    try:
        snap = (await snapshots(state.client).view(org)).snapshot
    except (FocusError, ToolError):
        return hint + " (list_workspaces names them.)"
    others = ", ".join(f"{n}#{i}" for i, n in sorted(snap.names.workspaces.items(), key=lambda x: x[1]) if i != ws)
    return f"{hint} Other workspaces: {others or 'none'}."


async def _teams_answer(
    state: AppState, org: int, args: ListTeamsArgs, heading: list[str], groups: list[Group], total: int
) -> CallToolResult:
    """A listing of teams: their members' roles named, the legend, the member's roles line, the
    records themselves with detail=true. Only the teams that may fit the answer are rendered (600
    teams' rosters are ten times what it can show); the rest are counted in the cut note."""
    roles = await role_names(state, org) if any(u.focus_role_id for g in groups for u in g.users) else {}
    member = args.organization_user_id
    held = [g for g in groups if any(u.organization_user_id == member for u in g.users)] if member else []
    member_line = _member_roles([Team.from_api(g, roles) for g in held], member)
    sizes = [40 + min(len(g.name), 120) + sum(min(len(u.display_name), 120) + 12 for u in g.users) for g in groups]
    fitting = may_fit([size * 4 if args.detail else size for size in sizes], state.settings.max_response_chars)
    after, groups = len(groups) - fitting, groups[:fitting]
    full = [g.model_dump(mode="json", by_alias=True, exclude_none=True) for g in groups] if args.detail else None
    records = [Team.from_api(g, roles) for g in groups]
    legend, line = team_listing(records)
    heading += legend if records and not args.detail else []
    heading += member_line
    said = f"and {after} more teams after those; use filter" if after else "use filter"
    result = listing(state, heading, "teams", records, line, {"total": total}, said, full)
    return cut_beyond(result, after, "use filter")


def _member_roles(teams: list[Team], member: int | None) -> list[str]:
    """With organization_user_id, that member's role in each team, in one line: "X's role in each
    team" needs no reading of the rosters."""
    held = [(t, m) for t in teams for m in t.members if m.id == member]
    if member is None or not held:
        return []
    who = refs_text([held[0][1]])
    return [
        f"{who} in {counted(len(held), 'team')}: " + ", ".join(f"{t.name} ({m.role or 'no role'})" for t, m in held)
    ]


TOOLS = [ToolSpec(list_teams, "List teams", ListTeamsArgs, TeamsResult, READ_ONLY)]
