"""Names where ids go: a user by id, exact name or email; a group by id or exact name.

Each name costs one filtered read (cached like any listing). A name that matches no one, or
several, is refused before anything is written, listing the candidates with their ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import IdOrName, OrganizationUser, TeamsQuery, UsersQuery
from focus_mcp.tools.base import AppState
from focus_mcp.tools.workspaces import find_workspaces

MAX_CANDIDATES = 8
UserRef = IdOrName
GroupRef = IdOrName
UserRefs = Annotated[list[UserRef], Field(max_length=500)]
GROUP = "Group id, or the group's exact name."


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
        if isinstance(ref, int):  # a valid id, whatever its JSON type (IdOrName); any other text is a name
            ids.append(ref)
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


async def group_id(state: AppState, org: int, ws: int, ref: int | str, ctx: Context, explicit: bool) -> tuple[int, int]:
    """(group id, its workspace) for `ref`: an id is taken as given; a name is looked up in `ws`, and,
    when the caller named no workspace, in the others too (teams are listed per workspace)."""
    if isinstance(ref, int):  # a valid id, whatever its JSON type (IdOrName); any other text is a name
        return ref, ws
    near: list[tuple[int, str]] = []
    async for space in _workspaces_from(state, org, ws, ctx, only=explicit):
        page = await state.client.list_teams(org, space, TeamsQuery(filter=ref.strip(), per_page=100))
        exact = [g for g in page.data if _same(g.name, ref)]
        if len(exact) == 1:
            return exact[0].id, space
        if exact:
            listed = _listed([(g.id, g.name) for g in exact])
            raise ToolError(f"Not changed: {len(exact)} groups are named {ref!r}: {listed}. Give the group id.")
        near += [(g.id, g.name) for g in page.data]
    where = f"workspace {ws}" if explicit else "any workspace"
    hint = f" Groups whose name contains it: {_listed(near)}." if near else ""
    raise ToolError(f"Not changed: no group is named {ref!r} in {where}.{hint} Give the group id, or check the name.")


async def _workspaces_from(state: AppState, org: int, ws: int, ctx: Context, only: bool) -> AsyncIterator[int]:
    """`ws`, then (unless `only`) the organization's other workspaces, read only if asked for."""
    yield ws
    if not only:
        for space in (await find_workspaces(state, org, ctx)).workspaces:
            if space.id != ws:
                yield space.id


async def workspace_of(state: AppState, org: int, gid: int, ws: int, ctx: Context) -> int | None:
    """Another workspace where group `gid` is visible (read now), when it is not in `ws`; None when
    none is, or when the workspaces cannot be read (the caller then says the group is not visible)."""
    try:
        async for space in _workspaces_from(state, org, ws, ctx, only=False):
            if space != ws and await state.client.get_group(org, gid, space) is not None:
                return space
    except FocusError:
        return None
    return None


async def users_by_id(state: AppState, org: int, ids: list[int]) -> dict[int, OrganizationUser]:
    """The users with these ids (one read, cached); ids that name no user are left out."""
    if not ids:
        return {}
    found = await state.client.list_users(org, UsersQuery(org_user_ids=ids, per_page=min(len(ids), 100)))
    return {u.id: u for u in found}
