"""list_teams: the teams (groups) of a workspace with their members, workspaces and ghosts."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, TeamsFilters
from focus_mcp.org.names import role_names
from focus_mcp.org.paging import DETAIL, progress
from focus_mcp.org.queries import matching_teams
from focus_mcp.org.store import snapshots
from focus_mcp.org.team_pages import one_workspace
from focus_mcp.render.lines import LOW_QUOTA, counted, cut_beyond, listing, may_fit, refs_text
from focus_mcp.render.teams import Team, team_listing
from focus_mcp.toolkit.base import (
    READ_ONLY,
    AppState,
    ReadWorkspaceArgs,
    Result,
    ToolSpec,
    app_state,
    common_fields_as,
    organization,
    workspace,
)


class ListTeamsArgs(TeamsFilters, ReadWorkspaceArgs):
    detail: bool = DETAIL
    all_workspaces: bool = Field(default=False, description="Every workspace's teams, each once.")


class TeamsResult(Result):
    teams: list[Team]
    total: int
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


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
