"""The MCP tools, one per Toggl Focus organization endpoint.

Each tool validates its arguments (pydantic, before any request), fills organization and workspace
ids from the configured defaults, calls `FocusClient`, and answers with compact text plus typed
`structuredContent`. A tool's docstring is its description: what the model reads.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from focus_mcp.client import NO_CREDENTIALS
from focus_mcp.edits import GroupDiff, GroupEdit, check_edit, name_added, plan_group_edit
from focus_mcp.errors import FocusError
from focus_mcp.models import GroupRequest, GroupUserRoleRequest, Id, IdList, TeamsQuery, UsersQuery
from focus_mcp.registry import ADDITIVE, DESTRUCTIVE, READ_ONLY, AppState, ToolArgs, make_tool
from focus_mcp.trim import (
    SANDBOX_BANNER,
    USER_LEGEND,
    MyGroup,
    RoleSummary,
    Tag,
    Team,
    User,
    cut_to_budget,
)

# --- arguments --------------------------------------------------------------------------------


class OrgArgs(ToolArgs):
    organization_id: Id | None = Field(default=None, description="Default: the configured organization.")


class WorkspaceArgs(OrgArgs):
    workspace_id: Id | None = Field(default=None, description="Default: the configured workspace.")


class FreshArgs(ToolArgs):
    fresh: bool = Field(default=False, description="Skip the cache and read the API now.")


class ReadOrgArgs(FreshArgs, OrgArgs):
    pass


class ReadWorkspaceArgs(FreshArgs, WorkspaceArgs):
    pass


class ListUsersArgs(UsersQuery, ReadOrgArgs):
    pass


class ListTeamsArgs(TeamsQuery, ReadWorkspaceArgs):
    pass


Name = Annotated[str, Field(min_length=1, max_length=255)]
Emoji = Annotated[str, Field(max_length=32)]


class CreateGroupArgs(OrgArgs):
    name: Name
    emoji: Emoji = ""
    organization_users: IdList = Field(default_factory=list, description="Member organization user ids.")
    workspaces: IdList | None = Field(default=None, description="Workspace ids. Default: the configured one.")


class UpdateGroupArgs(WorkspaceArgs):
    group_id: Id
    name: Name | None = None
    emoji: Emoji | None = None
    organization_users: IdList | None = Field(default=None, description="Replace ALL members with these.")
    workspaces: IdList | None = Field(default=None, description="Replace ALL workspaces with these.")
    add_users: IdList = Field(default_factory=list, description="Organization user ids to add.")
    remove_users: IdList = Field(default_factory=list, description="Organization user ids to remove.")
    add_workspaces: IdList = Field(default_factory=list)
    remove_workspaces: IdList = Field(default_factory=list)
    dry_run: bool = Field(default=False, description="Only report what would change.")


class DeleteGroupArgs(WorkspaceArgs):
    group_id: Id
    confirm: bool = Field(default=False, description="true only after the user said yes to this deletion.")


class SetGroupMemberRoleArgs(WorkspaceArgs):
    group_id: Id
    organization_user_id: Id
    focus_role_id: Id | None = Field(description="Role id from list_roles; null clears the role.")


# --- results ----------------------------------------------------------------------------------


class Result(BaseModel):
    sandbox: bool | None = Field(default=None, description="true: invented demo data.")


class UsersResult(Result):
    users: list[User]
    page: int
    per_page: int | None = None
    next_page: int | None = Field(default=None, description="Set when the page was full.")


class TeamsResult(Result):
    teams: list[Team]
    page: int
    total: int
    next_page: int | None = None


class RolesResult(Result):
    roles: list[RoleSummary]


class TagsResult(Result):
    tags: list[Tag]


class MyGroupsResult(Result):
    groups: list[MyGroup]


class GroupWriteResult(Result):
    group: Team | None = None
    changes: GroupDiff = Field(default_factory=GroupDiff)
    written: bool


class DeleteResult(Result):
    group_id: int
    deleted: bool


class RoleSetResult(Result):
    group_id: int
    organization_user_id: int
    focus_role_id: int | None = Field(default=None, description="Absent: no Focus role.")


# --- helpers ----------------------------------------------------------------------------------


def _state(ctx: Context) -> AppState:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    if not state.settings.has_credentials:
        raise ToolError(NO_CREDENTIALS)
    return state


def _org(args: OrgArgs, state: AppState) -> int:
    org = args.organization_id or state.settings.organization_id
    if org is None:
        raise ToolError(
            "No organization_id: pass organization_id, or set TOGGL_FOCUS_ORGANIZATION_ID in the "
            "server's environment. Ask the user for their Toggl Focus organization id."
        )
    return org


def _ws(args: WorkspaceArgs, state: AppState) -> int:
    ws = args.workspace_id or state.settings.workspace_id
    if ws is None:
        raise ToolError(
            "No workspace_id: this endpoint needs one. Pass workspace_id, or set TOGGL_FOCUS_WORKSPACE_ID "
            "in the server's environment (list_users shows each user's workspaces with their ids)."
        )
    return ws


R = TypeVar("R", bound=Result)


def _reply(state: AppState, result: R, lines: list[str], narrow: str = "") -> CallToolResult:
    if state.settings.sandbox:
        result.sandbox = True
        lines = [SANDBOX_BANNER, *lines]
    kept, _ = cut_to_budget(lines, state.settings.max_response_chars, narrow or "narrow the query")
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(kept))],
        structured_content=result.model_dump(mode="json", exclude_none=True),
    )


# --- the tools --------------------------------------------------------------------------------


async def list_users(args: ListUsersArgs, ctx: Context) -> CallToolResult:
    """List the organization's users (members), with filters.

    Each line: id, name, email, flags, teams, workspaces, tags. Flags show only when true: owner,
    admin, 2fa, inactive, not-joined, invite-sent, locked (no "2fa" = 2FA off). has_group=false
    finds users in no team. Arrays filter by any of the ids.
    """
    state = _state(ctx)
    query = UsersQuery.model_validate(args.model_dump(include=set(UsersQuery.model_fields), exclude_none=True))
    users = [User.of(u) for u in await state.client.list_users(_org(args, state), query, fresh=args.fresh)]
    page = args.page or 1
    next_page = page + 1 if args.per_page is not None and len(users) >= args.per_page else None
    size = f"per_page {args.per_page}" if args.per_page else "the API's default page size"
    head = f"{len(users)} users, page {page} ({size})."
    if next_page:
        head += f" Page full: more may exist, call again with page={next_page}."
    elif args.per_page is None and users:
        head += f" If more may exist, call again with page={page + 1} or per_page=100."
    result = UsersResult(users=users, page=page, per_page=args.per_page, next_page=next_page)
    lines = [head, USER_LEGEND, *(u.line() for u in users)] if users else [head]
    return _reply(state, result, lines, "add filters or a smaller per_page")


async def list_teams(args: ListTeamsArgs, ctx: Context) -> CallToolResult:
    """List the teams (groups) of a workspace: id, emoji, name, workspaces, members and ghosts.

    Members are organization users (name#id); ghosts are placeholder members without an account.
    filter matches team names; query matches team or member names.
    """
    state = _state(ctx)
    query = TeamsQuery.model_validate(args.model_dump(include=set(TeamsQuery.model_fields), exclude_none=True))
    found = await state.client.list_teams(_org(args, state), _ws(args, state), query, fresh=args.fresh)
    teams = [Team.of(g) for g in found.data]
    page = found.page or args.page or 1
    size = args.per_page or max(found.rows, len(teams)) or 1
    seen = (page - 1) * size + len(teams)
    next_page = page + 1 if found.total > seen and teams else None
    head = f"{len(teams)} of {found.total} teams, page {page}."
    if next_page:
        head += f" More: call again with page={next_page}."
    result = TeamsResult(teams=teams, page=page, total=found.total, next_page=next_page)
    return _reply(state, result, [head, *(t.line() for t in teams)], "use filter or a smaller per_page")


async def list_my_groups(args: ReadOrgArgs, ctx: Context) -> CallToolResult:
    """List the groups (teams) the API key's own user belongs to: id, emoji, name."""
    state = _state(ctx)
    groups = [MyGroup.of(g) for g in await state.client.list_my_groups(_org(args, state), fresh=args.fresh)]
    head = f"You are in {len(groups)} groups."
    return _reply(state, MyGroupsResult(groups=groups), [head, *(g.line() for g in groups)])


async def list_roles(args: ReadOrgArgs, ctx: Context) -> CallToolResult:
    """List the organization's roles: id, name, code, type, entity, privilege level, permission names."""
    state = _state(ctx)
    roles = [RoleSummary.of(r) for r in await state.client.list_roles(_org(args, state), fresh=args.fresh)]
    lines = [f"{len(roles)} roles.", *(r.line() for r in roles)]
    return _reply(state, RolesResult(roles=roles), lines)


async def list_member_tags(args: ReadWorkspaceArgs, ctx: Context) -> CallToolResult:
    """List the organization's member tags (id, label, color); use the ids as list_users tag_ids."""
    state = _state(ctx)
    org, ws = _org(args, state), _ws(args, state)
    tags = [Tag.of(t) for t in await state.client.list_member_tags(org, ws, fresh=args.fresh)]
    return _reply(state, TagsResult(tags=tags), [f"{len(tags)} member tags.", *(t.line() for t in tags)])


async def create_group(args: CreateGroupArgs, ctx: Context) -> CallToolResult:
    """Create a group (team) with a name, optional emoji, members and workspaces."""
    state = _state(ctx)
    org = _org(args, state)
    workspaces = args.workspaces if args.workspaces is not None else [_ws(WorkspaceArgs(), state)]
    body = GroupRequest(
        name=args.name, emoji=args.emoji, organization_users=args.organization_users, workspaces=workspaces
    )
    team = Team.of(await state.client.create_group(org, body))
    return _reply(state, GroupWriteResult(group=team, written=True), [f"Created group: {team.line()}"])


async def update_group(args: UpdateGroupArgs, ctx: Context) -> CallToolResult:
    """Edit a group. Unchanged fields are kept: the group is read first and the merge is written.

    Use add_users/remove_users (and add_workspaces/remove_workspaces) to change membership;
    organization_users or workspaces replace the whole list. dry_run shows the change without writing.
    """
    state = _state(ctx)
    edit = GroupEdit(**args.model_dump(include=set(GroupEdit.model_fields), exclude_none=True))
    check_edit(edit)
    if edit == GroupEdit():
        raise ToolError("Nothing to change: give name, emoji, add_users, remove_users or another field.")
    org, ws = _org(args, state), _ws(args, state)
    current = await state.client.get_group(org, args.group_id, ws)
    if current is None:
        raise ToolError(
            f"Group {args.group_id} is not visible in workspace {ws}, so it was not changed. Pass the "
            "workspace_id the group belongs to, or call list_teams to check the group id."
        )
    body, diff = plan_group_edit(current, edit)
    if diff.empty:
        result = GroupWriteResult(group=Team.of(current), written=False)
        return _reply(state, result, [f"No change needed, nothing written: {Team.of(current).line()}"])
    if args.dry_run:
        result = GroupWriteResult(group=Team.of(current), changes=diff, written=False)
        return _reply(state, result, [f"Dry run, nothing written. Would change: {diff.describe()}."])
    after = await state.client.update_group(org, args.group_id, body)
    diff = name_added(diff, after)
    team = Team.of(after)
    lines = [f"Updated group {team.id}: {diff.describe()}.", team.line()]
    return _reply(state, GroupWriteResult(group=team, changes=diff, written=True), lines)


class ConfirmDelete(BaseModel):
    confirm: bool = Field(description="Yes, delete this group.")


class CannotAsk(BaseModel):
    """The client cannot show the user a question; the model must ask and pass confirm=true."""


async def ask_to_delete(args: DeleteGroupArgs, ctx: Context) -> Elicit[ConfirmDelete] | CannotAsk:
    """Ask the user, naming the group and its size, when the client can show a question."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return CannotAsk()
    state = _state(ctx)
    org, ws = _org(args, state), _ws(args, state)
    try:
        group = await state.client.get_group(org, args.group_id, ws)
    except FocusError as exc:
        raise ToolError(str(exc)) from None
    if group is None:
        raise ToolError(
            f"Group {args.group_id} is not visible in workspace {ws}; nothing was deleted. "
            "Call list_teams to check the group id and its workspace."
        )
    return Elicit(
        f"Delete the group {group.emoji} {group.name} (#{group.id}) with {len(group.users)} members and "
        f"{len(group.ghosts)} ghosts? This cannot be undone.",
        ConfirmDelete,
    )


async def delete_group(
    args: DeleteGroupArgs,
    ctx: Context,
    decision: Annotated[ElicitationResult[ConfirmDelete], Resolve(ask_to_delete)],
) -> CallToolResult:
    """Delete a group (team) for good. A human must agree first.

    If the client can ask the user, the server asks. Otherwise the call is refused until you have
    asked the user yourself and call again with confirm=true.
    """
    state = _state(ctx)
    org, ws = _org(args, state), _ws(args, state)
    if isinstance(decision, AcceptedElicitation) and isinstance(decision.data, CannotAsk):
        if not args.confirm:
            raise ToolError(
                f"Not deleted: deleting group {args.group_id} needs the user's explicit yes. Ask the user, "
                "and only if they agree call delete_group again with confirm=true."
            )
    elif not (isinstance(decision, AcceptedElicitation) and decision.data.confirm):
        verdict = "cancelled" if decision.action == "cancel" else "declined"
        result = DeleteResult(group_id=args.group_id, deleted=False)
        return _reply(state, result, [f"Not deleted: the user {verdict}. Group {args.group_id} is unchanged."])
    await state.client.delete_group(org, args.group_id, ws)
    result = DeleteResult(group_id=args.group_id, deleted=True)
    return _reply(state, result, [f"Deleted group {args.group_id}."])


async def set_group_member_role(args: SetGroupMemberRoleArgs, ctx: Context) -> CallToolResult:
    """Set a group member's Focus role (other products' roles are kept); null clears it."""
    state = _state(ctx)
    org, ws = _org(args, state), _ws(args, state)
    body = GroupUserRoleRequest(
        focus_role_id=args.focus_role_id, organization_user_id=args.organization_user_id, workspace_id=ws
    )
    await state.client.set_group_member_role(org, args.group_id, body)
    role = f"role {args.focus_role_id}" if args.focus_role_id else "no Focus role"
    result = RoleSetResult(
        group_id=args.group_id, organization_user_id=args.organization_user_id, focus_role_id=args.focus_role_id
    )
    return _reply(state, result, [f"User {args.organization_user_id} now has {role} in group {args.group_id}."])


def all_tools() -> list[Tool]:
    """Every tool, in the order the tool list shows them."""
    return [
        make_tool(list_users, title="List users", args=ListUsersArgs, output=UsersResult, annotations=READ_ONLY),
        make_tool(list_teams, title="List teams", args=ListTeamsArgs, output=TeamsResult, annotations=READ_ONLY),
        make_tool(
            list_my_groups, title="List my groups", args=ReadOrgArgs, output=MyGroupsResult, annotations=READ_ONLY
        ),
        make_tool(list_roles, title="List roles", args=ReadOrgArgs, output=RolesResult, annotations=READ_ONLY),
        make_tool(
            list_member_tags, title="List member tags", args=ReadWorkspaceArgs, output=TagsResult, annotations=READ_ONLY
        ),
        make_tool(
            create_group, title="Create group", args=CreateGroupArgs, output=GroupWriteResult, annotations=ADDITIVE
        ),
        make_tool(
            update_group, title="Update group", args=UpdateGroupArgs, output=GroupWriteResult, annotations=DESTRUCTIVE
        ),
        make_tool(
            delete_group, title="Delete group", args=DeleteGroupArgs, output=DeleteResult, annotations=DESTRUCTIVE
        ),
        make_tool(
            set_group_member_role,
            title="Set group member role",
            args=SetGroupMemberRoleArgs,
            output=RoleSetResult,
            annotations=DESTRUCTIVE,
        ),
    ]
