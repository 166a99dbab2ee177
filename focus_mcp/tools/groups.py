"""Groups: the key's own groups, and the writes: create (never a duplicate name by accident), update
(a merge, never a blind replace); a member's role is member_roles.py, delete deletion.py. Each
write's answer says whether it was written, not written, or unknown (see outcomes.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.client import EditLock
from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import (
    Group,
    GroupRequest,
    IdList,
    OrganizationUser,
)
from focus_mcp.tools import names
from focus_mcp.tools.base import (
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
from focus_mcp.tools.edits import GroupDiff, GroupEdit, check_edit, name_added, plan_group_edit
from focus_mcp.tools.member_notes import create_warnings, member_warnings, name_new_members
from focus_mcp.tools.names import GroupRef, UserRefs
from focus_mcp.tools.outcomes import (
    OUTCOME,
    NoReadableAnswer,
    Outcome,
    ReadResult,
    after_release,
    begin_change,
    change_line,
    run_owned,
    turn_notes,
    unknown,
    write,
)
from focus_mcp.tools.owned_writes import Commitment
from focus_mcp.tools.pending import clear_unsettled, same_name_groups
from focus_mcp.tools.render import answer, counted, id_emoji_name, listing
from focus_mcp.tools.teams import Team, team_line, team_with_roles

Name = Annotated[str, Field(min_length=1)]
Emoji = str


class CreateGroupArgs(OrgArgs):
    name: Name
    emoji: Emoji = ""
    organization_users: UserRefs = Field(default_factory=list, description="Ids, exact names or emails.")
    workspaces: IdList | None = None  # default: the configured workspace (the server's instructions say so)
    allow_duplicate_name: bool = False


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


def given(args: BaseModel) -> dict[str, Any]:
    """The arguments as the model gave them, for the journal (defaults left out)."""
    return args.model_dump(mode="json", exclude_defaults=True)


async def create_group(args: CreateGroupArgs, ctx: Context) -> CallToolResult:
    """Create a group (team). Refused when one of its workspaces has a group of that name, unless
    allow_duplicate_name=true."""
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
    body = GroupRequest(name=args.name, emoji=args.emoji, organization_users=ids, workspaces=workspaces)
    notes = await create_warnings(state, org, ids, members, workspaces)

    async def job(commitment: Commitment) -> CallToolResult:
        async with state.client.creating_group(org, args.name) as lock:  # the check and the create, one at a time
            await clear_unsettled(state, org, workspaces[0], create_name=args.name)
            before = await same_name_groups(state, org, workspaces, args.name)
            if before and not args.allow_duplicate_name:
                taken = ", ".join(f"#{g.id} in workspace {ws}" for ws, g in before)
                raise ToolError(
                    f"Not created: a group named {args.name!r} already exists ({taken}). Use update_group to "
                    "change it, or call create_group again with allow_duplicate_name=true if a second one is "
                    "really wanted."
                )
            known = {g.id for _, g in before}
            result, _ = await create(
                state, ctx, commitment, lock, org, body, known, "create_group", given(args), notes=notes
            )
        return after_release(result, lock)

    return await run_owned(state, ctx, "create_group", job)


async def create(
    state: AppState,
    ctx: Context,
    commitment: Commitment,
    lock: EditLock,
    org: int,
    body: GroupRequest,
    known: set[int],
    tool: str,
    arguments: dict[str, Any],
    undoes: str | None = None,
    notes: Callable[[Group | None], list[str]] | None = None,
) -> tuple[CallToolResult, Group | None]:
    """POST the group (under the name's turn; `known`: the ids of that name before), and the answer
    (with the `notes` on its members, given the group created as the API shows it)."""

    async def read_back() -> ReadResult:
        same = await same_name_groups(state, org, body.workspaces, body.name)
        found = [g for _, g in same if g.id not in known]
        if found:
            return ReadResult(True, team_line(Team.from_api(found[0])), found[0])
        return ReadResult(False, f"no new group named {body.name!r}")

    change = begin_change(
        state, ctx, tool, org, body.workspaces[0], arguments,
        before=None, request=body.model_dump(mode="json"), group_name=body.name, undoes=undoes,
    )  # fmt: skip
    created = await write(
        state, commitment, change, lambda: state.client.create_group(org, body), read_back, after=lambda g: g
    )
    if isinstance(created, NoReadableAnswer):
        if not created.written:
            return unknown(state, created, GroupWriteResult(written=False, outcome="unknown")), None
        lines, group = [f"Created group ({created.why}; a fresh read shows {created.shows})"], created.read.group
    else:
        lines, group = [f"Created group: {team_line(Team.from_api(created))}"], created
    lines += [*(notes(group) if notes else []), change_line(change.id), *turn_notes(lock)]
    team = Team.from_api(group) if group else None
    return answer(
        state, lines, GroupWriteResult(group=team, written=True, outcome="written", change_id=change.id)
    ), group


async def update_group(args: UpdateGroupArgs, ctx: Context) -> CallToolResult:
    """Edit a group: what is not given is kept. Users: ids, exact names or emails. dry_run: show
    the change, write nothing."""
    state = app_state(ctx)
    changes = args.model_dump(exclude={"group_id", "organization_id", "workspace_id", "dry_run"})
    if all(value in (None, []) for value in changes.values()):
        raise ToolError("Nothing to change: give name, emoji, add_users, remove_users or another field.")
    org, ws = organization(args, state), workspace(args, state)
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)
    known: dict[int, OrganizationUser] = {}  # users found by name: not fetched again for the notes
    users = {f: await names.user_ids(state, org, getattr(args, f), f, known) for f in ("add_users", "remove_users")}
    if args.organization_users is not None:
        users["organization_users"] = await names.user_ids(
            state, org, args.organization_users, "organization_users", known
        )
    edit = common_fields_as(args.model_copy(update=users), GroupEdit)
    check_edit(edit)

    async def job(commitment: Commitment) -> CallToolResult:
        async with state.client.editing_group(org, gid) as lock:  # parallel edits of the group wait their turn
            if not args.dry_run:
                await clear_unsettled(state, org, ws, group_id=gid)
            current, space = await current_group(state, ctx, org, gid, ws, explicit=args.workspace_id is not None)
            result = await edit_group(
                state, ctx, commitment, lock, org, current, space, edit, "update_group", given(args), args.dry_run,
                known=known,
            )  # fmt: skip
        return after_release(result, lock)

    return await run_owned(state, ctx, "update_group", job)


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


async def edit_group(
    state: AppState,
    ctx: Context,
    commitment: Commitment,
    lock: EditLock,
    org: int,
    current: Group,
    ws: int,
    edit: GroupEdit,
    tool: str,
    arguments: dict[str, Any],
    dry_run: bool,
    undoes: str | None = None,
    known: dict[int, OrganizationUser] | None = None,
) -> CallToolResult:
    """Apply `edit` to the group as read under its turn: plan, dry run or write, and the answer (`known`:
    users already read, by name)."""
    gid = current.id
    body, diff = plan_group_edit(current, edit)
    before = Team.from_api(current)
    if diff.empty:
        lines = [f"No change needed, nothing written: {team_line(before)}"]
        return answer(state, lines, GroupWriteResult(group=before, written=False, outcome="not_written"))
    added_ids = [r.id for r in diff.users_added]
    if dry_run:
        added = await names.users_by_id(state, org, added_ids, known)
        diff = name_new_members(added, diff)
    else:  # only for the notes: a failed read must not stop the edit
        try:
            added = await names.users_by_id(state, org, added_ids, known)
        except FocusError:
            added = {}
    notes = member_warnings(added, diff, body.workspaces, current)
    if dry_run:
        lines = [f"Dry run, nothing written. Would change {id_emoji_name(before)}: {diff.describe()}.", *notes]
        return answer(state, lines, GroupWriteResult(group=before, changes=diff, written=False, outcome="not_written"))

    async def read_back() -> ReadResult:
        group = await state.client.get_group(org, gid, ws)
        if group is None:
            return ReadResult(False, f"group {gid} no longer visible in workspace {ws}")
        _, rest = plan_group_edit(group, edit)
        if rest.empty:
            return ReadResult(True, team_line(Team.from_api(group)), group)
        return ReadResult(
            False, f"this still to do: {rest.describe()}; the group now: {team_line(Team.from_api(group))}", group
        )

    change = begin_change(
        state, ctx, tool, org, ws, arguments, before=current, request=body.model_dump(mode="json"), undoes=undoes
    )
    request = lambda: state.client.update_group(org, gid, body)  # noqa: E731
    outcome = await write(state, commitment, change, request, read_back, after=lambda g: g)
    notes += [change_line(change.id), *turn_notes(lock)]
    if isinstance(outcome, NoReadableAnswer):
        if not outcome.written:
            return unknown(state, outcome, GroupWriteResult(changes=diff, written=False, outcome="unknown"))
        after = outcome.read.group
        assert after is not None  # a read that confirms has seen the group
        note = f" ({outcome.why}; a fresh read shows it applied)"
    else:
        after, note = outcome, ""
    diff = name_added(diff, after)
    team = await team_with_roles(state, org, after)
    lines = [f"Updated group {after.id}{note}: {diff.describe()}.", team_line(team), *notes]
    return answer(
        state, lines, GroupWriteResult(group=team, changes=diff, written=True, outcome="written", change_id=change.id)
    )


TOOLS = [
    ToolSpec(list_my_groups, "List my groups", OrgArgs, MyGroupsResult, READ_ONLY),
    ToolSpec(create_group, "Create group", CreateGroupArgs, GroupWriteResult, ADDITIVE),
    ToolSpec(update_group, "Update group", UpdateGroupArgs, GroupWriteResult, DESTRUCTIVE),
]
