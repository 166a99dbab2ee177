"""undo_change: the reverse of one journaled change, against the group as it is now (see undo_plan).

The undo is a write like any other: it runs through the same owned, journaled write functions as
update_group, delete_group, create_group and set_group_member_role (its entries say `undoes`), under
the group's turn, after the group's unsettled writes are settled. Undoing a create deletes the
group, so it needs the same human yes as delete_group.
"""

from __future__ import annotations

import logging
from typing import Annotated

from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from focus_mcp.api.client import EditLock
from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group
from focus_mcp.journal import Change
from focus_mcp.journal.access import find_change
from focus_mcp.journal.describe import describe
from focus_mcp.tools.advice import explain
from focus_mcp.tools.arguments import Refusal, checked
from focus_mcp.tools.base import AppState, JsonBool, Result, ToolArgs, ToolSpec, app_state
from focus_mcp.tools.deletion import CannotAsk, ConfirmDelete, can_ask, delete, group_named, human_yes, yes_needed
from focus_mcp.tools.groups import create, edit_group, given
from focus_mcp.tools.member_roles import set_role
from focus_mcp.tools.outcomes import OUTCOME, Outcome, after_release, run_owned
from focus_mcp.tools.owned_writes import Commitment
from focus_mcp.tools.paging import QUOTA_RESERVE, check_quota
from focus_mcp.tools.pending import clear_unsettled, same_name_groups, write_kind
from focus_mcp.tools.render import SANDBOX_BANNER, answer, counted, echoed
from focus_mcp.tools.undo_plan import Action, UndoPlan, member_names, plan_text, plan_undo, unsettled_or_done

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
) -> Elicit[ConfirmDelete] | CannotAsk | Refusal:
    """Undoing a create deletes the group: ask the user first, as delete_group does (when the client can)."""
    if isinstance(args, Refusal) or args.dry_run or not can_ask(ctx):
        return CannotAsk()
    state = app_state(ctx)
    try:
        change = await find_change(state.journal, state.client, args.change_id.strip())
        if change is None or write_kind(change) != "create" or change.group_id is None or unsettled_or_done(change):
            return CannotAsk()  # nothing to delete (or not yet known): no question
        group = await state.client.get_group(change.organization_id, change.group_id, _workspace(state, change), False)
    except FocusError as exc:
        return Refusal(explain(exc))
    except ToolError as exc:
        return Refusal(str(exc))
    if group is None:
        return Refusal(f"Nothing undone: group #{change.group_id}, made by change {change.id}, is not visible now.")
    return Elicit(f"Undo change {change.id}: delete the group it created, {group_named(group)}?", ConfirmDelete)


async def undo_change(
    args: UndoChangeArgs,
    ctx: Context,
    decision: Annotated[ElicitationResult[ConfirmDelete], Resolve(ask_to_undo)],
) -> CallToolResult:
    """Undo a change from list_changes; later edits are kept (and named). Undoing a create deletes
    the group: confirm as for delete_group. dry_run: the plan."""
    if isinstance(decision, AcceptedElicitation) and isinstance(decision.data, Refusal):
        raise ToolError(decision.data.message)
    state = app_state(ctx)
    change = await _change(state, args.change_id)
    org, ws, kind = change.organization_id, _workspace(state, change), write_kind(change)
    agreed = False
    if kind == "create" and not args.dry_run and change.group_id is not None and unsettled_or_done(change) is None:
        gid = change.group_id

        async def refused() -> str:
            try:  # a cached read names the group (the call after a yes reads it again, fresh)
                group = await state.client.get_group(org, gid, ws, fresh=False)
            except FocusError:
                group = None  # unreadable: named by its id, the yes still needed
            doing = f"undoing change {change.id} deletes the group it created, which needs"
            return yes_needed(doing, gid, group, "undo_change", {"change_id": change.id})

        refusal = await human_yes(state, decision, args.confirm, gid, refused)
        if refusal is not None:
            return _restated(state, refusal, UndoResult(undoes=change.id, action="delete", outcome="not_written"))
        agreed = True

    async def job(commitment: Commitment) -> CallToolResult:
        if kind == "delete":
            return await _recreate(state, ctx, commitment, args, change, ws)
        fresh = change
        if kind == "create" and fresh.group_id is None and not args.dry_run:  # an unknown create: settle it first
            async with state.client.creating_group(org, fresh.group_name or ""):
                await clear_unsettled(state, org, ws, create_name=fresh.group_name or "")
            fresh = await state.journal.get(change.id) or fresh
        if fresh.group_id is None:
            return _nothing(state, fresh, plan_undo(fresh, None))
        gid = fresh.group_id
        async with state.client.editing_group(org, gid) as lock:
            if not args.dry_run:
                await clear_unsettled(state, org, ws, group_id=gid)  # settles this change too if unknown
                fresh = await state.journal.get(change.id) or fresh
            current = await state.client.get_group(org, gid, ws)
            plan = plan_undo(fresh, current)
            if plan.action == "none":
                return _nothing(state, fresh, plan)
            if args.dry_run:
                return _dry_run(state, fresh, plan, member_names(fresh, current))
            if plan.action == "delete" and not agreed:
                doing = f"undoing change {fresh.id} deletes the group it created, which needs"
                raise ToolError(yes_needed(doing, gid, current, "undo_change", {"change_id": fresh.id}))
            assert current is not None
            arguments, space = given(args), plan.workspace_id or ws
            if plan.action == "edit" and plan.edit is not None:
                result = await edit_group(
                    state, ctx, commitment, lock, org, current, space, plan.edit, "undo_change", arguments, False,
                    undoes=fresh.id,
                )  # fmt: skip
            elif plan.action == "delete":
                result = await delete(
                    state, ctx, commitment, lock, org, current, space, "undo_change", arguments, undoes=fresh.id
                )
            else:
                assert plan.user is not None
                result = await set_role(
                    state, ctx, commitment, lock, org, current, space, plan.user, plan.role_id, "undo_change",
                    arguments, undoes=fresh.id,
                )  # fmt: skip
            notes = []
            if plan.action == "edit" and plan.roles and (result.structured_content or {}).get("outcome") == "written":
                group = await state.client.get_group(org, gid, space)
                if group is not None:
                    notes.append(
                        await _set_roles(state, ctx, commitment, lock, org, group, space, plan.roles, args, fresh)
                    )
            result = await _done(state, fresh, plan, result, notes)
        return after_release(result, lock)

    return await run_owned(state, ctx, "undo_change", job)


async def _recreate(
    state: AppState, ctx: Context, commitment: Commitment, args: UndoChangeArgs, change: Change, ws: int
) -> CallToolResult:
    """Undo a delete: the group created again (new id), its members' Focus roles set again."""
    org, name = change.organization_id, str((change.before or {}).get("name") or change.group_name or "")
    async with state.client.creating_group(org, name) as lock:
        if not args.dry_run:
            await clear_unsettled(state, org, ws, group_id=change.group_id, create_name=name)
        fresh = await state.journal.get(change.id) or change
        current = await state.client.get_group(org, fresh.group_id, ws) if fresh.group_id else None
        plan = plan_undo(fresh, current)
        if plan.action == "none" or plan.body is None:
            return _nothing(state, fresh, plan)
        taken = await same_name_groups(state, org, plan.body.workspaces, name)
        if taken:
            where = ", ".join(f"#{g.id} in workspace {w}" for w, g in taken)
            why = f"a group named {name!r} exists now ({where}), so it is not created a second time; edit it instead."
            return _nothing(state, fresh, UndoPlan("none", fresh.group_id, ws, why=why))
        if args.dry_run:
            return _dry_run(state, fresh, plan, member_names(fresh, None))
        role_count = len(plan.roles)
        check_quota(  # the create and each role are a request each: none is sent that the hour cannot finish
            state,
            1 + role_count + QUOTA_RESERVE,
            f"recreating {name!r} takes {1 + role_count} requests (the create, then one a member's Focus role: "
            f"{role_count}), and {QUOTA_RESERVE} are kept in reserve,",
            "Nothing was sent: undo it when the quota has reset.",
            refused="Not undone",
        )
        result, group = await create(
            state, ctx, commitment, lock, org, plan.body, set(), "undo_change", given(args), undoes=fresh.id
        )
        notes = [f"The new id is {group.id} (it was {fresh.group_id})."] if group is not None else []
        if group is not None and plan.roles:
            async with state.client.editing_group(org, group.id) as group_lock:
                roles = await _set_roles(state, ctx, commitment, group_lock, org, group, ws, plan.roles, args, fresh)
            notes.append(roles)
        result = await _done(state, fresh, plan, result, notes, group.id if group else None)
    return after_release(result, lock)


async def _set_roles(
    state: AppState,
    ctx: Context,
    commitment: Commitment,
    lock: EditLock,
    org: int,
    group: Group,
    ws: int,
    roles: dict[int, int],
    args: UndoChangeArgs,
    change: Change,
) -> str:
    """Each member's earlier Focus role, one PUT user_role each (each journaled; none for a member the
    new group already shows with it), against the group as the create showed it; what became of them."""
    done: dict[str, int] = {}
    failed: list[str] = []
    for user, role in roles.items():  # under the group's turn (`lock`), held by the caller
        try:
            result = await set_role(
                state, ctx, commitment, lock, org, group, ws, user, role, "undo_change", given(args),
                undoes=change.id,
            )  # fmt: skip
        except (ToolError, FocusError) as exc:
            failed.append(f"user {user} (role {role}): {explain(exc) if isinstance(exc, FocusError) else exc}")
        else:
            outcome = str((result.structured_content or {}).get("outcome"))
            done[outcome] = done.get(outcome, 0) + 1
    counts = ", ".join(f"{n} {outcome}" for outcome, n in done.items())
    said = f"Earlier Focus roles set again: {counts or 'none'}"
    return said + (f"; not set: {'; '.join(failed)}." if failed else ".")


def _lines(result: CallToolResult) -> list[str]:
    """The text of a write's answer, without the notes `answer` adds again."""
    text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
    return [line for line in text.splitlines() if line != SANDBOX_BANNER and not line.startswith("[quota:")]


def _restated(state: AppState, result: CallToolResult, structured: UndoResult) -> CallToolResult:
    return answer(state, _lines(result), structured, error=result.is_error)


def _heading(change: Change) -> str:
    group = f"{change.group_name or ''}#{change.group_id}" if change.group_id else repr(change.group_name or "")
    return f"Undo of change {change.id} ({change.tool} {group}: {describe(change)})"


def _nothing(state: AppState, change: Change, plan: UndoPlan) -> CallToolResult:
    structured = UndoResult(
        undoes=change.id, action="none", outcome="not_written", group_id=plan.group_id, left_alone=plan.left_alone
    )
    return answer(state, [f"{_heading(change)}: nothing written. {plan.why}"], structured)


def _dry_run(state: AppState, change: Change, plan: UndoPlan, names: dict[int, str]) -> CallToolResult:
    lines = [f"Dry run, nothing written. {_heading(change)} would: {plan_text(plan, names)}."]
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


async def _done(
    state: AppState,
    change: Change,
    plan: UndoPlan,
    result: CallToolResult,
    notes: list[str] | None = None,
    group_id: int | None = None,
) -> CallToolResult:
    """The write's answer restated as the undo's; a written undo marks the change undone."""
    inner = result.structured_content or {}
    outcome, undo_id = inner.get("outcome", "unknown"), inner.get("change_id")
    if outcome == "written" and undo_id:
        try:
            await state.journal.mark_undone(change.id, str(undo_id))
        except Exception as exc:  # the undo itself is written; only its mark is missing
            log.warning("the change journal could not mark %s undone: %s", change.id, exc)
    gid = group_id or inner.get("group_id") or (inner.get("group") or {}).get("id") or plan.group_id
    lines = [f"{_heading(change)}:", *_lines(result), *(notes or [])]
    lines += [f"Left alone (changed since): {'; '.join(plan.left_alone)}."] if plan.left_alone else []
    lines += [f"Not recreated (the API cannot): {', '.join(plan.not_recreated)}."] if plan.not_recreated else []
    structured = UndoResult(
        undoes=change.id,
        action=plan.action,
        outcome=outcome,
        change_id=str(undo_id) if undo_id else None,
        group_id=gid,
        left_alone=plan.left_alone,
        not_recreated=plan.not_recreated,
    )
    return answer(state, lines, structured, error=result.is_error)


TOOLS = [ToolSpec(undo_change, "Undo change", UndoChangeArgs, UndoResult, UNDO)]
