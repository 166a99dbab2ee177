"""list_workspaces: the organization's workspaces. The API has no workspace endpoint: every user in
the users listing carries their workspaces, so the pages of GET users (cached like any listing)
give every workspace that has a member, with the member counts at no extra request."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import UsersQuery
from focus_mcp.tools.base import READ_ONLY, AppState, OrgArgs, Result, ToolSpec, app_state, organization
from focus_mcp.tools.paging import REQUESTED_PER_PAGE, check_quota, pages_in_order, progress
from focus_mcp.tools.render import counted, listing

MAX_USERS_READ = 10_000


class Workspace(BaseModel):
    id: int
    name: str
    members: int = Field(description="Organization users in the workspace.")


class WorkspacesResult(Result):
    workspaces: list[Workspace]
    users_read: int
    pages_read: int


@dataclass
class Found:
    workspaces: list[Workspace]
    users: int
    pages: int


async def find_workspaces(state: AppState, org: int, ctx: Context | None, fresh: bool = False) -> Found:
    """Every workspace some user of the organization is in, from every page of GET users (progress
    reported through `ctx`; None for a reader without a request, the workspaces resource)."""
    check_quota(state, 1, "reading the users listing needs at least 1 request", "Try again after the reset.")

    async def read_page(n: int) -> list[object]:
        users = await state.client.list_users(org, UsersQuery(page=n, per_page=REQUESTED_PER_PAGE), fresh=fresh)
        for user in users:
            for w in user.workspaces or ():
                names.setdefault(w.id, w.name)
                counts[w.id] = counts.get(w.id, 0) + 1
        return list(users)

    async def on_page(done: int) -> None:
        if ctx is not None:
            await progress(ctx, done, None, "users")

    names: dict[int, str] = {}
    counts: dict[int, int] = {}
    read = await pages_in_order(read_page, MAX_USERS_READ, on_page)
    users, pages = read.records, read.pages
    spaces = [Workspace(id=i, name=names[i], members=counts[i]) for i in sorted(names, key=lambda i: names[i])]
    return Found(spaces, len(users), pages)


def workspaces_heading(found: Found) -> str:
    spaces, users, pages = len(found.workspaces), found.users, found.pages
    return f"{counted(spaces, 'workspace')}, from {counted(users, 'user')} ({counted(pages, 'page')} read)."


def workspace_line(space: Workspace) -> str:
    return f"{space.id} {space.name} | {counted(space.members, 'member')}"


async def list_workspaces(args: OrgArgs, ctx: Context) -> CallToolResult:
    """List the workspaces (id, name, member count), from every page of users (cached)."""
    state = app_state(ctx)
    found = await find_workspaces(state, organization(args, state), ctx)
    heading = [workspaces_heading(found)]
    extra = {"users_read": found.users, "pages_read": found.pages}
    return listing(state, heading, "workspaces", found.workspaces, workspace_line, extra, "")


TOOLS = [ToolSpec(list_workspaces, "List workspaces", OrgArgs, WorkspacesResult, READ_ONLY)]
