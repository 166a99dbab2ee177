"""Names where ids go: a user by id, exact name or email; a group by id or exact name.

With an organization snapshot held (focus_mcp/org, within its max age), names resolve against it at
no request; a name it does not know is looked up in the API before it is called unknown (someone may
have joined, or a group been made, since the read). Without one, a user's name costs one filtered
read (cached like any listing), and a group's name is looked for in the workspace given, or in
every workspace. The records found are kept for the caller (`known`), so that an edit by names does
not fetch the same users again by id. A name two groups share anywhere is refused, not resolved to
the nearer one. A name that matches no one, or several, is refused before anything is written,
listing the candidates with their ids (and a group's workspaces).
"""

from __future__ import annotations

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, IdOrName, OrganizationUser, TeamsQuery, UsersQuery
from focus_mcp.org.paging import QUOTA_RESERVE, check_quota
from focus_mcp.org.store import snapshots
from focus_mcp.render.lines import echoed
from focus_mcp.render.teams import RoleNames
from focus_mcp.toolkit.base import AppState

MAX_CANDIDATES = 8
UserRef = IdOrName
GroupRef = IdOrName
UserRefs = list[UserRef]


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _listed(candidates: list[tuple[int, str]]) -> str:
    shown = ", ".join(f"{name}#{i}" for i, name in candidates[:MAX_CANDIDATES])
    more = len(candidates) - MAX_CANDIDATES
    return shown + (f" and {more} more" if more > 0 else "")


async def user_ids(
    state: AppState, org: int, refs: list[int | str], argument: str, known: dict[int, OrganizationUser] | None = None
) -> list[int]:
    """The organization user id of each ref, in order: ids as given, names and emails looked up (the
    users found are added to `known`)."""
    ids: list[int] = []
    looked_up = {ref.strip().casefold() for ref in refs if isinstance(ref, str)}
    if len(looked_up) > 1 and await snapshots(state.client).current(org) is None:  # one GET users a name
        check_quota(
            state,
            len(looked_up) + QUOTA_RESERVE,
            f"{argument} gives {len(looked_up)} names, each looked up with a request, and {QUOTA_RESERVE} are kept "
            "in reserve,",
            "Give user ids instead (list_users shows them), or fewer names.",
            refused="Not changed",
        )
    snap = await snapshots(state.client).current(org)
    for ref in refs:
        if isinstance(ref, int):  # a valid id, whatever its JSON type (IdOrName); any other text is a name
            ids.append(ref)
            continue
        held = [snap.as_api(m) for m in snap.members if _same(m.name, ref) or _same(m.email, ref)] if snap else []
        if held and known is not None:
            known.update((u.id, u) for u in held)
        if len(held) == 1:
            ids.append(held[0].id)
            continue
        found = held or await state.client.list_users(org, UsersQuery(filter=ref.strip(), per_page=100))
        exact = [u for u in found if _same(u.name, ref) or _same(u.email, ref)]
        if len(exact) == 1:
            ids.append(exact[0].id)
            if known is not None:
                known[exact[0].id] = exact[0]
            continue
        near = [(u.id, f"{u.name} <{u.email}>") for u in (exact or found)]
        if exact:
            raise ToolError(
                f"Not changed: {argument} {echoed(ref)} names {len(exact)} users: {_listed(near)}. Give the id instead."
            )
        hint = f" Users whose name or email contains it: {_listed(near)}." if near else ""
        raise ToolError(f"Not changed: {argument} {echoed(ref)} is no user's exact name or email.{hint}")
    return ids


async def group_id(state: AppState, org: int, ws: int, ref: int | str, ctx: Context, explicit: bool) -> tuple[int, int]:
    """(group id, a workspace it is in) for `ref`: an id is taken as given (in `ws`); a name is looked
    up in `ws` when the caller named it (`explicit`), otherwise in every workspace, and must match
    exactly one group. Every workspace is searched in the organization snapshot (read now when none is
    held); a name it does not know is looked for in `ws` through the API before it is called unknown."""
    if isinstance(ref, int):  # a valid id, whatever its JSON type (IdOrName); any other text is a name
        return ref, ws
    store = snapshots(state.client)
    snap = await store.current(org)
    if snap is None and not explicit:  # every workspace to search: one read of the organization does it
        try:
            snap = (await store.view(org)).snapshot
        except ToolError as exc:  # the quota: say how to do without
            raise ToolError(
                f"{exc} Nothing changed: give workspace_id to look for group {echoed(ref)} in one workspace."
            ) from None
    near: dict[int, str] = {}
    if snap is not None:
        teams = [t for t in snap.teams.values() if not explicit or any(w.workspace_id == ws for w in t.workspaces)]
        if found := _one_named(
            ref, [(t, [w.workspace_id for w in t.workspaces]) for t in teams if _same(t.name, ref)], ws
        ):
            return found
        near = {t.id: t.name for t in teams if ref.strip().casefold() in t.name.casefold()}
    page = await state.client.list_teams(org, ws, TeamsQuery(filter=ref.strip(), per_page=100))
    if found := _one_named(ref, [(g, [ws]) for g in page.data if _same(g.name, ref)], ws):
        return found
    near |= {g.id: g.name for g in page.data}
    where = f"workspace {ws}" if explicit else "any workspace"
    hint = f" Groups whose name contains it: {_listed(list(near.items()))}." if near else ""
    raise ToolError(
        f"Not changed: no group is named {echoed(ref)} in {where}.{hint} Give the group id, or check the name."
    )


def _one_named(ref: str, named: list[tuple[Group, list[int]]], ws: int) -> tuple[int, int] | None:
    """The one group named `ref` (and a workspace it is in, `ws` if it is there); None when none is;
    refused, listing them, when several are."""
    if len(named) == 1:
        group, spaces = named[0]
        return group.id, ws if ws in spaces or not spaces else spaces[0]
    if named:
        listed = "; ".join(_group_with_workspaces(g, seen_in) for g, seen_in in named)
        raise ToolError(
            f"Not changed: {len(named)} groups are named {echoed(ref)}: {listed}. Give the group id (and its "
            "workspace_id)."
        )
    return None


def _group_with_workspaces(group: Group, seen_in: list[int]) -> str:
    names = {w.workspace_id: w.name for w in group.workspaces}
    spaces = list(dict.fromkeys([*names, *seen_in]))
    return f"{group.name}#{group.id} in " + ", ".join(f"{names.get(w) or 'workspace'}#{w}" for w in spaces)


async def workspace_of(state: AppState, org: int, gid: int, ws: int, ctx: Context) -> int | None:
    """Another workspace where group `gid` is, when it is not in `ws`, from the organization snapshot
    (read now when none is held); a group it does not know is looked for in its other workspaces with
    a read each. None when none is, or when they cannot be read (the caller then says the group is
    not visible)."""
    try:
        snap = (await snapshots(state.client).view(org)).snapshot
        team = snap.teams.get(gid)
        if team is not None:
            return next((w.workspace_id for w in team.workspaces if w.workspace_id != ws), None)
        for space in sorted(snap.names.workspaces):
            if space != ws and await state.client.get_group(org, gid, space) is not None:
                return space
    except (FocusError, ToolError):
        return None
    return None


async def users_by_id(
    state: AppState, org: int, ids: list[int], known: dict[int, OrganizationUser] | None = None
) -> dict[int, OrganizationUser]:
    """The users with these ids: those in `known` (found by name already) as they are, the others in
    one read (cached); ids that name no user are left out."""
    known = known or {}
    have = {i: known[i] for i in ids if i in known}
    if (snap := await snapshots(state.client).current(org)) is not None:
        have |= {i: snap.as_api(snap.by_id[i]) for i in ids if i not in have and i in snap.by_id}
    missing = [i for i in dict.fromkeys(ids) if i not in have]
    if not missing:
        return have
    found = await state.client.list_users(org, UsersQuery(org_user_ids=missing, per_page=min(len(missing), 100)))
    return have | {u.id: u for u in found}


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
