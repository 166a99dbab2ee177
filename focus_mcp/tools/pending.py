"""Writes still out: a journaled write whose outcome is pending or unknown holds up the next edit of
its group (or the next create of its name), so that an edit is never reported written only to be
undone when the earlier write lands late.

Under the group's turn, before anything else, the next edit reads the group fresh. If the pending
write's effect is there, it is settled written and the edit goes on. If not, the edit waits once
(TOGGL_FOCUS_WRITE_SETTLE) and reads again; then it is refused, naming the pending write and what the
read shows. The API documents no maximum time it may hold a request, so a bound is chosen: a write
not seen UNSETTLED_HOLD_SECONDS after it was sent is settled "not_written: not seen after N s" (by
then the connection it came on is long closed; gateways give up far sooner).

The same functions say what a change meant to do (`write_kind`, `intended_edit`), which undo uses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.models import Group, GroupRequest, GroupUserRoleRequest, TeamsQuery
from focus_mcp.journal import Change, now
from focus_mcp.tools.base import AppState
from focus_mcp.tools.edits import GroupEdit, plan_group_edit
from focus_mcp.tools.teams import Team, team_line

# How long an unknown write may still land, from when it was sent (see the module docstring).
UNSETTLED_HOLD_SECONDS = 600.0

Kind = Literal["create", "update", "delete", "role"]


def write_kind(change: Change) -> Kind:
    """What the change's request did, whatever tool sent it (undo_change sends any of them)."""
    request = change.request or {}
    if "organization_user_id" in request:
        return "role"
    if set(request) == {"workspace_id"}:
        return "delete"
    return "create" if change.before is None else "update"


def intended_edit(change: Change) -> GroupEdit:
    """An update's effect as an edit: the fields it changed from the group it read, members and
    workspaces as additions and removals (so that it can be checked, or reversed, against any state)."""
    before = Group.model_validate(change.before)
    body = GroupRequest.model_validate(change.request)
    members = [u.organization_user_id for u in before.users]
    spaces = [w.workspace_id for w in before.workspaces]
    return GroupEdit(
        name=body.name if body.name != before.name else None,
        emoji=body.emoji if body.emoji != before.emoji else None,
        add_users=[i for i in body.organization_users if i not in members],
        remove_users=[i for i in members if i not in body.organization_users],
        add_workspaces=[i for i in body.workspaces if i not in spaces],
        remove_workspaces=[i for i in spaces if i not in body.workspaces],
    )


def described(change: Change) -> str:
    """What the change meant to do, in a few words."""
    kind = write_kind(change)
    request = change.request or {}
    if kind == "create":
        return f"create a group named {request.get('name', change.group_name)!r}"
    if kind == "delete":
        return "delete the group"
    if kind == "role":
        role = GroupUserRoleRequest.model_validate(request)
        return f"set user {role.organization_user_id}'s Focus role to {role.focus_role_id or 'none'}"
    _, diff = plan_group_edit(Group.model_validate(change.before), intended_edit(change))
    return diff.describe()


def effect_seen(change: Change, group: Group | None, same_name: list[Group]) -> bool:
    """Whether what a fresh read shows (the group, or the groups of the created name) holds the change."""
    kind = write_kind(change)
    if kind == "delete":
        return group is None
    if kind == "create":
        if not change.arguments.get("allow_duplicate_name"):
            return bool(same_name)  # there was none of that name when it was sent
        return any(_created_since(g, change.at) for g in same_name)
    if group is None:
        return False
    if kind == "role":
        role = GroupUserRoleRequest.model_validate(change.request)
        member = next((u for u in group.users if u.organization_user_id == role.organization_user_id), None)
        return member is not None and (member.focus_role_id or None) == role.focus_role_id
    _, rest = plan_group_edit(group, intended_edit(change))
    return rest.empty


def _created_since(group: Group, at: datetime) -> bool:
    try:
        created = datetime.fromisoformat((group.created_at or "").replace("Z", "+00:00"))
    except ValueError:
        return False
    return created.tzinfo is not None and created >= at - timedelta(minutes=1)


async def same_name_groups(state: AppState, org: int, workspaces: list[int], name: str) -> list[tuple[int, Group]]:
    """(workspace, group) for each group named `name` (case-insensitively) in those workspaces: read now."""
    wanted = name.strip().casefold()
    found: list[tuple[int, Group]] = []
    for ws in dict.fromkeys(workspaces):
        page = await state.client.list_teams(org, ws, TeamsQuery(filter=name.strip(), per_page=100), fresh=True)
        found += [(ws, g) for g in page.data if g.name.strip().casefold() == wanted]
    return found


async def _look(state: AppState, change: Change, ws: int) -> tuple[bool, str, Group | None]:
    """(effect seen, what the read shows, the group seen): a fresh read for one pending change."""
    if write_kind(change) == "create":
        name = str((change.request or {}).get("name") or change.group_name or "")
        spaces = [int(w) for w in (change.request or {}).get("workspaces") or [ws]]
        found = [g for _, g in await same_name_groups(state, change.organization_id, spaces, name)]
        shows = team_line(Team.from_api(found[0])) if found else f"no group named {name!r}"
        return effect_seen(change, None, found), shows, found[0] if found else None
    assert change.group_id is not None
    group = await state.client.get_group(change.organization_id, change.group_id, change.workspace_id or ws)
    shows = team_line(Team.from_api(group)) if group else f"group {change.group_id} not visible"
    return effect_seen(change, group, []), shows, group


async def clear_unsettled(
    state: AppState, org: int, ws: int, *, group_id: int | None = None, create_name: str | None = None
) -> None:
    """Settle the unsettled writes of the group (or creates of the name) by reading, or refuse the edit.

    Called under the group's (or name's) turn, before the edit reads the group."""
    pending = await state.journal.unsettled(org, group_id=group_id, create_name=create_name)
    for attempt in range(2):
        if not pending:
            return
        if attempt:
            await anyio.sleep(state.settings.write_settle)
        still: list[tuple[Change, str]] = []
        for change in pending:
            seen, shows, group = await _look(state, change, ws)
            age = (now() - change.at).total_seconds()
            if seen:
                after = group.model_dump(mode="json") if group and write_kind(change) != "delete" else None
                await state.journal.settle(
                    change.id,
                    "written",
                    group_id=group.id if group and write_kind(change) == "create" else None,
                    after=after,
                    note="fresh read before the next edit: its effect is there",
                )
                if change.undoes:  # an undo of unknown outcome, now seen: its change is undone after all,
                    undone = await state.journal.get(change.undoes)  # unless the undo's create said so: a
                    if undone is not None and undone.undone_by is None:  # role PUT of it is no undo of its own
                        await state.journal.mark_undone(change.undoes, change.id)
            elif age >= UNSETTLED_HOLD_SECONDS:
                note = f"not seen after {age:.0f} s (fresh read before the next edit: {shows})"
                await state.journal.settle(change.id, "not_written", note=note)
            else:
                still.append((change, shows))
        pending = [change for change, _ in still]
    change, shows = still[0]
    until = (change.at + timedelta(seconds=UNSETTLED_HOLD_SECONDS)).strftime("%H:%M UTC")
    target = f"group {change.group_name or ''}#{change.group_id}" if change.group_id else f"{change.group_name!r}"
    raise ToolError(
        f"Not written: an earlier write of {target} is still out: change {change.id}, sent "
        f"{change.at:%H:%M:%S} UTC by {change.tool} ({described(change)}), outcome unknown. A fresh read shows "
        f"{shows}: it has not landed, and it could still land and undo this edit. Call again in a minute; "
        f"from {until}, if still not seen, it counts as not written. list_changes shows it."
    )
