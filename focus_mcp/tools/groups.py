"""Groups: the key's own groups, and the writes: create (never a duplicate name by accident), update
(a merge, never a blind replace), delete (a human's yes), a member's role. Each write's answer says
whether it was written, not written, or unknown (see outcomes.py)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, GroupRequest, GroupUserRoleRequest, Id, IdList, OrganizationUser, TeamsQuery
from focus_mcp.tools import names
from focus_mcp.tools.base import (
    ADDITIVE,
    DESTRUCTIVE,
    READ_ONLY,
    AppState,
    OrgArgs,
    ReadOrgArgs,
    Ref,
    Result,
    ToolSpec,
    WorkspaceArgs,
    app_state,
    common_fields_as,
    given_or_configured,
    organization,
    workspace,
)
from focus_mcp.tools.edits import GroupDiff, GroupEdit, check_edit, name_added, plan_group_edit
from focus_mcp.tools.names import GROUP, GroupRef, UserRefs
from focus_mcp.tools.outcomes import OUTCOME, NoReadableAnswer, Outcome, turn_notes, unknown, write
from focus_mcp.tools.render import answer, id_emoji_name, listing
from focus_mcp.tools.teams import Team, team_line

Name = Annotated[str, Field(min_length=1, max_length=255)]
Emoji = Annotated[str, Field(max_length=32)]


class CreateGroupArgs(OrgArgs):
    name: Name
    emoji: Emoji = ""
    organization_users: IdList = Field(default_factory=list, description="Member organization user ids.")
    workspaces: IdList | None = Field(default=None, description="Workspace ids. Default: the configured one.")
    allow_duplicate_name: bool = Field(default=False, description="Create even if the name is taken.")


class UpdateGroupArgs(WorkspaceArgs):
    group_id: GroupRef = Field(description=GROUP)
    name: Name | None = None
    emoji: Emoji | None = None
    organization_users: UserRefs | None = Field(default=None, description="Replace ALL members with these.")
    workspaces: IdList | None = Field(default=None, description="Replace ALL workspaces with these.")
    add_users: UserRefs = Field(default_factory=list, description="Users to add: ids, exact names or emails.")
    remove_users: UserRefs = Field(default_factory=list, description="Users to remove: ids, exact names or emails.")
    add_workspaces: IdList = Field(default_factory=list)
    remove_workspaces: IdList = Field(default_factory=list)
    dry_run: bool = Field(default=False, description="Only report what would change.")


class SetGroupMemberRoleArgs(WorkspaceArgs):
    group_id: GroupRef = Field(description=GROUP)
    organization_user_id: Id
    focus_role_id: Id | None = Field(description="Role id from list_roles; null clears the role.")


class GroupWriteResult(Result):
    group: Team | None = None
    changes: GroupDiff = Field(default_factory=GroupDiff)
    written: bool
    outcome: Outcome = Field(description=OUTCOME)


class RoleSetResult(Result):
    group_id: int
    organization_user_id: int
    focus_role_id: int | None = Field(default=None, description="Absent: no Focus role.")
    outcome: Outcome = Field(description=OUTCOME)


class MyGroup(BaseModel):
    id: int
    name: str
    emoji: str = ""


class MyGroupsResult(Result):
    groups: list[MyGroup]


async def list_my_groups(args: ReadOrgArgs, ctx: Context) -> CallToolResult:
    """List the groups (teams) the API key's own user belongs to: id, emoji, name."""
    state = app_state(ctx)
    groups = await state.client.list_my_groups(organization(args, state), fresh=args.fresh)
    records = [MyGroup(id=g.id, name=g.name, emoji=g.emoji) for g in groups]
    return listing(state, [f"You are in {len(records)} groups."], "groups", records, id_emoji_name, {}, "")


async def create_group(args: CreateGroupArgs, ctx: Context) -> CallToolResult:
    """Create a group (team) with a name, optional emoji, members and workspaces.

    Refused when a group of the same name exists in a target workspace (its id is named), unless
    allow_duplicate_name=true. If the answer is lost, a fresh read tells whether it was created.
    """
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
    body = GroupRequest(
        name=args.name, emoji=args.emoji, organization_users=args.organization_users, workspaces=workspaces
    )
    async with state.client.creating_group(org, args.name) as turn:  # the check and the create, one at a time
        before = await _same_name(state, org, workspaces, args.name)
        if before and not args.allow_duplicate_name:
            taken = ", ".join(f"#{g.id} in workspace {ws}" for ws, g in before)
            raise ToolError(
                f"Not created: a group named {args.name!r} already exists ({taken}). Use update_group to change "
                "it, or call create_group again with allow_duplicate_name=true if a second one is really wanted."
            )
        known = {g.id for _, g in before}
        found: list[Group] = []

        async def read_back() -> tuple[bool, str]:
            found[:] = [g for _, g in await _same_name(state, org, workspaces, args.name) if g.id not in known]
            if found:
                return True, team_line(Team.from_api(found[0]))
            return False, f"no new group named {args.name!r}"

        created = await write(state, ctx, state.client.create_group(org, body), "create_group", read_back)
        if isinstance(created, NoReadableAnswer):
            if not created.written:
                return unknown(state, created, {"written": False})
            lines = [f"Created group ({created.why}; a fresh read shows {created.shows})", *turn_notes(turn)]
            structured = GroupWriteResult(
                group=Team.from_api(found[0]) if found else None, written=True, outcome="written"
            )
            return answer(state, lines, structured)
    team = Team.from_api(created)
    lines = [f"Created group: {team_line(team)}", *turn_notes(turn)]
    return answer(state, lines, GroupWriteResult(group=team, written=True, outcome="written"))


async def _same_name(state: AppState, org: int, workspaces: list[int], name: str) -> list[tuple[int, Group]]:
    """(workspace, group) for each group named `name` (case-insensitively) in those workspaces: read now."""
    wanted = name.strip().casefold()
    found: list[tuple[int, Group]] = []
    for ws in dict.fromkeys(workspaces):
        page = await state.client.list_teams(org, ws, TeamsQuery(filter=name.strip(), per_page=100), fresh=True)
        found += [(ws, g) for g in page.data if g.name.strip().casefold() == wanted]
    return found


async def update_group(args: UpdateGroupArgs, ctx: Context) -> CallToolResult:
    """Edit a group. Unchanged fields are kept: the group is read first and the merge is written.

    Use add_users/remove_users (and add_workspaces/remove_workspaces) to change membership;
    organization_users or workspaces replace the whole list. dry_run shows the change without writing.
    """
    state = app_state(ctx)
    changes = args.model_dump(exclude={"group_id", "organization_id", "workspace_id", "dry_run"})
    if all(value in (None, []) for value in changes.values()):
        raise ToolError("Nothing to change: give name, emoji, add_users, remove_users or another field.")
    org, ws = organization(args, state), workspace(args, state)
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)
    users = {f: await names.user_ids(state, org, getattr(args, f), f) for f in ("add_users", "remove_users")}
    if args.organization_users is not None:
        users["organization_users"] = await names.user_ids(state, org, args.organization_users, "organization_users")
    edit = common_fields_as(args.model_copy(update=users), GroupEdit)
    check_edit(edit)
    async with state.client.editing_group(org, gid) as turn:  # parallel edits of the group wait their turn
        current = await state.client.get_group(org, gid, ws)
        if (
            current is None
            and args.workspace_id is None
            and (elsewhere := await names.workspace_of(state, org, gid, ws, ctx))
        ):
            ws, current = elsewhere, await state.client.get_group(org, gid, elsewhere)
        if current is None:
            raise ToolError(
                f"Group {gid} is not visible in workspace {ws}, so it was not changed. Pass the "
                "workspace_id the group belongs to, or call list_teams to check the group id."
            )
        body, diff = plan_group_edit(current, edit)
        before = Team.from_api(current)
        if diff.empty:
            lines = [f"No change needed, nothing written: {team_line(before)}"]
            return answer(state, lines, GroupWriteResult(group=before, written=False, outcome="not_written"))
        added_ids = [r.id for r in diff.users_added]
        if args.dry_run:
            added = await names.users_by_id(state, org, added_ids)
            diff = _name_new_members(added, diff)
        else:  # only for the notes: a failed read must not stop the edit
            try:
                added = await names.users_by_id(state, org, added_ids)
            except FocusError:
                added = {}
        notes = _member_warnings(added, diff, body.workspaces, current)
        if args.dry_run:
            lines = [f"Dry run, nothing written. Would change: {diff.describe()}.", *notes]
            return answer(
                state, lines, GroupWriteResult(group=before, changes=diff, written=False, outcome="not_written")
            )
        seen: list[Group] = []

        async def read_back() -> tuple[bool, str]:
            group = await state.client.get_group(org, gid, ws)
            if group is None:
                return False, f"group {gid} no longer visible in workspace {ws}"
            seen[:] = [group]
            _, rest = plan_group_edit(group, edit)
            if rest.empty:
                return True, team_line(Team.from_api(group))
            return False, f"this still to do: {rest.describe()}; the group now: {team_line(Team.from_api(group))}"

        # A lost answer is settled while the group's turn is still held.
        outcome = await write(state, ctx, state.client.update_group(org, gid, body), "update_group", read_back)
        if isinstance(outcome, NoReadableAnswer):
            if not outcome.written:
                return unknown(state, outcome, {"changes": diff.model_dump(), "written": False})
            if not seen:  # a 2xx, but the group is not visible to a read now
                lines = [f"Updated group {gid} ({outcome.why}): {diff.describe()}.", *notes, *turn_notes(turn)]
                return answer(state, lines, GroupWriteResult(changes=diff, written=True, outcome="written"))
            shown = "a fresh read shows it applied" if outcome.confirmed else "shown as a fresh read finds it"
            after, note = seen[0], f" ({outcome.why}; {shown})"
        else:
            after, note = outcome, ""
    diff = name_added(diff, after)
    team = Team.from_api(after)
    lines = [f"Updated group {after.id}{note}: {diff.describe()}.", team_line(team), *notes, *turn_notes(turn)]
    return answer(state, lines, GroupWriteResult(group=team, changes=diff, written=True, outcome="written"))


def _name_new_members(added: dict[int, OrganizationUser], diff: GroupDiff) -> GroupDiff:
    """A dry run names the users it would add; ids that name no user are refused, as the write would be."""
    ids = [r.id for r in diff.users_added]
    unknown = [i for i in ids if i not in added]
    if unknown:
        raise ToolError(f"Not changed: organization users {unknown} do not exist; call list_users to find the ids.")
    return diff.model_copy(update={"users_added": [Ref(id=i, name=added[i].name) for i in ids]})


def _member_warnings(
    added: dict[int, OrganizationUser], diff: GroupDiff, workspaces: list[int], group: Group
) -> list[str]:
    """Notes on added members who are in none of the group's workspaces, or have not joined yet."""
    names = {w.workspace_id: w.name for w in group.workspaces}
    users = [added[r.id] for r in diff.users_added if r.id in added]
    outside = [u for u in users if not {w.id for w in u.workspaces or ()} & set(workspaces)]
    waiting = [u for u in users if not u.joined]
    notes = []
    if outside:
        where = ", ".join(f"{names.get(w) or 'workspace'}#{w}" for w in workspaces) or "no workspace"
        notes.append(f"Note: in none of the group's workspaces ({where}): {_who(outside)}.")
    if waiting:
        notes.append(f"Note: not joined the organization yet: {_who(waiting)}.")
    return notes


def _who(users: list[OrganizationUser]) -> str:
    return ", ".join(f"{u.name}#{u.id}" for u in users)


async def set_group_member_role(args: SetGroupMemberRoleArgs, ctx: Context) -> CallToolResult:
    """Set a group member's Focus role (other products' roles are kept); null clears it."""
    state = app_state(ctx)
    org, ws = organization(args, state), workspace(args, state)
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)
    body = GroupUserRoleRequest(
        focus_role_id=args.focus_role_id, organization_user_id=args.organization_user_id, workspace_id=ws
    )
    role = f"role {args.focus_role_id}" if args.focus_role_id else "no Focus role"
    structured: dict[str, object] = {
        "group_id": gid,
        "organization_user_id": args.organization_user_id,
        "outcome": "written",
    }
    if args.focus_role_id is not None:
        structured["focus_role_id"] = args.focus_role_id
    async with state.client.editing_group(org, gid) as turn:

        async def read_back() -> tuple[bool, str]:
            group = await state.client.get_group(org, gid, ws)
            member = (
                next((u for u in group.users if u.organization_user_id == body.organization_user_id), None)
                if group
                else None
            )
            if member is None:
                return False, f"user {body.organization_user_id} not a member of group {gid} in workspace {ws}"
            held = f"role {member.focus_role_id}" if member.focus_role_id else "no Focus role"
            return (member.focus_role_id or None) == body.focus_role_id, f"the user with {held}"

        request = state.client.set_group_member_role(org, gid, body)
        outcome = await write(state, ctx, request, "set_group_member_role", read_back)
        if isinstance(outcome, NoReadableAnswer) and not outcome.written:
            return unknown(state, outcome, structured)
        note = f" ({outcome.why}; a fresh read shows it set)" if isinstance(outcome, NoReadableAnswer) else ""
    lines = [f"User {args.organization_user_id} now has {role} in group {gid}{note}.", *turn_notes(turn)]
    return answer(state, lines, structured)


TOOLS = [
    ToolSpec(list_my_groups, "List my groups", ReadOrgArgs, MyGroupsResult, READ_ONLY),
    ToolSpec(create_group, "Create group", CreateGroupArgs, GroupWriteResult, ADDITIVE),
    ToolSpec(update_group, "Update group", UpdateGroupArgs, GroupWriteResult, DESTRUCTIVE),
    ToolSpec(set_group_member_role, "Set group member role", SetGroupMemberRoleArgs, RoleSetResult, DESTRUCTIVE),
]
