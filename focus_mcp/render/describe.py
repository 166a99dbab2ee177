"""What a change did, in names: members added and removed, renamed from/to, emoji, workspaces,
a member's role from/to; for a create or a delete, the group made or removed.

Derived from `before` (the group as read before the write) and `request` (what was sent), so that a
change whose outcome is unknown is still described; names come from `after`, `before`, and the
roles the caller knows, else an id is shown as #id.
"""

from __future__ import annotations

from typing import Any

from focus_mcp.journal.model import Change, Step
from focus_mcp.render.lines import name

MAX_NAMES = 8  # per list: a change that replaced 200 members says "+192 more"


def describe(change: Change, role_names: dict[int, str] | None = None, known: dict[int, str] | None = None) -> str:
    """`known`: member names from other changes, for members this change's own groups do not name. A
    change of several steps says each (one not written or unknown says so)."""
    if len(change.steps) > 1:
        said, group = [], change.group_id
        for step in change.steps:
            text = _step(change, step, role_names, known)
            if step.group_id is not None and step.group_id != group:
                # a change over several groups (update_user_groups, an undo of one): each step names the
                # group it is for, so that a step not written says which group kept its old state
                group = step.group_id
                text = f"in {name(step.group_name or str((step.before or {}).get('name') or ''))}#{group}: {text}"
            said.append(text)
        return "; then ".join(said)
    return _describe(change, role_names, known)


def needs_role_names(changes: list[Change]) -> bool:
    """Whether describing these changes names roles: a role set, or a deleted group's members' roles."""
    return any(
        step.kind == "role" or (step.kind == "delete" and any(u.get("focus_role_id") for u in _users(step.before)))
        for change in changes
        for step in change.all_steps
    )


def _users(group: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((group or {}).get("users") or ())


def _step(change: Change, step: Step, role_names: dict[int, str] | None, known: dict[int, str] | None) -> str:
    one = change.model_copy(
        update={"steps": [], "before": step.before, "request": step.request, "after": step.after or change.after}
    )
    said = _describe(one, role_names, known)
    return said if step.outcome == "written" else f"{said} ({step.outcome.replace('_', ' ')})"


def _describe(change: Change, role_names: dict[int, str] | None, known: dict[int, str] | None) -> str:
    request = change.request
    if request is None:
        return "nothing sent"
    if "focus_role_id" in request:
        return _role(change, request, role_names or {}, known or {})
    if "organization_users" in request:
        if change.before is None:
            return _created(change, request, known or {})
        return _edited(change, request, known or {})
    if change.before is not None:
        return _deleted(change.before, role_names or {})
    return "deleted"


def member_names(changes: list[Change]) -> dict[int, str]:
    """Every member name the changes' groups show, the newest first."""
    return _members(*(group for c in changes for group in (c.after, c.before)))


def _members(*groups: dict[str, Any] | None) -> dict[int, str]:
    names: dict[int, str] = {}
    for group in groups:
        for user in (group or {}).get("users") or ():
            if user.get("display_name"):
                names.setdefault(int(user["organization_user_id"]), str(user["display_name"]))
    return names


def _spaces(*groups: dict[str, Any] | None) -> dict[int, str]:
    names: dict[int, str] = {}
    for group in groups:
        for space in (group or {}).get("workspaces") or ():
            if space.get("name"):
                names.setdefault(int(space["workspace_id"]), str(space["name"]))
    return names


def _named(ids: list[int], names: dict[int, str]) -> str:
    shown = [f"{name(names[i])}#{i}" if i in names else f"#{i}" for i in ids[:MAX_NAMES]]
    more = len(ids) - MAX_NAMES
    return ", ".join(shown) + (f" +{more} more" if more > 0 else "")


def _member_ids(group: dict[str, Any]) -> list[int]:
    return [int(u["organization_user_id"]) for u in group.get("users") or ()]


def _space_ids(group: dict[str, Any]) -> list[int]:
    return [int(w["workspace_id"]) for w in group.get("workspaces") or ()]


def _created(change: Change, request: dict[str, Any], known: dict[int, str]) -> str:
    members = known | _members(change.after)
    spaces = _spaces(change.after)
    emoji = f" {name(str(request['emoji']), 16)}" if request.get("emoji") else ""
    parts = [f'created "{name(str(request.get("name", "")))}"{emoji}']
    users, workspaces = list(request.get("organization_users") or ()), list(request.get("workspaces") or ())
    parts.append(f"members {_named(users, members)}" if users else "no members")
    if workspaces:
        parts.append(f"workspaces {_named(workspaces, spaces)}")
    return "; ".join(parts)


def _edited(change: Change, request: dict[str, Any], known: dict[int, str]) -> str:
    before = change.before or {}
    members, spaces = known | _members(change.after, before), _spaces(change.after, before)
    parts: list[str] = []
    if "name" in request and request["name"] != before.get("name", ""):
        parts.append(f'renamed "{name(str(before.get("name", "")))}" to "{name(str(request["name"]))}"')
    if "emoji" in request and request["emoji"] != before.get("emoji", ""):
        parts.append(
            f"emoji {name(str(before.get('emoji') or 'none'), 16)} to {name(str(request['emoji'] or 'none'), 16)}"
        )
    old, new = _member_ids(before), list(request.get("organization_users") or ())
    added, removed = [i for i in new if i not in old], [i for i in old if i not in new]
    if added:
        parts.append(f"added {_named(added, members)}")
    if removed:
        parts.append(f"removed {_named(removed, members)}")
    if "workspaces" in request:
        old_ws, new_ws = _space_ids(before), list(request["workspaces"] or ())
        if set(old_ws) != set(new_ws):
            gone, came = [i for i in old_ws if i not in new_ws], [i for i in new_ws if i not in old_ws]
            change_text = "; ".join(
                text
                for text in (
                    f"workspaces added {_named(came, spaces)}" if came else "",
                    f"workspaces removed {_named(gone, spaces)}" if gone else "",
                )
                if text
            )
            parts.append(change_text)
    return "; ".join(parts) or "no change"


def _deleted(before: dict[str, Any], role_names: dict[int, str]) -> str:
    users, spaces = _member_ids(before), _space_ids(before)
    text = f"deleted; it had {len(users)} member{'' if len(users) == 1 else 's'}" + (
        f" ({_named(users, _members(before))})" if users else ""
    )
    roles = [(int(u["organization_user_id"]), u["focus_role_id"]) for u in _users(before) if u.get("focus_role_id")]
    if roles:  # the trail remembers who had which role (an undo gives them back)
        names = _members(before)
        text += ", roles " + ", ".join(
            f"{_named([user], names)} {role_names.get(role, f'#{role}')}" for user, role in roles[:MAX_NAMES]
        )
        text += f" +{len(roles) - MAX_NAMES} more" if len(roles) > MAX_NAMES else ""
    if spaces:
        text += f", workspaces {_named(spaces, _spaces(before))}"
    return text


def _role(change: Change, request: dict[str, Any], role_names: dict[int, str], known: dict[int, str]) -> str:
    user = int(request.get("organization_user_id") or 0)
    member = next((u for u in (change.before or {}).get("users") or () if u.get("organization_user_id") == user), None)
    names = known | _members(change.after, change.before)
    old = member.get("focus_role_id") if member is not None else None

    def role(role_id: Any) -> str:
        if not role_id:  # the API shows "no role" as 0 as well as null
            return "none"
        return f"{name(role_names[role_id])}#{role_id}" if role_id in role_names else f"#{role_id}"

    return f"role of {_named([user], names)} {role(old)} to {role(request.get('focus_role_id'))}"
