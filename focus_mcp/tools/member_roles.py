"""set_group_member_role: a group member's Focus role, set under the group's turn, journaled and
settled like every write (see outcomes.py); undo_change sets an earlier role back through set_role."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field

from focus_mcp.api.client import EditLock
from focus_mcp.api.models import Group, GroupUserRoleRequest, Id
from focus_mcp.tools import names
from focus_mcp.tools.base import (
    DESTRUCTIVE,
    AppState,
    Result,
    ToolSpec,
    WorkspaceArgs,
    app_state,
    organization,
    workspace,
)
from focus_mcp.tools.groups import current_group, given
from focus_mcp.tools.names import GroupRef
from focus_mcp.tools.outcomes import (
    OUTCOME,
    NoReadableAnswer,
    Outcome,
    ReadResult,
    after_release,
    begin_change,
    change_line,
    confirms_success,
    run_owned,
    turn_notes,
    unknown,
    write,
)
from focus_mcp.tools.owned_writes import Commitment
from focus_mcp.tools.pending import clear_unsettled
from focus_mcp.tools.render import answer, id_emoji_name
from focus_mcp.tools.teams import role_names


class SetGroupMemberRoleArgs(WorkspaceArgs):
    group_id: GroupRef
    organization_user_id: Id
    focus_role_id: Id | None = Field(description="In list_teams' Ids line or list_roles; null clears it.")


class RoleSetResult(Result):
    group_id: int
    organization_user_id: int
    focus_role_id: int | None = Field(default=None, description="Absent: no Focus role.")
    outcome: Outcome = Field(description=OUTCOME)
    change_id: str | None = Field(default=None, description="The journal entry (list_changes, undo_change).")


async def set_group_member_role(args: SetGroupMemberRoleArgs, ctx: Context) -> CallToolResult:
    """Set a group member's Focus role (other products' roles are kept)."""
    state = app_state(ctx)
    org, ws = organization(args, state), workspace(args, state)
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)

    async def job(commitment: Commitment) -> CallToolResult:
        async with state.client.editing_group(org, gid) as lock:
            await clear_unsettled(state, org, ws, group_id=gid)
            current, space = await current_group(state, ctx, org, gid, ws, explicit=args.workspace_id is not None)
            result = await set_role(
                state, ctx, commitment, lock, org, current, space, args.organization_user_id, args.focus_role_id,
                "set_group_member_role", given(args),
            )  # fmt: skip
        return after_release(result, lock)

    return await run_owned(state, ctx, "set_group_member_role", job)


async def set_role(
    state: AppState,
    ctx: Context,
    commitment: Commitment,
    lock: EditLock,
    org: int,
    current: Group,
    ws: int,
    user: int,
    role_id: int | None,
    tool: str,
    arguments: dict[str, Any],
    undoes: str | None = None,
) -> CallToolResult:
    """Set `user`'s Focus role in the group as read under its turn, and the answer."""
    gid = current.id
    body = GroupUserRoleRequest(focus_role_id=role_id, organization_user_id=user, workspace_id=ws)
    role = f"role {role_id}" if role_id else "no Focus role"
    structured = RoleSetResult(group_id=gid, organization_user_id=user, focus_role_id=role_id, outcome="written")
    member = next((u for u in current.users if u.organization_user_id == user), None)
    if member is None:
        raise ToolError(
            f"Not written: user {user} is not a member of group {gid}; add them with update_group first "
            "(list_teams shows the members)."
        )
    role_name = (await role_names(state, org)).get(role_id) if role_id else None
    role = f"role {role_name}#{role_id}" if role_name else role
    who, where = f"{member.display_name}#{user}", f"group {id_emoji_name(current)}"
    if (member.focus_role_id or None) == role_id:
        lines = [f"No change needed, nothing written: {who} already has {role} in {where}."]
        return answer(state, lines, structured.model_copy(update={"outcome": "not_written"}))

    async def read_back() -> ReadResult:
        group = await state.client.get_group(org, gid, ws)
        now = next((u for u in group.users if u.organization_user_id == user), None) if group else None
        if now is None:
            return ReadResult(False, f"user {user} not a member of group {gid} in workspace {ws}", group)
        held = f"role {now.focus_role_id}" if now.focus_role_id else "no Focus role"
        return ReadResult((now.focus_role_id or None) == role_id, f"the user with {held}", group)

    change = begin_change(
        state, ctx, tool, org, ws, arguments, before=current, request=body.model_dump(mode="json"), undoes=undoes
    )
    request = lambda: state.client.set_group_member_role(org, gid, body)  # noqa: E731
    outcome = await write(state, commitment, change, request, read_back, confirms=confirms_success)
    structured.change_id = change.id
    if isinstance(outcome, NoReadableAnswer) and not outcome.written:
        return unknown(state, outcome, structured)
    note = f" ({outcome.why}; a fresh read shows it set)" if isinstance(outcome, NoReadableAnswer) else ""
    lines = [f"{who} now has {role} in {where}{note}.", change_line(change.id), *turn_notes(lock)]
    return answer(state, lines, structured)


TOOLS = [
    ToolSpec(set_group_member_role, "Set group member role", SetGroupMemberRoleArgs, RoleSetResult, DESTRUCTIVE),
]
