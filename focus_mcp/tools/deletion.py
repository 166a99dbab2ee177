"""delete_group: a group deleted only after a human's yes (undo_change can recreate it, under a new id).

When the client can show a question, the server asks the user (the SDK's Resolve/Elicit, so that
2025-era and 2026-07-28 clients are both asked); otherwise the call is refused until the model has
asked the user itself and calls again with confirm=true (writes/confirm.py). The delete runs through
the write pipeline (focus_mcp/writes), whose answer says written, not written or unknown.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import AcceptedElicitation, Context, ElicitationResult, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field

from focus_mcp.api.errors import FocusError
from focus_mcp.org import names
from focus_mcp.org.names import GroupRef
from focus_mcp.render.lines import answer
from focus_mcp.toolkit.arguments import Refusal, checked
from focus_mcp.toolkit.base import (
    DESTRUCTIVE,
    JsonBool,
    Result,
    ToolSpec,
    WorkspaceArgs,
    app_state,
    organization,
    workspace,
)
from focus_mcp.writes import pipeline
from focus_mcp.writes.change import OUTCOME, DeleteGroup, Outcome, Wanted
from focus_mcp.writes.confirm import (
    CannotAsk,
    ConfirmDelete,
    Question,
    can_ask,
    group_named,
    human_yes,
    question,
    yes_needed,
)
from focus_mcp.writes.plan import not_visible
from focus_mcp.writes.reads import given


class DeleteResult(Result):
    group_id: int
    deleted: bool
    outcome: Outcome = Field(description=OUTCOME)
    change_id: str | None = Field(default=None, description="The journal entry (list_changes, undo_change).")


class DeleteGroupArgs(WorkspaceArgs):
    group_id: GroupRef
    confirm: JsonBool = False


async def ask_to_delete(
    args: Annotated[DeleteGroupArgs | Refusal, Resolve(checked(DeleteGroupArgs))], ctx: Context
) -> Question:
    """Ask the user, naming the group and its size, when the client can show a question (and the
    arguments are valid: refused ones are answered by the tool, without a question). A failure is
    handed to the tool as a Refusal: raised here, the SDK would prefix it with "Error executing tool"."""
    if isinstance(args, Refusal) or not can_ask(ctx):
        return CannotAsk()
    state = app_state(ctx)

    async def find() -> str | Refusal:  # a cached read names the group; the resolver may run twice
        org, ws = organization(args, state), workspace(args, state)
        gid, ws = await names.group_id(state, org, ws, args.group_id, ctx, explicit=args.workspace_id is not None)
        group = await state.client.get_group(org, gid, ws, fresh=False)
        return Refusal(not_visible(args.group_id, ws)) if group is None else f"Delete the group {group_named(group)}?"

    return await question(find)


async def delete_group(
    args: DeleteGroupArgs,
    ctx: Context,
    decision: Annotated[ElicitationResult[ConfirmDelete], Resolve(ask_to_delete)],
) -> CallToolResult:
    """Delete a group, only with the user's yes: the server asks when the client can; else
    ask the user, then call with confirm=true."""
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

    refusal = await human_yes(decision, args.confirm, gid, refused)
    if refusal is not None:
        return answer(state, [refusal], DeleteResult(group_id=gid, deleted=False, outcome="not_written"))
    wanted = Wanted("delete_group", org, given(args), [DeleteGroup(gid, ws)], refused="Not deleted")
    done = await pipeline.run(state, ctx, wanted)
    structured = DeleteResult(
        group_id=gid, deleted=done.outcome == "written", outcome=done.outcome, change_id=done.change_id
    )
    return answer(state, done.lines, structured, error=done.error)


TOOLS = [ToolSpec(delete_group, "Delete group", DeleteGroupArgs, DeleteResult, DESTRUCTIVE)]
