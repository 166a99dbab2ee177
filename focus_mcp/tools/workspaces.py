"""list_workspaces: the organization's workspaces. The API has no workspace endpoint: every user
carries their workspaces, so the organization snapshot (every member) gives every workspace that
has a member, with the member counts, at no extra request."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.org.paging import progress
from focus_mcp.org.store import snapshots
from focus_mcp.render.lines import counted, listing
from focus_mcp.toolkit.base import READ_ONLY, AppState, OrgArgs, Result, ToolSpec, app_state, organization


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
    pages: int  # the requests the snapshot's read cost
    note: str = ""  # its age, when an answer should say it


async def find_workspaces(state: AppState, org: int, ctx: Context | None, fresh: bool = False) -> Found:
    """Every workspace some member of the organization is in, with its member count, from the
    organization snapshot (progress of a new read reported through `ctx`; None for the resource)."""

    async def on_page(done: int) -> None:
        if ctx is not None:
            await progress(ctx, done, None, "users")

    view = await snapshots(state.client).view(org, fresh, on_page)
    snap = view.snapshot
    counts: Counter[int] = Counter()
    for m in snap.members:
        counts.update(m.workspaces)
    names = snap.names.workspaces
    spaces = [Workspace(id=i, name=names.get(i, ""), members=n) for i, n in counts.items()]
    spaces.sort(key=lambda w: (w.name, w.id))
    short = f"Not every member was read: {snap.short}." if snap.short else ""
    return Found(spaces, len(snap.members), snap.cost, " ".join(filter(None, (view.note, short))))


def workspaces_heading(found: Found) -> str:
    spaces, users = len(found.workspaces), found.users
    heading = f"{counted(spaces, 'workspace')}, from {counted(users, 'member')}."
    return f"{heading} {found.note}" if found.note else heading


def workspace_line(space: Workspace) -> str:
    return f"{space.id} {space.name} | {counted(space.members, 'member')}"


async def list_workspaces(args: OrgArgs, ctx: Context) -> CallToolResult:
    """List the workspaces (id, name, member count)."""
    state = app_state(ctx)
    found = await find_workspaces(state, organization(args, state), ctx)
    heading = [workspaces_heading(found)]
    extra = {"users_read": found.users, "pages_read": found.pages}
    return listing(state, heading, "workspaces", found.workspaces, workspace_line, extra, "")


TOOLS = [ToolSpec(list_workspaces, "List workspaces", OrgArgs, WorkspacesResult, READ_ONLY)]
