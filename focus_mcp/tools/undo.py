"""undo_change: the reverse of one journaled change, against the group as it is now (writes/undo_plan).

The undo is a change like any other: the write pipeline (focus_mcp/writes) runs it, one journal entry
saying `undoes`, under the turns of the group and of its name, after their unsettled changes are
settled. Undoing a create deletes the group, so it needs the same human yes as delete_group.
"""

from __future__ import annotations

import logging
from typing import Annotated

from mcp.server.mcpserver import AcceptedElicitation, Context, ElicitationResult, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from focus_mcp.api.errors import FocusError
from focus_mcp.journal import Change
from focus_mcp.journal.access import find_change, other_organization
from focus_mcp.render.describe import describe
from focus_mcp.render.lines import answer, counted, echoed, name
from focus_mcp.toolkit.arguments import Refusal, checked
from focus_mcp.toolkit.base import AppState, JsonBool, Result, ToolArgs, ToolSpec, app_state
from focus_mcp.writes import confirm, pipeline
from focus_mcp.writes.change import OUTCOME, Done, Outcome, UndoOf, Wanted
from focus_mcp.writes.reads import given
from focus_mcp.writes.undo_plan import Action, UndoPlan, member_names, plan_text, undone_kind, unsettled_or_done

log = logging.getLogger(__name__)

# Destructive, and not idempotent: a second undo of a delete would make a second group (it is refused).
UNDO = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)


class UndoChangeArgs(ToolArgs):
    change_id: str = Field(min_length=1)
    dry_run: bool = False
    confirm: JsonBool = False


class UndoResult(Result):
    undoes: str
    action: Action
    outcome: Outcome = Field(description=OUTCOME)
    change_id: str | None = Field(default=None, description="The undo's own journal entry.")
    group_id: int | None = None
    left_alone: list[str] = Field(default_factory=list, description="Changed since: kept.")
    not_recreated: list[str] = Field(default_factory=list)


async def _change(state: AppState, change_id: str) -> Change:
    change = await find_change(state.journal, state.client, change_id.strip())  # its organization's key only
    if change is None:
        raise ToolError(
            f"No change {echoed(change_id)} in the journal (changes are kept "
            f"{counted(state.settings.journal_days, 'day')}): "
            "call list_changes for the ids."
        )
    return change


def _workspace(state: AppState, change: Change) -> int:
    ws = change.workspace_id or state.settings.workspace_id
    if ws is None:
        raise ToolError(f"Change {change.id} names no workspace: set TOGGL_FOCUS_WORKSPACE_ID.")
    return ws


async def ask_to_undo(
    args: Annotated[UndoChangeArgs | Refusal, Resolve(checked(UndoChangeArgs))], ctx: Context
) -> confirm.Question:
    """Undoing a create deletes the group: ask the user first, as delete_group does (when the client can)."""
    if isinstance(args, Refusal) or args.dry_run or not confirm.can_ask(ctx):
        return confirm.CannotAsk()
    state = app_state(ctx)

    async def find() -> str | confirm.CannotAsk | Refusal:
        change = await find_change(state.journal, state.client, args.change_id.strip())
        if change is None or undone_kind(change) != "create" or change.group_id is None or unsettled_or_done(change):
            return confirm.CannotAsk()  # nothing to delete (or not yet known): no question
        group = await state.client.get_group(change.organization_id, change.group_id, _workspace(state, change), False)
        if group is None:
            return Refusal(f"Nothing undone: group #{change.group_id}, made by change {change.id}, is not visible now.")
        return f"Undo change {change.id}: delete the group it created, {confirm.group_named(group)}?"

    return await confirm.question(find)


async def undo_change(
    args: UndoChangeArgs,
    ctx: Context,
    decision: Annotated[ElicitationResult[confirm.ConfirmDelete], Resolve(ask_to_undo)],
) -> CallToolResult:
    """Undo a change from list_changes; later edits are kept. Undoing a create deletes the group:
    confirm as for delete_group. dry_run: the plan."""
    if isinstance(decision, AcceptedElicitation) and isinstance(decision.data, Refusal):
        raise ToolError(decision.data.message)
    state = app_state(ctx)
    change = await _change(state, args.change_id)
    org, ws = change.organization_id, _workspace(state, change)
    agreed = False
    deletes = undone_kind(change) == "create" and change.group_id is not None and not args.dry_run
    if deletes and change.group_id is not None and unsettled_or_done(change) is None:
        gid = change.group_id

        async def refused() -> str:
            try:  # a cached read names the group (the call after a yes reads it again, fresh)
                group = await state.client.get_group(org, gid, ws, fresh=False)
            except FocusError:
                group = None  # unreadable: named by its id, the yes still needed
            doing = f"undoing change {change.id} deletes the group it created, which needs"
            return confirm.yes_needed(doing, gid, group, "undo_change", {"change_id": change.id})

        refusal = await confirm.human_yes(decision, args.confirm, gid, refused)
        if refusal is not None:
            structured = UndoResult(undoes=change.id, action="delete", outcome="not_written")
            return answer(state, [refusal], structured)
        agreed = True
    part = UndoOf(change.id, agreed)
    wanted = Wanted("undo_change", org, given(args), [part], dry_run=args.dry_run, refused="Not undone")
    done = await pipeline.run(state, ctx, wanted)
    fresh = await state.journal.get(change.id) or change
    roles = {r.role_id: r.name for r in await state.client.cached_roles(org) or ()}  # no request: named if read
    return _answer(state, fresh.model_copy(update={"note": fresh.note}), done, roles)


def _answer(state: AppState, change: Change, done: Done, roles: dict[int, str]) -> CallToolResult:
    plan = done.undo or UndoPlan("none", change.group_id, change.workspace_id, why=done.nothing)
    if done.nothing:
        return _nothing(state, change, plan, done.nothing)
    if done.dry_run and plan.edit is None and plan.action == "edit":  # several groups: each group's plan
        lines = [f"Dry run, nothing written. {_heading(state, change, roles)} would, group by group:", *done.lines]
        structured = UndoResult(undoes=change.id, action="edit", outcome="not_written", left_alone=plan.left_alone)
        return answer(state, lines, structured)
    if done.dry_run:
        return _dry_run(state, change, plan, member_names(change, done.group), roles)
    lines = [f"{_heading(state, change, roles)}:", *_finishing(plan), *done.lines]
    if plan.action == "create" and done.group is not None:
        lines.insert(2, f"The new id is {done.group.id} (it was {change.group_id}).")
    lines += [f"Left alone (changed since): {'; '.join(plan.left_alone)}."] if plan.left_alone else []
    lines += [f"Not recreated (the API cannot): {', '.join(plan.not_recreated)}."] if plan.not_recreated else []
    gid = done.group.id if done.group is not None else plan.group_id
    structured = UndoResult(
        undoes=change.id,
        action=plan.action,
        outcome=done.outcome,
        change_id=done.change_id,
        group_id=gid,
        left_alone=plan.left_alone,
        not_recreated=plan.not_recreated,
    )
    return answer(state, lines, structured, error=done.error)


def _finishing(plan: UndoPlan) -> list[str]:
    if plan.finishes is None:
        return []
    return [
        f"Change {plan.finishes} undid it, and its re-create landed after its answer was lost, so the members' "
        "Focus roles it had not sent are set now, against the group as read now."
    ]


def _heading(state: AppState, change: Change, roles: dict[int, str] | None = None) -> str:
    shown = name(change.group_name or "")
    group = f"{shown}#{change.group_id}" if change.group_id else f'"{shown}"'
    whose = other_organization(change.organization_id, state.settings)
    return f"Undo of change {change.id}{whose} ({change.tool} {group}: {describe(change, roles)})"


def _nothing(state: AppState, change: Change, plan: UndoPlan, why: str) -> CallToolResult:
    structured = UndoResult(
        undoes=change.id, action="none", outcome="not_written", group_id=plan.group_id, left_alone=plan.left_alone
    )
    return answer(state, [f"{_heading(state, change)}: nothing written. {why}"], structured)


def _dry_run(
    state: AppState, change: Change, plan: UndoPlan, names: dict[int, str], roles: dict[int, str]
) -> CallToolResult:
    heading = _heading(state, change, roles)
    lines = [*_finishing(plan), f"Dry run, nothing written. {heading} would: {plan_text(plan, names, roles)}."]
    lines += [f"Left alone: {'; '.join(plan.left_alone)}."] if plan.left_alone else []
    lines += [f"Not recreated (the API cannot): {', '.join(plan.not_recreated)}."] if plan.not_recreated else []
    structured = UndoResult(
        undoes=change.id,
        action=plan.action,
        outcome="not_written",
        group_id=plan.group_id,
        left_alone=plan.left_alone,
        not_recreated=plan.not_recreated,
    )
    return answer(state, lines, structured)


TOOLS = [ToolSpec(undo_change, "Undo change", UndoChangeArgs, UndoResult, UNDO)]
