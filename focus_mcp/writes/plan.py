"""A change's parts planned into steps against the groups as read now, under their turns.

Every refusal here comes before any write: a group not visible, a name taken, a member given a role
who will not be in the group, a role for a user who is not a member.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.models import Group, GroupUserRoleRequest, OrganizationUser
from focus_mcp.journal.model import Step
from focus_mcp.toolkit.base import AppState
from focus_mcp.writes.change import (
    CreateGroup,
    DeleteGroup,
    NothingToDo,
    Part,
    Roles,
    SetRole,
    UndoOf,
    Wanted,
)
from focus_mcp.writes.edits import GroupDiff, plan_group_edit
from focus_mcp.writes.reads import current_group, same_name_groups
from focus_mcp.writes.undo_plan import UndoPlan


@dataclass
class Planned:
    """The steps to send, the groups they were planned against, and what a dry run or answer says."""

    steps: list[Step] = field(default_factory=list)
    groups: dict[int, Group] = field(default_factory=dict)  # read now, by id
    diffs: dict[int, GroupDiff] = field(default_factory=dict)  # each put's difference, by group id
    unchanged: list[Group] = field(default_factory=list)  # groups the change leaves as they are
    undo: UndoPlan | None = None
    roles: dict[int, str] = field(default_factory=dict)  # role names, read before anything is sent
    added: dict[int, OrganizationUser] = field(default_factory=dict)  # new members' records, for the notes


def not_visible(group: int | str, ws: int) -> str:
    return (
        f"Not deleted: group {group} is not visible in workspace {ws}, so no DELETE was sent. "
        "Call list_teams to check the group id and its workspace."
    )


def not_member(user: int, gid: int) -> str:
    return (
        f"Not written: user {user} is not a member of group {gid}; add them with update_group first "
        "(list_teams shows the members)."
    )


async def plan(
    state: AppState, ctx: Context, wanted: Wanted, undo: UndoPlan | None = None, read: dict[int, Group] | None = None
) -> Planned:
    """The parts' steps, in order (`undo`: an UndoOf part's plan, made by the pipeline; `read`: groups
    read fresh under the turn already)."""
    planned = Planned(undo=undo, groups=dict(read or {}))
    for part in wanted.parts:
        await _plan_part(state, ctx, wanted, part, planned)
    return planned


async def _plan_part(state: AppState, ctx: Context, wanted: Wanted, part: Part, planned: Planned) -> None:
    org = wanted.organization_id
    if isinstance(part, UndoOf):
        raise AssertionError("an undo is expanded by the pipeline before it is planned")
    if isinstance(part, CreateGroup):
        await _plan_create(state, org, part, planned)
        return
    if isinstance(part, DeleteGroup):
        current = planned.groups.get(part.group_id) or await state.client.get_group(
            org, part.group_id, part.workspace_id
        )
        if current is None:
            raise ToolError(not_visible(part.group_id, part.workspace_id))
        planned.groups[current.id] = current
        planned.steps.append(_step("delete", current, part.workspace_id, {"workspace_id": part.workspace_id}))
        return
    if part.group_id in planned.groups:
        current, ws = planned.groups[part.group_id], part.workspace_id
    else:
        current, ws = await current_group(state, ctx, org, part.group_id, part.workspace_id, part.explicit)
    planned.groups[current.id] = current
    if isinstance(part, SetRole):
        if not any(u.organization_user_id == part.user for u in current.users):
            raise ToolError(not_member(part.user, current.id))
        roles = _role_steps(current, ws, {part.user: part.role_id}, members=None)
        planned.steps += roles
        if not roles:
            planned.unchanged.append(current)
        return
    body, diff = plan_group_edit(current, part.edit)
    outside = [user for user in part.roles if user not in body.organization_users]
    if outside:
        raise ToolError(
            f"Not written: {', '.join(f'user {u}' for u in outside)} given a role in roles but not a member of group "
            f"{current.id} after this change; nothing was sent. Add them too (add_users), or leave them out of roles."
        )
    steps: list[Step] = []
    if not diff.empty:
        planned.diffs[current.id] = diff
        steps.append(_step("put", current, ws, body.model_dump(mode="json")))
    steps += _role_steps(current, ws, part.roles, members=body.organization_users)
    if not steps:
        planned.unchanged.append(current)
    planned.steps += steps


async def _plan_create(state: AppState, org: int, part: CreateGroup, planned: Planned) -> None:
    body = part.body
    before = await same_name_groups(state, org, body.workspaces, body.name)
    if before and not part.allow_duplicate:
        taken = ", ".join(f"#{g.id} in workspace {ws}" for ws, g in before)
        if part.replaces is not None:
            why = f"a group named {body.name!r} exists now ({taken}), so it is not created a second time; "
            why += "edit it instead."
            raise NothingToDo(why, planned.undo)
        raise ToolError(
            f"Not created: a group named {body.name!r} already exists ({taken}). Use update_group to "
            "change it, or call create_group again with allow_duplicate_name=true if a second one is "
            "really wanted."
        )
    ws = body.workspaces[0]
    create = Step(
        kind="create",
        group_id=None,
        group_name=body.name,
        workspace_id=ws,
        before=None,
        request=body.model_dump(mode="json"),
        taken=[g.id for _, g in before],
    )
    roles = [
        Step(
            kind="role", group_id=None, group_name=body.name, workspace_id=ws, before=None, request=_role_body(u, r, ws)
        )
        for u, r in part.roles.items()
        if r or part.replaces is not None  # an undo's re-create: no role too (cleared if the answer shows one)
    ]
    planned.steps += [create, *roles]


def _role_body(user: int, role: int | None, ws: int) -> dict[str, object]:
    return GroupUserRoleRequest(focus_role_id=role, organization_user_id=user, workspace_id=ws).model_dump(mode="json")


def _role_steps(current: Group, ws: int, roles: Roles, members: list[int] | None) -> list[Step]:
    """One role step for each member whose Focus role is to change (a new member: unless no role)."""
    held = {u.organization_user_id: (u.focus_role_id or None) for u in current.users}
    steps = []
    for user, role in roles.items():
        if user in held and held[user] == (role or None):
            continue
        if user not in held and (members is None or not role):
            continue
        steps.append(_step("role", current, ws, _role_body(user, role, ws)))
    return steps


def _step(kind: str, group: Group, ws: int, request: dict[str, object]) -> Step:
    return Step.model_validate(
        {
            "kind": kind,
            "group_id": group.id,
            "group_name": group.name,
            "workspace_id": ws,
            "before": group.model_dump(mode="json"),
            "request": request,
        }
    )
