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
from focus_mcp.api.models import Group, TeamsFilters, TeamsQuery
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
from focus_mcp.tools.paging import DETAIL, QUOTA_RESERVE, REQUESTED_PER_PAGE, check_quota, progress
from focus_mcp.tools.render import LOW_QUOTA, counted, id_emoji_name, listing, refs_text
from focus_mcp.tools.team_pages import TeamPages, every_team
from focus_mcp.tools.workspaces import find_workspaces


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
    """Role id to name, from the cached roles (kept ten times as long as teams); {} when unreadable."""
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
    """List a workspace's teams (groups), every page: members with their Focus roles, workspaces,
    ghosts."""
    state = app_state(ctx)
    org = organization(args, state)
    query = common_fields_as(args, TeamsQuery)
    if args.all_workspaces:
        return await _every_workspace(state, org, query, args, ctx)
    ws = workspace(args, state)
    read = await _all_teams(state, org, ws, query, args, ctx)
    groups, total, short = read.groups, read.total, read.stopped
    where = next((f"{w.name}#{ws}" for g in groups for w in g.workspaces if w.workspace_id == ws and w.name), f"#{ws}")
    count = counted(len(groups), "team") if len(groups) == total else f"{len(groups)} of {total} teams"
    if read.claimed is not None and read.claimed != total:
        count += f" (the API's total said {read.claimed})"
    heading = [f"{count} in workspace {where}."]
    if args.workspace_id is None and groups:  # the configured workspace: say that it is one of perhaps several
        heading[0] += " Teams are listed per workspace: all_workspaces=true lists every workspace's."
    if short:
        heading[0] += f" {short}: use filter for the others."
    if not groups and not short:
        heading[0] += f" Teams are listed one workspace at a time (this was workspace {ws}). " + await _others(
            state, org, ws, ctx
        )
    return await _teams_answer(state, org, args, heading, groups, total)


async def _teams_answer(
    state: AppState, org: int, args: ListTeamsArgs, heading: list[str], groups: list[Group], total: int
) -> CallToolResult:
    """A listing of teams: their members' roles named, the legend, the member's roles line, the
    records themselves with detail=true."""
    full = [g.model_dump(mode="json", by_alias=True, exclude_none=True) for g in groups] if args.detail else None
    roles = await role_names(state, org) if any(u.focus_role_id for g in groups for u in g.users) else {}
    records = [Team.from_api(g, roles) for g in groups]
    legend, line = team_listing(records)
    heading += legend if records and not args.detail else []
    heading += _member_roles(records, args.organization_user_id)
    return listing(state, heading, "teams", records, line, {"total": total}, "use filter", full)


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


async def _others(state: AppState, org: int, ws: int, ctx: Context) -> str:
    """Where else to look: the other workspaces by name, from the users listing (cached), unless few
    requests are left this hour or the listing cannot be read."""
    hint = "Pass another workspace_id, or all_workspaces=true."
    left = state.client.quota.remaining
    if left is not None and left <= LOW_QUOTA:
        return hint + " (list_workspaces names them.)"
    try:
        found = await find_workspaces(state, org, ctx)
    except (FocusError, ToolError):
        return hint + " (list_workspaces names them.)"
    others = ", ".join(f"{s.name}#{s.id}" for s in found.workspaces if s.id != ws)
    return f"{hint} Other workspaces: {others or 'none'}."


async def _every_workspace(
    state: AppState, org: int, query: TeamsQuery, args: ListTeamsArgs, ctx: Context
) -> CallToolResult:
    """Teams of every workspace: the workspaces from the users listing (cached), then every page of
    each workspace's teams (usually one request each); a team in several workspaces is listed once."""
    if args.workspace_id is not None:
        raise ToolError("all_workspaces lists every workspace itself: drop workspace_id.")
    found = await find_workspaces(state, org, ctx, args.fresh)
    spaces = found.workspaces
    check_quota(
        state,
        len(spaces) + QUOTA_RESERVE,
        f"all_workspaces needs at least {counted(len(spaces), 'request')} (one a workspace), and {QUOTA_RESERVE} are "
        "kept in reserve,",
        "Pass one workspace_id.",
    )
    teams: dict[int, Group] = {}
    stopped: list[str] = []
    for space in spaces:
        read = await _all_teams(state, org, space.id, query, args, ctx)
        stopped += [f"{space.name}#{space.id}: {read.stopped}"] if read.stopped else []
        for group in read.groups:
            teams.setdefault(group.id, group)
    # Teams found in only some of the workspaces searched say so: "1 team across 4 workspaces" read as 4 of its own.
    own = len({w.workspace_id for group in teams.values() for w in group.workspaces} & {space.id for space in spaces})
    where = (
        f"across {counted(len(spaces), 'workspace')}"
        if own == len(spaces)
        else f"in {own} of the {len(spaces)} workspaces searched"
    )
    heading = [f"{counted(len(teams), 'team')} {where}; each team once."]
    heading[0] += f" Not every page read: {'; '.join(stopped)}; use filter for the others." if stopped else ""
    return await _teams_answer(state, org, args, heading, list(teams.values()), len(teams))


async def _all_teams(
    state: AppState, org: int, ws: int, query: TeamsQuery, args: ListTeamsArgs, ctx: Context
) -> TeamPages:
    """Every team of the workspace (team_pages.py says how the pages are read)."""

    async def read_page(n: int) -> tuple[list[Group], int]:
        page_query = query.model_copy(update={"page": n, "per_page": REQUESTED_PER_PAGE})
        found = await state.client.list_teams(org, ws, page_query, fresh=args.fresh)
        return found.data, found.total

    async def on_page(done: int, expected: int | None) -> None:
        await progress(ctx, done, expected, "pages of teams")

    return await every_team(read_page, state.client.quota, on_page)


TOOLS = [ToolSpec(list_teams, "List teams", ListTeamsArgs, TeamsResult, READ_ONLY)]
