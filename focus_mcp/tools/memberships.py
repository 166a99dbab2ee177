"""update_user_groups: one person into and out of several groups in one call, one change (one journal
entry, one undo), run by the write pipeline (focus_mcp/writes) like every write."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field, WithJsonSchema

from focus_mcp.api.models import IdOrName, OrganizationUser, UsersQuery
from focus_mcp.org import names
from focus_mcp.org.names import GroupRef, UserRef
from focus_mcp.render.lines import answer
from focus_mcp.toolkit.base import DESTRUCTIVE, AppState, OrgArgs, Result, ToolSpec, app_state, organization
from focus_mcp.writes import pipeline
from focus_mcp.writes.change import OUTCOME, EditGroup, Outcome, Part, Wanted
from focus_mcp.writes.edits import GroupEdit
from focus_mcp.writes.reads import given, role_id

# Groups, or "all": said as one schema (`pattern` applies to the string alone, `items` to the list alone).
GroupsOrAll = Annotated[
    list[GroupRef] | Literal["all"],
    WithJsonSchema(
        {
            "type": ["array", "string"],
            "items": {"minimum": 1, "minLength": 1, "type": ["integer", "string"]},
            "pattern": "^all$",
        }
    ),
]


class UpdateUserGroupsArgs(OrgArgs):
    user: UserRef
    add_to: list[GroupRef] = Field(default_factory=list)
    remove_from: GroupsOrAll = Field(default_factory=list)
    role: IdOrName | None = None
    dry_run: bool = False


class UserGroupsResult(Result):
    user_id: int
    outcome: Outcome = Field(description=OUTCOME)
    change_id: str | None = None


async def _groups_of(state: AppState, org: int, user: int) -> list[tuple[int, int]]:
    """(group, a workspace of it) for every group the user is in, read now."""
    found = await state.client.list_users(org, UsersQuery(org_user_ids=[user], per_page=1), fresh=True)
    record = next((u for u in found if u.id == user), None)
    if record is None:
        raise ToolError(f"Not changed: organization user {user} was not found; list_users shows the ids.")
    return [(g.id, g.workspace_ids[0] if g.workspace_ids else 0) for g in record.groups or ()]


async def update_user_groups(args: UpdateUserGroupsArgs, ctx: Context) -> CallToolResult:
    """Add a person to groups and take them out of others ("all": every group), as one change; role:
    theirs in the groups joined."""
    state = app_state(ctx)
    org = organization(args, state)
    ws = state.settings.workspace_id or 0
    known: dict[int, OrganizationUser] = {}
    [user] = await names.user_ids(state, org, [args.user], "user", known)
    role = await role_id(state, org, args.role, "role")
    adds = [await names.group_id(state, org, ws, ref, ctx, explicit=False) for ref in args.add_to]
    if args.remove_from == "all":
        removes = [(g, w or ws) for g, w in await _groups_of(state, org, user) if g not in {a for a, _ in adds}]
    else:
        try:
            removes = [await names.group_id(state, org, ws, ref, ctx, explicit=False) for ref in args.remove_from]
        except ToolError as exc:  # ["all"], as a model writes it when every other argument is a list
            if not any(isinstance(ref, str) and ref.strip().casefold() == "all" for ref in args.remove_from):
                raise
            raise ToolError(
                f'{exc} To take them out of every group, give remove_from "all" itself, not in a list.'
            ) from None
    both = sorted({g for g, _ in adds} & {g for g, _ in removes})
    if both:
        raise ToolError(f"Not changed: groups {both} are both in add_to and remove_from; say which you mean.")
    parts: list[Part] = [
        EditGroup(g, w, GroupEdit(add_users=[user]), roles={user: role} if role else {}) for g, w in adds
    ]
    parts += [EditGroup(g, w, GroupEdit(remove_users=[user])) for g, w in removes]
    if not parts:
        why = "they are in no group" if args.remove_from == "all" else "give add_to or remove_from"
        raise ToolError(f"Nothing to change: {why}.")
    wanted = Wanted("update_user_groups", org, given(args), parts, dry_run=args.dry_run, known=known)
    done = await pipeline.run(state, ctx, wanted)
    structured = UserGroupsResult(user_id=user, outcome=done.outcome, change_id=done.change_id)
    return answer(state, done.lines, structured, error=done.error)


TOOLS = [ToolSpec(update_user_groups, "Update user groups", UpdateUserGroupsArgs, UserGroupsResult, DESTRUCTIVE)]
