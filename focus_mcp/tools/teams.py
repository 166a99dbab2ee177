"""list_teams: the teams (groups) of a workspace with their members, workspaces and ghosts."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import Group, TeamsQuery
from focus_mcp.tools.base import (
    READ_ONLY,
    AppState,
    ReadWorkspaceArgs,
    Ref,
    Result,
    ToolSpec,
    app_state,
    narrowed,
    organization,
    workspace,
)
from focus_mcp.tools.paging import REQUESTED_PER_PAGE, PagingArgs, check_paging, gather, pages_in_order, progress
from focus_mcp.tools.render import Record, head, listing, ref, refs_text


class ListTeamsArgs(TeamsQuery, PagingArgs, ReadWorkspaceArgs):
    pass


class Team(BaseModel):
    id: int
    name: str
    emoji: str = ""
    workspaces: list[Ref] = Field(default_factory=list)
    members: list[Ref] = Field(default_factory=list, description="Organization users (id, display name).")
    ghosts: list[Ref] = Field(default_factory=list, description="The team's ghosts as the API lists them.")


class TeamsResult(Result):
    teams: list[Team]
    total: int
    page: int | None = None
    next_page: int | None = None
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


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
    parts = [head(team), f"ws {refs_text(team['workspaces'])}" if team["workspaces"] else "no workspace"]
    members, ghosts = team["members"], team["ghosts"]
    parts.append(f"{len(members)} members: {refs_text(members)}" if members else "0 members")
    if ghosts:
        parts.append(f"{len(ghosts)} ghosts: {refs_text(ghosts)}")
    return " | ".join(parts)


async def list_teams(args: ListTeamsArgs, ctx: Context) -> CallToolResult:
    """List the teams (groups) of a workspace: id, emoji, name, workspaces, members and ghosts.

    Members are organization users (name#id); ghosts are listed as the API gives them (name#id).
    filter matches team names; query matches team or member names. all_pages=true fetches every page.
    """
    state = app_state(ctx)
    check_paging(args, state)
    org, ws = organization(args, state), workspace(args, state)
    query = narrowed(args, TeamsQuery)
    extra: dict[str, Any] = {}
    if args.all_pages:
        groups, total = await _all_teams(state, org, ws, query, args, ctx)
        heading = [f"{len(groups)} of {total} teams (all pages)."]
        if len(groups) < total:
            heading[0] += f" Stopped at max_items={args.max_items}: raise it or use filter."
    else:
        found = await state.client.list_teams(org, ws, query, fresh=args.fresh)
        groups, total = found.data, found.total
        page = found.page or args.page or 1
        size = args.per_page or max(found.rows, len(groups)) or 1
        heading = [f"{len(groups)} of {total} teams, page {page}."]
        extra["page"] = page
        if groups and total > (page - 1) * size + len(groups):
            extra["next_page"] = page + 1
            heading[0] += f" More: call again with page={page + 1} (or all_pages=true)."
    extra["total"] = total
    full = [g.model_dump(mode="json", by_alias=True, exclude_none=True) for g in groups] if args.detail else None
    records = [team_record(g) for g in groups]
    return listing(state, heading, "teams", records, team_line, extra, "use filter or a smaller per_page", full)


async def _all_teams(
    state: AppState, org: int, ws: int, query: TeamsQuery, args: ListTeamsArgs, ctx: Context
) -> tuple[list[Group], int]:
    """The first page tells the total and the page size the API serves; the pages that the total
    says remain are fetched concurrently, and any shortfall then page by page until an empty page."""

    async def read_page(n: int) -> list[Group]:
        page_query = query.model_copy(update={"page": n, "per_page": REQUESTED_PER_PAGE})
        return (await state.client.list_teams(org, ws, page_query, fresh=args.fresh)).data

    def page(n: int) -> Callable[[], Awaitable[list[Group]]]:
        return lambda: read_page(n)

    first = await state.client.list_teams(
        org, ws, query.model_copy(update={"page": 1, "per_page": REQUESTED_PER_PAGE}), fresh=args.fresh
    )
    wanted = min(first.total, args.max_items)
    served = len(first.data) or REQUESTED_PER_PAGE
    pages = max(1, math.ceil(wanted / served))
    await progress(ctx, 1, pages, "pages of teams")
    rest = await gather([page(n) for n in range(2, pages + 1)], lambda done: progress(ctx, 1 + done, pages, "pages"))
    groups = [*first.data, *(g for batch in rest for g in batch)]
    if len(groups) < wanted and first.data and all(rest):  # the API served fewer than its first page promised
        more, _, _ = await pages_in_order(lambda n: read_page(pages + n), wanted - len(groups), _nothing)
        groups += more
    return groups[: args.max_items], first.total


async def _nothing(_: int) -> None:
    return None


TOOLS = [ToolSpec(list_teams, "List teams", ListTeamsArgs, TeamsResult, READ_ONLY)]
