"""Groups: the key's own groups, and the writes: create (never a duplicate name by accident), update
(a merge, never a blind replace); a member's role is member_roles.py, delete deletion.py. Each tool
says what it wants changed; the write pipeline (focus_mcp/writes) runs it and says whether it was
written, not written, or unknown."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import GroupRequest, IdList, IdOrName, OrganizationUser
from focus_mcp.org import names
from focus_mcp.org.names import GroupRef, UserRefs
from focus_mcp.render.lines import answer, counted, id_emoji_name, listing
from focus_mcp.render.teams import Team
from focus_mcp.toolkit.base import (
    ADDITIVE,
    DESTRUCTIVE,
    READ_ONLY,
    AppState,
    OrgArgs,
    Result,
    ToolSpec,
    WorkspaceArgs,
    app_state,
    common_fields_as,
    given_or_configured,
    organization,
    workspace,
)
from focus_mcp.writes import pipeline
from focus_mcp.writes.change import OUTCOME, CreateGroup, Done, EditGroup, Outcome, Wanted
from focus_mcp.writes.edits import GroupDiff, GroupEdit, check_edit
from focus_mcp.writes.reads import check_members, given, member_roles

Name = Annotated[str, Field(min_length=1)]
MemberRoles = Annotated[dict[str, IdOrName] | None, Field(description="Member -> role.")]
Emoji = str


class CreateGroupArgs(OrgArgs):
    name: Name
    emoji: Emoji = ""
    organization_users: UserRefs = Field(default_factory=list, description="Ids, exact names or emails.")
    workspaces: IdList | None = None  # default: the configured workspace (the server's instructions say so)
    allow_duplicate_name: bool = False
    roles: MemberRoles = None


class UpdateGroupArgs(WorkspaceArgs):
    group_id: GroupRef
    name: Name | None = None
    emoji: Emoji | None = None
    organization_users: UserRefs | None = Field(default=None, description="Replaces ALL members.")
    workspaces: IdList | None = Field(default=None, description="Replaces ALL workspaces.")
    add_users: UserRefs = Field(default_factory=list)
    remove_users: UserRefs = Field(default_factory=list)
    add_workspaces: IdList = Field(default_factory=list)
    remove_workspaces: IdList = Field(default_factory=list)
    roles: MemberRoles = None
    dry_run: bool = False


class GroupWriteResult(Result):
    group: Team | None = None
    changes: GroupDiff = Field(default_factory=GroupDiff)
    written: bool
    outcome: Outcome = Field(description=OUTCOME)
    change_id: str | None = Field(default=None, description="The journal entry (list_changes, undo_change).")


class MyGroup(BaseModel):
    id: int
    name: str
    emoji: str = ""


class MyGroupsResult(Result):
    groups: list[MyGroup]


async def list_my_groups(args: OrgArgs, ctx: Context) -> CallToolResult:
    """List the groups (teams) the API key's user is in."""
    state = app_state(ctx)
    groups = await state.client.list_my_groups(organization(args, state))
    records = [MyGroup(id=g.id, name=g.name, emoji=g.emoji) for g in groups]
    return listing(state, [f"You are in {counted(len(records), 'group')}."], "groups", records, id_emoji_name, {}, "")


async def create_group(args: CreateGroupArgs, ctx: Context) -> CallToolResult:
    """Create a group; a name taken in its workspaces is refused unless allow_duplicate_name."""
    state = app_state(ctx)
    org = organization(args, state)
    workspaces = args.workspaces or [
        given_or_configured(
            None,
            state.settings.workspace_id,
            "No workspaces: pass workspaces (a list of workspace ids), or set TOGGL_FOCUS_WORKSPACE_ID "
            "in the server's environment (list_users shows each user's workspaces with their ids).",
        )
    ]
    members: dict[int, OrganizationUser] = {}  # found by name: not fetched again for the notes
    ids = await names.user_ids(state, org, args.organization_users, "organization_users", members)
    roles = await member_roles(state, org, args.roles, members)
    check_members(roles, ids, [])
    body = GroupRequest(name=args.name, emoji=args.emoji, organization_users=ids, workspaces=workspaces)
    part = CreateGroup(body, allow_duplicate=args.allow_duplicate_name, roles=roles)
    done = await pipeline.run(state, ctx, Wanted("create_group", org, given(args), [part], known=members))
    return _answer(state, done)


async def update_group(args: UpdateGroupArgs, ctx: Context) -> CallToolResult:
    """Edit a group: what is not given is kept. Users: ids, exact names or emails. dry_run writes
    nothing."""
    state = app_state(ctx)
    changes = args.model_dump(exclude={"group_id", "organization_id", "workspace_id", "dry_run"})
    if all(value in (None, [], {}) for value in changes.values()):
        raise ToolError("Nothing to change: give name, emoji, add_users, remove_users or another field.")
    org, ws = organization(args, state), workspace(args, state)
    explicit = args.workspace_id is not None
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=explicit)
    known: dict[int, OrganizationUser] = {}  # users found by name: not fetched again for the notes
    users = {f: await names.user_ids(state, org, getattr(args, f), f, known) for f in ("add_users", "remove_users")}
    if args.organization_users is not None:
        users["organization_users"] = await names.user_ids(
            state, org, args.organization_users, "organization_users", known
        )
    edit = common_fields_as(args.model_copy(update=users), GroupEdit)
    check_edit(edit)
    roles = await member_roles(state, org, args.roles, known)
    check_members(roles, edit.organization_users, edit.remove_users)
    part = EditGroup(gid, ws, edit, explicit=explicit, roles=roles)
    wanted = Wanted("update_group", org, given(args), [part], dry_run=args.dry_run, known=known)
    return _answer(state, await pipeline.run(state, ctx, wanted))


def _answer(state: AppState, done: Done) -> CallToolResult:
    team = Team.from_api(done.group) if done.group is not None else None
    structured = GroupWriteResult(
        group=team,
        changes=done.diff,
        written=done.outcome == "written",
        outcome=done.outcome,
        change_id=done.change_id,
    )
    return answer(state, done.lines, structured, error=done.error)


TOOLS = [
    ToolSpec(list_my_groups, "List my groups", OrgArgs, MyGroupsResult, READ_ONLY),
    ToolSpec(create_group, "Create group", CreateGroupArgs, GroupWriteResult, ADDITIVE),
    ToolSpec(update_group, "Update group", UpdateGroupArgs, GroupWriteResult, DESTRUCTIVE),
]
