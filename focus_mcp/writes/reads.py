"""The reads of the write pipeline: under the group's turn, the group now, the groups of a name a create
will take, and what a read shows of one step's effect; before it, roles and members given by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, OrganizationUser, TeamsQuery
from focus_mcp.journal.model import Step
from focus_mcp.org import names
from focus_mcp.org.names import role_names
from focus_mcp.render.lines import echoed
from focus_mcp.render.teams import Team, team_line
from focus_mcp.toolkit.base import AppState
from focus_mcp.writes.edits import plan_group_edit
from focus_mcp.writes.steps import create_name, effect_seen, intended_edit, named_diff


def given(args: BaseModel) -> dict[str, Any]:
    """The arguments as the model gave them, for the journal (defaults left out)."""
    return args.model_dump(mode="json", exclude_defaults=True)


def shown(group: Group, roles: dict[int, str] | None = None) -> str:
    return team_line(Team.from_api(group, roles or {}))


async def current_group(
    state: AppState, ctx: Context, org: int, gid: int, ws: int, explicit: bool
) -> tuple[Group, int]:
    """The group read now (in `ws`, or, when no workspace was given, wherever it is), or a refusal."""
    current = await state.client.get_group(org, gid, ws)
    if current is None and not explicit and (elsewhere := await names.workspace_of(state, org, gid, ws, ctx)):
        ws, current = elsewhere, await state.client.get_group(org, gid, elsewhere)
    if current is None:
        raise ToolError(
            f"Group {gid} is not visible in workspace {ws}, so it was not changed. Pass the "
            "workspace_id the group belongs to, or call list_teams to check the group id."
        )
    return current, ws


async def same_name_groups(state: AppState, org: int, workspaces: list[int], name: str) -> list[tuple[int, Group]]:
    """(workspace, group) for each group named `name` (case-insensitively) in those workspaces: read now."""
    wanted = name.strip().casefold()
    found: list[tuple[int, Group]] = []
    for ws in dict.fromkeys(workspaces):
        page = await state.client.list_teams(org, ws, TeamsQuery(filter=name.strip(), per_page=100), fresh=True)
        found += [(ws, g) for g in page.data if g.name.strip().casefold() == wanted]
    return found


@dataclass(frozen=True)
class Look:
    """A fresh read for one step: whether it shows the step's effect, what it shows, the group seen."""

    seen: bool
    shows: str
    group: Group | None = None


async def look(
    state: AppState, org: int, step: Step, since: datetime | None = None, known: dict[int, str] | None = None
) -> Look:
    """Read now whether `step`'s effect is there (a failed read shows nothing: not seen); `known`: members'
    names for what is still to do."""
    try:
        return await _look(state, org, step, since, known or {})
    except FocusError as exc:
        return Look(False, f"nothing: the read failed too ({exc})")


async def _look(state: AppState, org: int, step: Step, since: datetime | None, known: dict[int, str]) -> Look:
    ws = step.workspace_id or state.settings.workspace_id or 0
    if step.kind == "create":
        name = create_name(step)
        spaces = [int(w) for w in (step.request or {}).get("workspaces") or [ws]]
        found = [g for _, g in await same_name_groups(state, org, spaces, name)]
        new = [g for g in found if g.id not in step.taken]
        roles = await role_names(state, org) if new and any(u.focus_role_id for u in new[0].users) else {}
        shows = shown(new[0], roles) if new else f"no new group named {name!r}"
        return Look(effect_seen(step, None, found, since), shows, new[0] if new else None)
    if step.group_id is None:
        return Look(False, "nothing: the group it was for was never created")
    group = await state.client.get_group(org, step.group_id, ws)
    seen = effect_seen(step, group, [])
    if group is None:
        return Look(seen, f"group {step.group_id} {'gone from' if seen else 'not visible in'} workspace {ws}")
    # The group as it is now goes into a write's answer: its members' roles by name, never role#N
    # (the roles are the snapshot's or cached; a request only when neither has them).
    roles = await role_names(state, org) if any(u.focus_role_id for u in group.users) else {}
    if step.kind == "delete":
        return Look(False, f"the group still there: {shown(group, roles)}", group)
    if seen or step.kind == "role":
        return Look(seen, shown(group, roles), group)
    _, rest = plan_group_edit(group, intended_edit(step))
    todo = named_diff(rest, known | {u.organization_user_id: u.display_name for u in group.users}).describe()
    return Look(False, f"this still to do: {todo}; the group now: {shown(group, roles)}", group)


# --- roles and members given by name in a write ---------------------------------------------

MAX_LISTED = 12  # roles named in a refusal


async def role_id(state: AppState, org: int, ref: int | str | None, argument: str) -> int | None:
    """A role's id: an id as given, a name matched exactly (case and outer spaces aside), else refused."""
    if ref is None or isinstance(ref, int):
        return ref
    roles = await state.client.list_roles(org)
    wanted = ref.strip().casefold()
    exact = [r for r in roles if r.name.strip().casefold() == wanted]
    if len(exact) == 1:
        return exact[0].role_id
    listed = ", ".join(f"{r.name}#{r.role_id}" for r in (exact or roles)[:MAX_LISTED])
    if exact:
        raise ToolError(f"Not changed: {argument} {echoed(ref)} names {len(exact)} roles: {listed}. Give the id.")
    raise ToolError(f"Not changed: {argument} {echoed(ref)} is no role's exact name. Roles: {listed}.")


def member_ref(key: str) -> int | str:
    """A key of `roles`: a string of digits is an id (as everywhere an id is taken), anything else a name."""
    digits = key.strip()
    return int(digits) if digits.isascii() and digits.isdigit() and int(digits) >= 1 else key


async def member_roles(
    state: AppState, org: int, roles: dict[str, int | str] | None, known: dict[int, OrganizationUser]
) -> dict[int, int | None]:
    """`roles` (member id, name or email -> role id or exact name) as ids."""
    if not roles:
        return {}
    ids = await names.user_ids(state, org, [member_ref(k) for k in roles], "roles", known)
    return {user: await role_id(state, org, ref, "roles") for user, ref in zip(ids, roles.values(), strict=True)}


def check_members(roles: dict[int, int | None], members: list[int] | None, removed: list[int]) -> None:
    """Refuse, before any request, a member given a role who will not be in the group."""
    out = [u for u in roles if u in removed or (members is not None and u not in members)]
    if out:
        who = ", ".join(f"user {u}" for u in out)
        raise ToolError(f"Not changed: {who} given a role in roles but not a member after this change; nothing sent.")
