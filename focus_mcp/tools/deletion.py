"""delete_group: a group deleted only after a human's yes (undo_change can recreate it, under a new id).

When the client can show a question, the server asks the user (the SDK's Resolve/Elicit, so that
2025-era and 2026-07-28 clients are both asked); otherwise the call is refused until the model has
asked the user itself and calls again with confirm=true. The delete's outcome is written, not
written or unknown, as for every write (see outcomes.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from focus_mcp.api.client import EditLock
from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group
from focus_mcp.tools import names
from focus_mcp.tools.advice import explain
from focus_mcp.tools.arguments import Refusal, checked
from focus_mcp.tools.base import (
    DESTRUCTIVE,
    AppState,
    JsonBool,
    Result,
    ToolSpec,
    WorkspaceArgs,
    app_state,
    organization,
    workspace,
)
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
from focus_mcp.tools.render import answer, compact_json, counted, name
from focus_mcp.tools.teams import Team, team_line


class DeleteGroupArgs(WorkspaceArgs):
    group_id: GroupRef
    confirm: JsonBool = False


class DeleteResult(Result):
    group_id: int
    deleted: bool
    outcome: Outcome = Field(description=OUTCOME)
    change_id: str | None = Field(default=None, description="The journal entry (list_changes, undo_change).")


def can_ask(ctx: Context) -> bool:
    """Whether the client can show the user a question now (delete_group, undo_change): 2026-07-28
    clients are asked through the call's result; older ones need a back-channel, which a stateless
    HTTP request does not have."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return False
    version = ctx.protocol_version
    return (version is not None and is_version_at_least(version, "2026-07-28")) or ctx.session.can_send_request


class ConfirmDelete(BaseModel):
    confirm: bool = Field(description="Yes, delete this group.")


class CannotAsk(BaseModel):
    """The client cannot show the user a question; the model must ask and pass confirm=true."""


async def ask_to_delete(
    args: Annotated[DeleteGroupArgs | Refusal, Resolve(checked(DeleteGroupArgs))], ctx: Context
) -> Elicit[ConfirmDelete] | CannotAsk | Refusal:
    """Ask the user, naming the group and its size, when the client can show a question (and the
    arguments are valid: refused ones are answered by the tool, without a question). A failure is
    handed to the tool as a Refusal: raised here, the SDK would prefix it with "Error executing tool"."""
    if isinstance(args, Refusal) or not can_ask(ctx):
        return CannotAsk()
    state = app_state(ctx)
    try:  # a cached read is good enough to name the group, and the resolver may run twice
        org, ws = organization(args, state), workspace(args, state)
        gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)
        group = await state.client.get_group(org, gid, ws, fresh=False)
    except FocusError as exc:
        return Refusal(explain(exc))
    except ToolError as exc:
        return Refusal(str(exc))
    if group is None:
        return Refusal(not_visible(args.group_id, ws))
    return Elicit(f"Delete the group {group_named(group)}?", ConfirmDelete)


def not_visible(group: int | str, ws: int) -> str:
    return (
        f"Not deleted: group {group} is not visible in workspace {ws}, so no DELETE was sent. "
        "Call list_teams to check the group id and its workspace."
    )


def group_named(group: Group) -> str:
    """The group as the user is asked about it: name#id, its workspaces by name, its size."""
    spaces = ", ".join(name(w.name) if w.name else f"workspace#{w.workspace_id}" for w in group.workspaces)
    spaces = spaces or "no workspace"
    size = f"{counted(len(group.users), 'member')}, {counted(len(group.ghosts), 'ghost')}"
    return f"{name(group.name)}#{group.id} ({spaces}), {size}"  # names are data: escaped and bounded


def yes_needed(doing: str, gid: int, group: Group | None, tool: str, again: dict[str, Any]) -> str:
    """The refusal of a delete without the user's yes, naming the group (None: unreadable, named by
    id) so that the question can be put to the user without a look-up, and the call after a yes."""
    named = group_named(group) if group else f"group {gid}"
    call = ", ".join(f"{key}={compact_json(value)}" for key, value in {**again, "confirm": True}.items())
    return (
        f"Not deleted: {doing} the user's explicit yes. Ask them: delete {named}? Only if they agree, "
        f"call {tool} again with {call}."
    )


async def delete_group(
    args: DeleteGroupArgs,
    ctx: Context,
    decision: Annotated[ElicitationResult[ConfirmDelete], Resolve(ask_to_delete)],
) -> CallToolResult:
    """Delete a group (team), only with the user's yes: the server asks when the client can; else
    ask the user first, then call with confirm=true."""
    if isinstance(decision, AcceptedElicitation) and isinstance(decision.data, Refusal):
        raise ToolError(decision.data.message)  # what stopped the question, said as the tool's answer
    state = app_state(ctx)
    org, ws = organization(args, state), workspace(args, state)
    gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)

    async def refused() -> str:
        try:  # a cached read names the group (the call after a yes reads it again, fresh)
            group = await state.client.get_group(org, gid, ws, fresh=False)
        except FocusError:
            group = None  # unreadable: named by its id, the yes still needed
        else:
            if group is None:
                raise ToolError(not_visible(gid, ws))
        again = {**args.model_dump(mode="json", exclude_defaults=True), "group_id": gid, "workspace_id": ws}
        return yes_needed("deleting it needs", gid, group, "delete_group", again)

    refusal = await human_yes(state, decision, args.confirm, gid, refused)
    if refusal is not None:
        return refusal

    async def job(commitment: Commitment) -> CallToolResult:
        async with state.client.editing_group(org, gid) as lock:
            await clear_unsettled(state, org, ws, group_id=gid)
            current = await state.client.get_group(org, gid, ws)  # seen to exist before the DELETE is sent
            if current is None:
                raise ToolError(not_visible(gid, ws))
            arguments = args.model_dump(mode="json", exclude_defaults=True)
            result = await delete(state, ctx, commitment, lock, org, current, ws, "delete_group", arguments)
        return after_release(result, lock)

    return await run_owned(state, ctx, "delete_group", job)


async def human_yes(
    state: AppState,
    decision: ElicitationResult[ConfirmDelete],
    confirm: bool,
    gid: int,
    refused: Callable[[], Awaitable[str]],
) -> CallToolResult | None:
    """None when a human agreed to delete group `gid` (asked by the server, or confirm=true when the
    client cannot be asked); otherwise the answer, or the error `refused` words (see yes_needed)."""
    if isinstance(decision, AcceptedElicitation) and isinstance(decision.data, CannotAsk):
        if not confirm:
            raise ToolError(await refused())
        return None
    if isinstance(decision, AcceptedElicitation) and decision.data.confirm:
        return None
    verdict = "cancelled" if decision.action == "cancel" else "declined"
    lines = [f"Not deleted: the user {verdict}. Group {gid} is unchanged."]
    return answer(state, lines, DeleteResult(group_id=gid, deleted=False, outcome="not_written"))


async def delete(
    state: AppState,
    ctx: Context,
    commitment: Commitment,
    lock: EditLock,
    org: int,
    current: Group,
    ws: int,
    tool: str,
    arguments: dict[str, Any],
    undoes: str | None = None,
) -> CallToolResult:
    """Delete the group as read under its turn (so a 404 to a retried DELETE means it was deleted)."""
    gid = current.id

    async def read_back() -> ReadResult:
        group = await state.client.get_group(org, gid, ws)
        if group is None:
            return ReadResult(True, f"group {gid} gone from workspace {ws}")
        return ReadResult(False, f"the group still there: {team_line(Team.from_api(group))}", group)

    change = begin_change(
        state, ctx, tool, org, ws, arguments, before=current, request={"workspace_id": ws}, undoes=undoes
    )
    request = lambda: state.client.delete_group(org, gid, ws)  # noqa: E731
    outcome = await write(
        state, commitment, change, request, read_back, refused="Not deleted", confirms=confirms_success
    )
    structured = DeleteResult(group_id=gid, deleted=True, outcome="written", change_id=change.id)
    if isinstance(outcome, NoReadableAnswer) and not outcome.written:
        return unknown(state, outcome, structured.model_copy(update={"deleted": False}))
    note = f" ({outcome.why}; a fresh read shows {outcome.shows})" if isinstance(outcome, NoReadableAnswer) else ""
    lines = [f"Deleted group {gid} ({name(current.name)}){note}.", change_line(change.id), *turn_notes(lock)]
    return answer(state, lines, structured)


TOOLS = [ToolSpec(delete_group, "Delete group", DeleteGroupArgs, DeleteResult, DESTRUCTIVE)]
