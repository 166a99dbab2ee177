"""Changes still out: a journaled change with a step whose outcome is pending or unknown holds up the
next change of its group, and of the name any create of it takes (an undo's re-create included), so
that a change is never reported written only to be undone when the earlier one lands late, and a
re-create retried at once never makes a second group.

Under the turn, before anything else, the next change reads fresh. A step whose effect is there is
settled written. If some is not, the change waits once (TOGGL_FOCUS_WRITE_SETTLE) and reads again;
then it is refused, naming the earlier change and what the read shows. The API documents no maximum
time it may hold a request, so a bound is chosen: a step not seen UNSETTLED_HOLD_SECONDS after it was
sent is settled "not_written: not seen after N s" (by then its connection is long closed; gateways
give up far sooner).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.models import Group
from focus_mcp.journal import Change, now
from focus_mcp.journal.model import UNSETTLED, Step
from focus_mcp.render import lines as render
from focus_mcp.toolkit.base import AppState
from focus_mcp.writes.change import EditGroup, NothingToDo, Part
from focus_mcp.writes.edits import GroupEdit
from focus_mcp.writes.reads import Look, look
from focus_mcp.writes.steps import create_name, described, overall
from focus_mcp.writes.undo_plan import UndoPlan, finish_roles, roles_not_sent

# How long an unknown write may still land, from when it was sent (see the module docstring).
UNSETTLED_HOLD_SECONDS = 600.0


async def clear_unsettled(state: AppState, org: int, *, group_ids: list[int], names: list[str]) -> None:
    """Settle the earlier changes of these groups and names by reading, or refuse this one.

    Called under their turns, before the change reads its groups."""
    pending: dict[str, Change] = {}
    for gid in group_ids:
        pending |= {c.id: c for c in await state.journal.unsettled(org, group_id=gid)}
    for name in names:
        pending |= {c.id: c for c in await state.journal.unsettled(org, create_name=name)}
    still: list[tuple[Change, Step, Look]] = []
    for attempt in range(2):
        if not pending:
            return
        if attempt:
            await anyio.sleep(state.settings.write_settle)
        still = []
        for change in sorted(pending.values(), key=lambda c: c.at):
            out = await _settle(state, org, change)
            if out is not None:
                still.append((change, *out))
        pending = {change.id: change for change, _, _ in still}
    if not still:  # every earlier change landed during the wait: nothing holds this one up
        return
    change, step, read = still[0]
    until = (change.at + timedelta(seconds=UNSETTLED_HOLD_SECONDS)).strftime("%H:%M UTC")
    shown = render.name(step.group_name or "")  # a name is data: escaped and bounded in a refusal too
    target = f"group {shown}#{step.group_id}" if step.group_id else f'"{shown}"'
    raise ToolError(
        f"Not written: an earlier write of {target} is still out: change {change.id}, sent "
        f"{change.at:%H:%M:%S} UTC by {change.tool} ({described(step)}), outcome unknown. A fresh read shows "
        f"{read.shows}: it has not landed, and it could still land and undo this edit. Call again in a minute; "
        f"from {until}, if still not seen, it counts as not written. list_changes shows it."
    )


async def _settle(state: AppState, org: int, change: Change) -> tuple[Step, Look] | None:
    """Read each of the change's steps still out; store what is known. (A step, the read) still out, or None."""
    age = (now() - change.at).total_seconds()
    steps, first_out = list(change.all_steps), None
    for i, step in enumerate(steps):
        if step.outcome not in UNSETTLED and change.steps:
            continue
        since = change.at if not step.taken and change.arguments.get("allow_duplicate_name") else None
        read = await look(state, org, step, since)
        if read.seen:
            after = read.group.model_dump(mode="json") if read.group and step.kind != "delete" else None
            update: dict[str, Any] = {
                "outcome": "written",
                "note": "fresh read before the next edit: its effect is there",
            }
            if step.kind == "create" and read.group is not None:
                update |= {"group_id": read.group.id, "group_name": read.group.name}
            steps[i] = step.model_copy(update=update | ({"after": after} if after else {}))
        elif age >= UNSETTLED_HOLD_SECONDS:
            note = f"not seen after {age:.0f} s (fresh read before the next edit: {read.shows})"
            steps[i] = step.model_copy(update={"outcome": "not_written", "note": note})
        elif first_out is None:
            first_out = (step, read)
    if first_out is not None:
        if change.steps:  # what is known now is kept; the change stays unsettled
            await state.journal.settle(change.id, "unknown", steps=steps, note=change.note)
        return first_out
    outcome = overall(steps)
    first = steps[0]
    await state.journal.settle(
        change.id,
        outcome,
        group_id=first.group_id if first.kind == "create" and first.outcome == "written" else None,
        after=first.after if first.outcome == "written" and first.kind != "delete" else None,
        note=first.note,
        steps=steps if change.steps else None,
    )
    if outcome == "written" and change.undoes:  # an undo of unknown outcome, now seen: its change is undone
        undone = await state.journal.get(change.undoes)
        if undone is not None and undone.undone_by is None:
            await state.journal.mark_undone(change.undoes, change.id)
    return None


# --- an undo of a delete whose re-create's answer was lost -----------------------------------------
# Its role steps were not sent (the group was not known to exist). Once a read shows the re-create
# landed, a retried undo_change sets them against the group as read under its turn, as a new change; a
# dry run, which settles nothing, says the undo is still out instead of planning around a group of the
# name that is its own re-create.


async def undo_still_out(state: AppState, change: Change) -> None:
    """A dry run settles nothing: an undo of this change whose outcome is still unknown is said as such,
    not planned around (its re-create would read as a group of the name, there since)."""
    names = {create_name(s) or str((s.before or {}).get("name") or "") for s in change.all_steps if s.kind == "delete"}
    for name in filter(None, names):
        for out in await state.journal.unsettled(change.organization_id, create_name=name):
            if out.undoes == change.id:
                raise NothingToDo(
                    f"change {out.id}, an undo of it sent {out.at:%H:%M:%S} UTC, is still out (outcome unknown). "
                    "Called without dry_run, undo_change first reads whether it landed: if it did, it sets the "
                    "Focus roles that undo had not sent; if not, it is refused until it is settled."
                )


async def finish_undo(state: AppState, undoing_id: str, read: dict[int, Group]) -> tuple[UndoPlan, list[Part]] | None:
    """An undo of a delete whose re-create landed after its answer was lost sent none of its roles: a
    retried undo sets them now, against the group as read under its turn (its roles held already, or
    of members gone since, left alone). None when there is nothing of the kind."""
    undoing = await state.journal.get(undoing_id)
    found = roles_not_sent(undoing) if undoing is not None else None
    if undoing is None or found is None:
        return None
    create, left = found
    assert create.group_id is not None and create.workspace_id is not None
    current = await state.client.get_group(undoing.organization_id, create.group_id, create.workspace_id)
    if current is None:
        return None
    read[current.id] = current
    finish = finish_roles(undoing, create, left, current)
    if finish is None:
        return None
    return finish, [EditGroup(current.id, create.workspace_id, GroupEdit(), explicit=True, roles=finish.roles)]
