"""The one write pipeline: every change made through this server runs here, in this order.

1. The turns of every group the change touches and of every name a create of it takes (an undo's
   re-create included), in this process, across processes sharing the SQLite journal, and across
   replicas through Redis (turns.py).
2. The earlier unsettled changes of those groups and names, settled by a read or refusing this one
   (unsettled.py).
3. The fresh read of each group, and the plan: the parts the tool asked for as steps (plan.py); a
   dry run ends here.
4. The cost: a change of several requests is refused when the hour's quota, less its reserve,
   cannot finish it.
5. The journal entry, begun before anything is sent: a journal that cannot be written stops the
   change, nothing sent ("not written", and why).
6. The steps sent in order (send.py); a step whose group's earlier step was not written or is
   unknown is not sent; each step settled (written / not written / unknown).
7. The entry settled with each step's outcome, and the answer's lines (answers.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.models import Group
from focus_mcp.journal import Change, fingerprint, new_change_id, now
from focus_mcp.journal.model import Step
from focus_mcp.org.paging import QUOTA_RESERVE, check_quota
from focus_mcp.toolkit.base import AppState
from focus_mcp.writes import answers
from focus_mcp.writes.change import (
    CreateGroup,
    DeleteGroup,
    Done,
    EditGroup,
    NothingToDo,
    Part,
    SetRole,
    UndoOf,
    Wanted,
)
from focus_mcp.writes.confirm import yes_needed
from focus_mcp.writes.owned import Commitment
from focus_mcp.writes.plan import plan
from focus_mcp.writes.send import Sent, send_step
from focus_mcp.writes.steps import create_name, overall, shows_role, upper_bound
from focus_mcp.writes.turns import group_key, name_key
from focus_mcp.writes.undo_plan import UndoPlan, plan_undo, unsettled_or_done, written_steps
from focus_mcp.writes.unsettled import clear_unsettled, finish_undo, undo_still_out

log = logging.getLogger(__name__)

T = TypeVar("T")
# While a write waits for its answer (up to TOGGL_FOCUS_WRITE_TIMEOUT), the client hears progress this
# often, so that a client whose request timeout restarts on progress does not give up on a held write.
HEARTBEAT_SECONDS = 2.0


async def run(state: AppState, ctx: Context, wanted: Wanted) -> Done:
    """Run the change `wanted` (see the module docstring), owned by the server (owned.py)."""
    return await run_owned(state, ctx, wanted.tool, partial(_job, state, ctx, wanted))


async def await_with_progress(ctx: Context, work: Awaitable[T], what: str) -> T:
    """`work`'s result, with a progress notification every HEARTBEAT_SECONDS while it is awaited
    (none reach a client that asked for no progress)."""
    answered = anyio.Event()

    async def beat() -> None:
        beats = 0
        while not answered.is_set():
            with anyio.move_on_after(HEARTBEAT_SECONDS):
                await answered.wait()
            if not answered.is_set():
                beats += 1
                await ctx.report_progress(beats, None, f"{what}: waiting for the API's answer")

    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(beat)
        try:
            result = await work
        except Exception as exc:  # raised below, outside the task group, as itself
            failure = exc
        finally:
            answered.set()
    if failure is not None:
        raise failure
    return result


async def run_owned(state: AppState, ctx: Context, what: str, job: Callable[[Commitment], Awaitable[T]]) -> T:
    """`job` run by the server (see owned.py), its caller hearing progress while it waits."""
    return await await_with_progress(ctx, state.writes.run(what, job), what)


async def _targets(state: AppState, wanted: Wanted) -> tuple[list[int], list[str]]:
    """The groups and the create names whose turns the change takes."""
    groups: list[int] = []
    names: list[str] = []
    for part in wanted.parts:
        if isinstance(part, (EditGroup, SetRole, DeleteGroup)):
            groups.append(part.group_id)
        elif isinstance(part, CreateGroup):
            names.append(part.body.name)
            groups += [part.replaces] if part.replaces is not None else []
        elif (change := await state.journal.get(part.change_id)) is not None:
            undoing = await state.journal.get(change.undone_by) if change.undone_by else None
            for step in [*change.all_steps, *(undoing.steps if undoing else ())]:  # its undo's group too
                groups += [step.group_id] if step.group_id is not None else []
                if step.kind in ("create", "delete"):  # undoing a delete creates a group of its name
                    names.append(create_name(step) or str((step.before or {}).get("name") or ""))
    return list(dict.fromkeys(groups)), [n for n in dict.fromkeys(names) if n]


def _upper_cost(wanted: Wanted) -> int:
    """The most requests the parts can take: a fresh read a group (a name: a read a workspace), then
    each write; an undo is counted once planned."""
    cost = 0
    for part in wanted.parts:
        if isinstance(part, EditGroup):
            cost += 2 + len(part.roles)
        elif isinstance(part, CreateGroup):
            cost += len(part.body.workspaces) + 1 + len(part.roles)
        elif isinstance(part, (SetRole, DeleteGroup)):
            cost += 2
    return cost


async def _job(state: AppState, ctx: Context, wanted: Wanted, commitment: Commitment) -> Done:
    org = wanted.organization_id
    cost = _upper_cost(wanted)
    if len(wanted.parts) > 1 and not wanted.dry_run:  # refused before its first read when it cannot finish
        check_quota(
            state,
            cost + QUOTA_RESERVE,
            f"this change takes up to {cost} requests (a fresh read of each of its {len(wanted.parts)} groups, then "
            f"its writes), and {QUOTA_RESERVE} are kept in reserve,",
            "Nothing was sent: call again when the quota has reset, or with fewer groups.",
            refused=wanted.refused,
        )
    groups, names = await _targets(state, wanted)
    done: Done | None = None
    while done is None:
        keys = [group_key(org, g) for g in groups] + [name_key(org, n) for n in names]
        async with state.turns.hold(keys) as turn:
            if not wanted.dry_run:
                await clear_unsettled(state, org, group_ids=groups, names=names)
            more, _ = await _targets(state, wanted)  # an undone create settled just now names its group
            extra = [g for g in more if g not in groups]
            if not extra:
                done = await _under_turn(state, ctx, wanted, commitment)
        # Turns are taken all at once, in one sorted order (turns.py): a group found only now is taken
        # with the others anew, never while holding them, so two changes cannot wait on each other.
        groups += extra
    done.lines += turn.notes()  # after the turns are released: a lost Redis lock is known by then
    return done


async def _under_turn(state: AppState, ctx: Context, wanted: Wanted, commitment: Commitment) -> Done:
    undo: UndoPlan | None = None
    read: dict[int, Group] = {}  # groups read already, not read twice
    try:
        if wanted.parts and isinstance(wanted.parts[0], UndoOf):
            undo, parts = await _undo_parts(state, wanted.parts[0], read, wanted.dry_run)
            wanted = replace(wanted, parts=parts)
        planned = await plan(state, ctx, wanted, undo, read)
    except NothingToDo as nothing:
        return Done("not_written", [nothing.why], undo=nothing.undo or undo, nothing=nothing.why)
    if not planned.steps:
        return await answers.unchanged(state, wanted, planned)
    if wanted.dry_run:
        return await answers.dry_run(state, wanted, planned)
    if len(planned.steps) > 1:
        cost = len(planned.steps)
        most = "at most " if upper_bound(planned.steps) else ""
        check_quota(  # none is sent that the hour cannot finish (the most it can take, when that is all we know)
            state,
            cost + QUOTA_RESERVE,
            f"this change takes {most}{cost} requests ({answers.cost_text(planned.steps)}), and {QUOTA_RESERVE} are "
            "kept in reserve,",
            "Nothing was sent: call again when the quota has reset.",
            refused=wanted.refused,
        )
    groups = list(planned.groups.values())
    planned.roles = await answers.role_names_for(state, wanted.organization_id, groups, planned.steps)
    planned.added = await answers.new_members(state, wanted, planned)
    change = _entry(state, ctx, wanted, planned.steps, undo)
    commitment.commit()
    try:
        await state.journal.begin(change)
    except Exception as exc:  # fail closed: never a write that list_changes could not show
        log.warning("the change journal could not begin an entry: %s", exc)
        raise ToolError(
            f"{wanted.refused}: the change could not be journaled ({exc}), so nothing was sent. Check the "
            "journal (TOGGL_FOCUS_JOURNAL, or Redis at TOGGL_FOCUS_REDIS_URL) and call again."
        ) from None
    known = {i: u.name for i, u in planned.added.items() if u.name}  # named in what a read shows still to do
    sent = await _send_all(state, wanted.organization_id, planned.steps, known)
    steps = [s.step for s in sent]
    outcome = overall(steps)
    unrecorded = await _settle_entry(state, change, steps, outcome)
    done = await answers.written(state, wanted, planned, sent, change.id)
    done.undo = undo
    done.lines += unrecorded
    failure = next((s.failure for s in sent if s.failure is not None), None)
    if failure is not None:
        raise failure
    if len(sent) == 1 and outcome == "not_written" and sent[0].refusal:
        raise ToolError(f"{wanted.refused}: {sent[0].refusal}")
    return done


def _entry(state: AppState, ctx: Context, wanted: Wanted, steps: list[Step], undo: UndoPlan | None) -> Change:
    first = steps[0]
    params = ctx.session.client_params
    return Change(
        id=new_change_id(),
        at=now(),
        tool=wanted.tool,
        organization_id=wanted.organization_id,
        workspace_id=first.workspace_id,
        group_id=first.group_id,
        group_name=first.group_name,
        arguments=wanted.arguments,
        before=first.before,
        request=first.request,
        after=None,
        outcome="pending",
        who=fingerprint(state.settings),
        client=params.client_info.name if params is not None else None,
        undoes=undo.undoes if undo is not None else None,
        steps=steps,
    )


async def _send_all(state: AppState, org: int, steps: list[Step], names: dict[int, str]) -> list[Sent]:
    """Each step in order. A step whose group had an earlier step not written (or unknown) is not sent;
    role steps after a create go to the group it made; a fault of ours stops the rest."""
    sent: list[Sent] = []
    blocked: dict[int | None, str] = {}
    latest: dict[int | None, Group] = {}  # each group as its last written step left it
    created: Group | None = None
    for step in steps:
        if step.kind == "role" and step.group_id is None:  # the group the create made
            if created is not None and shows_role(created, step):
                continue  # the create's answer already shows it: nothing to send, left out of the entry
            if created is not None:
                step = step.model_copy(update={"group_id": created.id, "before": created.model_dump(mode="json")})
        elif step.kind == "role" and step.group_id in latest:
            step = step.model_copy(update={"before": latest[step.group_id].model_dump(mode="json")})
        new_group_missing = step.kind == "role" and step.group_id is None
        why = blocked.get(step.group_id) or ("the group was not created" if new_group_missing else "")
        if why or any(s.failure is not None for s in sent):
            note = f"not sent: {why or 'the change stopped at a fault'}"
            sent.append(Sent(step.model_copy(update={"outcome": "not_written", "note": note})))
            continue
        result = await send_step(state, org, step, names)
        sent.append(result)
        if result.outcome != "written":
            what = "is unknown" if result.outcome == "unknown" else "was not written"
            blocked[step.group_id] = f"the step before it in this group {what}"
        elif result.group is not None and step.kind != "delete":
            latest[result.group.id] = result.group
            if step.kind == "create":
                created = result.group
    return sent


async def _settle_entry(state: AppState, change: Change, steps: list[Step], outcome: str) -> list[str]:
    """Store each step's outcome, and mark the change an undo reverses as undone; what the answer must
    say of whichever the journal could not record (nothing when it recorded both)."""
    first = steps[0]
    try:
        await state.journal.settle(
            change.id,
            outcome,  # type: ignore[arg-type]  # overall() gives one of the journal's outcomes
            group_id=first.group_id,
            group_name=first.group_name,
            after=first.after,
            note=first.note,
            steps=steps,
        )
    except Exception as exc:
        log.warning("the change journal could not settle change %s: %s", change.id, exc)
        return [
            f"The journal could not record this outcome: change {change.id} stays pending there, and the next "
            "edit of the group reads again to settle it."
        ]
    if not change.undoes or not any(step.outcome == "written" for step in steps):
        return []
    try:  # a re-create made: undone
        await state.journal.mark_undone(change.undoes, change.id)
    except Exception as exc:
        log.warning("the change journal could not mark change %s undone: %s", change.undoes, exc)
        return [
            f"The journal recorded this outcome, but could not mark change {change.undoes} as undone by "
            f"{change.id} ({exc}): list_changes does not show it undone."
        ]
    return []


async def _undo_parts(
    state: AppState, part: UndoOf, read: dict[int, Group], dry_run: bool
) -> tuple[UndoPlan, list[Part]]:
    """The reverse of a journaled change as parts, against the groups read now (undo_plan): a change of
    several groups reversed group by group, the latest first, as one change."""
    change = await state.journal.get(part.change_id)
    if change is None:
        raise NothingToDo(f"change {part.change_id} is no longer in the journal.")
    if change.undone_by and (finishing := await finish_undo(state, change.undone_by, read)) is not None:
        return finishing
    if dry_run:
        await undo_still_out(state, change)
    groups = list(dict.fromkeys(s.group_id for s in written_steps(change) if s.group_id is not None))
    if len(groups) <= 1 or unsettled_or_done(change) is not None:
        return await _undo_one(state, change, part, read, dry_run)
    parts: list[Part] = []
    kept: list[str] = []
    for gid in reversed(groups):
        steps = [s for s in change.steps if s.group_id == gid]
        first = steps[0]
        one = change.model_copy(
            update={
                "steps": steps,
                "group_id": gid,
                "group_name": first.group_name,
                "before": first.before,
                "request": first.request,
                "workspace_id": first.workspace_id,
            }
        )
        try:
            undo, more = await _undo_one(state, one, part, read, dry_run)
        except NothingToDo as nothing:
            kept.append(f"group {first.group_name or ''}#{gid}: {nothing.why}")
            continue
        parts += more
        kept += [f"group {first.group_name or ''}#{gid}: {why}" for why in undo.left_alone]
    if not parts:
        raise NothingToDo(f"nothing of change {change.id} is left to undo: {'; '.join(kept)}")
    return UndoPlan("edit", groups[0], change.workspace_id, left_alone=kept, undoes=change.id), parts


async def _undo_one(
    state: AppState, change: Change, part: UndoOf, read: dict[int, Group], dry_run: bool
) -> tuple[UndoPlan, list[Part]]:
    ws = change.workspace_id or state.settings.workspace_id or 0
    refusal = unsettled_or_done(change)
    first = written_steps(change)[0] if refusal is None else None
    gid = change.group_id if first is None or first.kind != "create" else (first.group_id or change.group_id)
    current = await state.client.get_group(change.organization_id, gid, ws) if gid is not None else None
    if current is not None:
        read[current.id] = current
    undo = plan_undo(change, current)
    undo = UndoPlan(**{**undo.__dict__, "undoes": change.id})
    space = undo.workspace_id or ws
    if undo.action == "none":
        raise NothingToDo(undo.why, undo)
    if undo.action == "create":
        assert undo.body is not None
        return undo, [CreateGroup(undo.body, roles=undo.roles, replaces=change.group_id)]
    assert undo.group_id is not None
    if undo.action == "delete":
        if not part.agreed and not dry_run:
            doing = f"undoing change {change.id} deletes the group it created, which needs"
            raise ToolError(yes_needed(doing, undo.group_id, current, "undo_change", {"change_id": change.id}))
        return undo, [DeleteGroup(undo.group_id, space)]
    if undo.action == "role":
        assert undo.user is not None
        return undo, [SetRole(undo.group_id, space, undo.user, undo.role_id, explicit=True)]
    assert undo.edit is not None
    return undo, [EditGroup(undo.group_id, space, undo.edit, explicit=True, roles=undo.roles)]
