"""set_group_member_role: a group member's Focus role, set through the write pipeline (focus_mcp/writes)
like every write."""

from __future__ import annotations

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from focus_mcp.api.models import IdOrName
from focus_mcp.org import names
from focus_mcp.org.names import GroupRef, UserRef
from focus_mcp.render.lines import answer
from focus_mcp.toolkit.base import DESTRUCTIVE, Result, ToolSpec, WorkspaceArgs, app_state, organization, workspace
from focus_mcp.writes import pipeline
from focus_mcp.writes.change import OUTCOME, Outcome, SetRole, Wanted
from focus_mcp.writes.reads import given, role_id


class SetGroupMemberRoleArgs(WorkspaceArgs):
    group_id: GroupRef
    organization_user_id: UserRef
    focus_role_id: IdOrName | None


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
    explicit = args.workspace_id is not None
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=explicit)
    [user] = await names.user_ids(state, org, [args.organization_user_id], "organization_user_id")
    role = await role_id(state, org, args.focus_role_id, "focus_role_id")
    part = SetRole(gid, ws, user, role, explicit=explicit)
    done = await pipeline.run(state, ctx, Wanted("set_group_member_role", org, given(args), [part]))
    structured = RoleSetResult(
        group_id=gid,
        organization_user_id=user,
        focus_role_id=role,
        outcome=done.outcome,
        change_id=done.change_id,
    )
    return answer(state, done.lines, structured, error=done.error)


TOOLS = [
    ToolSpec(set_group_member_role, "Set group member role", SetGroupMemberRoleArgs, RoleSetResult, DESTRUCTIVE),
]
