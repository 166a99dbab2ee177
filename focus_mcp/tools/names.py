"""Names where ids go: a user by id, exact name or email; a group by id or exact name.

Each name costs one filtered read (cached like any listing). A name that matches no one, or
several, is refused before anything is written, listing the candidates with their ids.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from focus_mcp.api.models import Id, OrganizationUser, TeamsQuery, UsersQuery
from focus_mcp.tools.base import AppState

MAX_CANDIDATES = 8
NameText = Annotated[str, Field(min_length=1, max_length=255)]
UserRef = Id | NameText
GroupRef = Id | NameText
UserRefs = Annotated[list[UserRef], Field(max_length=500)]
GROUP = "Group id, or the group's exact name (looked up in workspace_id)."


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _listed(candidates: list[tuple[int, str]]) -> str:
    shown = ", ".join(f"{name}#{i}" for i, name in candidates[:MAX_CANDIDATES])
    more = len(candidates) - MAX_CANDIDATES
    return shown + (f" and {more} more" if more > 0 else "")


async def user_ids(state: AppState, org: int, refs: list[int | str], argument: str) -> list[int]:
    """The organization user id of each ref, in order: ids as given, names and emails looked up."""
    ids: list[int] = []
    for ref in refs:
        if isinstance(ref, int) or ref.strip().isdigit():
            ids.append(int(ref))
            continue
        found = await state.client.list_users(org, UsersQuery(filter=ref.strip(), per_page=100))
        exact = [u for u in found if _same(u.name, ref) or _same(u.email, ref)]
        if len(exact) == 1:
            ids.append(exact[0].id)
            continue
        near = [(u.id, f"{u.name} <{u.email}>") for u in (exact or found)]
        if exact:
            raise ToolError(
                f"Not changed: {argument} {ref!r} names {len(exact)} users: {_listed(near)}. Give the id instead."
            )
        hint = f" Users whose name or email contains it: {_listed(near)}." if near else ""
        raise ToolError(f"Not changed: {argument} {ref!r} is no user's exact name or email.{hint}")
    return ids


async def group_id(state: AppState, org: int, ws: int, ref: int | str) -> int:
    """The id of the group `ref` names in workspace `ws` (an id is taken as given)."""
    if isinstance(ref, int) or ref.strip().isdigit():
        return int(ref)
    page = await state.client.list_teams(org, ws, TeamsQuery(filter=ref.strip(), per_page=100))
    exact = [g for g in page.data if _same(g.name, ref)]
    if len(exact) == 1:
        return exact[0].id
    near = [(g.id, g.name) for g in (exact or page.data)]
    if exact:
        raise ToolError(f"Not changed: {len(exact)} groups are named {ref!r}: {_listed(near)}. Give the group id.")
    hint = f" Groups whose name contains it: {_listed(near)}." if near else ""
    raise ToolError(
        f"Not changed: no group is named {ref!r} in workspace {ws}.{hint} Teams are listed per workspace: pass "
        "workspace_id, or the group's id (list_teams with all_workspaces=true shows them all)."
    )


async def users_by_id(state: AppState, org: int, ids: list[int]) -> dict[int, OrganizationUser]:
    """The users with these ids (one read, cached); ids that name no user are left out."""
    if not ids:
        return {}
    found = await state.client.list_users(org, UsersQuery(org_user_ids=ids, per_page=min(len(ids), 100)))
    return {u.id: u for u in found}
