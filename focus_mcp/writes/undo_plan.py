"""What undoing a journaled change would do, against the group as it is now (pure: no request).

A change is reversed field by field, keeping whatever anyone changed since:
- an update: the members it added are removed and those it removed put back (each only where the
  group still shows the change's effect); a rename, an emoji or a workspace change is reverted only
  where the group still holds the change's value, and a field changed again since is left alone;
- a create: the group is deleted (after a human's yes, as for delete_group);
- a delete: the group is created again with its name, emoji, members and workspaces, and the
  members' Focus roles set again; ghosts cannot be recreated through the API;
- a member's role change: the earlier role is set, if the member still has the role it set.

An undo is journaled as a change like any other, so undoing an undo redoes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from focus_mcp.api.models import Group, GroupRequest, GroupUserRoleRequest
from focus_mcp.journal import Change
from focus_mcp.journal.model import Step
from focus_mcp.render.lines import counted, name
from focus_mcp.writes.edits import GroupEdit
from focus_mcp.writes.steps import intended_edit

Action = Literal["edit", "delete", "create", "role", "none"]


@dataclass(frozen=True)
class UndoPlan:
    """The reverse of one change: `action` and what it needs; `left_alone`: what is kept, and why."""

    action: Action
    group_id: int | None = None
    workspace_id: int | None = None
    edit: GroupEdit | None = None  # edit
    body: GroupRequest | None = None  # create: the group again
    roles: dict[int, int | None] = field(default_factory=dict)  # create, edit: member -> Focus role to set again
    user: int | None = None  # role: the member
    role_id: int | None = None  # role: the earlier role (None: no role)
    left_alone: list[str] = field(default_factory=list)
    not_recreated: list[str] = field(default_factory=list)  # create: what the API cannot make again
    why: str = ""  # none: why there is nothing to do
    undoes: str | None = None  # the change reversed
    finishes: str | None = None  # an undo whose re-create landed late: its roles not sent, set now


def unsettled_or_done(change: Change) -> str | None:
    """Why the change cannot be undone whatever the group shows, else None."""
    if change.undone_by:
        return (
            f"change {change.id} was already undone by change {change.undone_by}; "
            f"to redo it, call undo_change with change_id {change.undone_by!r}."
        )
    if change.outcome == "not_written":
        note = f" ({change.note})" if change.note else ""
        return f"change {change.id} was not written{note}, so there is nothing to undo."
    if change.outcome != "written":
        return (
            f"the outcome of change {change.id} is still unknown (a fresh read has not shown it), so it is "
            "not undone: read the group with fresh=true, and call undo_change again in a minute."
        )
    if not written_steps(change):
        return f"change {change.id} sent nothing, so there is nothing to undo."
    return None


def written_steps(change: Change) -> list[Step]:
    """The steps of the change that were written (an entry before steps: its one request)."""
    return [step for step in change.all_steps if step.outcome == "written" or not change.steps]


def roles_not_sent(undoing: Change) -> tuple[Step, dict[int, int | None]] | None:
    """An undo of a delete whose re-create landed after its answer was lost (settled written later):
    its create step and the roles it did not send then (member -> role), else None."""
    create = next((s for s in undoing.steps if s.kind == "create"), None)
    if create is None or create.outcome != "written" or create.group_id is None:
        return None
    left = {
        body.organization_user_id: body.focus_role_id or None
        for step in undoing.steps
        if step.kind == "role" and step.outcome == "not_written" and step.note.startswith("not sent")
        for body in [GroupUserRoleRequest.model_validate(step.request)]
    }
    return (create, left) if left else None


def finish_roles(undoing: Change, create: Step, left: dict[int, int | None], current: Group) -> UndoPlan | None:
    """The roles `undoing` did not send, against its group as read now: those its members do not hold
    yet (a member gone since is left alone); None when nothing is left to set."""
    held = {u.organization_user_id: u.focus_role_id or None for u in current.users}
    roles = {u: r for u, r in left.items() if u in held and held[u] != r}
    gone = [u for u in left if u not in held]
    if not roles:
        return None
    names = _names(current, Group.model_validate(create.after) if create.after else None)
    kept = [f"no longer members (removed since): {_who(gone, names)}"] if gone else []
    ws = create.workspace_id
    return UndoPlan("edit", current.id, ws, edit=GroupEdit(), roles=roles, left_alone=kept, finishes=undoing.id)


def undone_kind(change: Change) -> str:
    """What undoing the change reverses first: its first written step's kind ("none" when none)."""
    steps = written_steps(change)
    return steps[0].kind if steps else "none"


def plan_undo(change: Change, current: Group | None) -> UndoPlan:
    """The reverse of a written `change` against `current` (the group read now; None: not visible)."""
    refusal = unsettled_or_done(change)
    if refusal is not None:
        return UndoPlan("none", change.group_id, change.workspace_id, why=refusal)
    steps = written_steps(change)
    first = steps[0]
    if first.kind == "delete":
        return _undo_delete(change, first, current)
    gone = f"group {_label(change)} is not visible now (deleted since?), so there is nothing to undo."
    if current is None:
        return UndoPlan("none", change.group_id, change.workspace_id, why=gone)
    if first.kind == "create":
        return UndoPlan("delete", current.id, change.workspace_id or _first_workspace(current))
    if first.kind == "role" and len(steps) == 1:
        return _undo_role(change, first, current)
    return _undo_update(change, steps, current)


def _label(change: Change) -> str:
    return f"{change.group_name or ''}#{change.group_id}" if change.group_id else repr(change.group_name or "")


def _first_workspace(group: Group) -> int | None:
    return group.workspaces[0].workspace_id if group.workspaces else None


def _names(*groups: Group | None) -> dict[int, str]:
    names: dict[int, str] = {}
    for group in groups:
        for user in group.users if group else ():
            names.setdefault(user.organization_user_id, user.display_name)
    return names


def _who(ids: list[int], names: dict[int, str]) -> str:
    return ", ".join(f"{name(names[i])}#{i}" if names.get(i) else f"#{i}" for i in ids)


def _undo_update(change: Change, steps: list[Step], current: Group) -> UndoPlan:
    """The change's own edit (steps.intended_edit) and roles, reversed where the group still shows them."""
    put = next((step for step in steps if step.kind == "put"), None)
    did = intended_edit(put) if put is not None else GroupEdit()
    before = Group.model_validate((put or steps[0]).before)
    names = _names(current, before)
    has = {u.organization_user_id for u in current.users}
    spaces = {w.workspace_id for w in current.workspaces}
    edit, kept = GroupEdit(), []
    edit.remove_users = [i for i in did.add_users if i in has]
    edit.add_users = [i for i in did.remove_users if i not in has]
    edit.remove_workspaces = [i for i in did.add_workspaces if i in spaces]
    edit.add_workspaces = [i for i in did.remove_workspaces if i not in spaces]
    if gone := [i for i in did.add_users if i not in has]:
        kept.append(f"no longer members (removed since): {_who(gone, names)}")
    if back := [i for i in did.remove_users if i in has]:
        kept.append(f"members again (added back since): {_who(back, names)}")
    if gone := [i for i in did.add_workspaces if i not in spaces]:
        kept.append(f"workspaces {gone} already removed since")
    if back := [i for i in did.remove_workspaces if i in spaces]:
        kept.append(f"workspaces {back} already added back since")
    for what, was, set_to, now in (
        ("name", before.name, did.name, current.name),
        ("emoji", before.emoji, did.emoji, current.emoji),
    ):
        if set_to is None:
            continue
        if now == set_to:
            setattr(edit, what, was)
        else:
            kept.append(
                f"{what} {now or '(none)'!r} left alone: changed since (this change set {set_to or '(none)'!r})"
            )
    roles = {u.organization_user_id: u.focus_role_id for u in before.users if u.focus_role_id}
    back_roles: dict[int, int | None] = {i: roles[i] for i in edit.add_users if i in roles}  # put back: their role
    for step in (s for s in steps if s.kind == "role"):  # roles the change gave members who stay
        undo = _undo_role(change, step, current)
        if undo.action == "role" and undo.user is not None and undo.user not in edit.remove_users:
            back_roles[undo.user] = undo.role_id
        elif undo.why and undo.user is None and (step.request or {}).get("organization_user_id") in has:
            kept.append(undo.why)
    plan = UndoPlan("edit", current.id, change.workspace_id, edit=edit, roles=back_roles, left_alone=kept)
    if not _edits(edit) and not back_roles:
        return _nothing_left(plan, change)
    return plan


def _edits(edit: GroupEdit) -> bool:
    return bool(
        edit.name is not None
        or edit.emoji is not None
        or edit.add_users
        or edit.remove_users
        or edit.add_workspaces
        or edit.remove_workspaces
    )


def _nothing_left(plan: UndoPlan, change: Change) -> UndoPlan:
    since = "; ".join(plan.left_alone) or "the group already looks as it did before"
    why = f"nothing of change {change.id} is left to undo: {since}."
    return UndoPlan("none", plan.group_id, plan.workspace_id, left_alone=plan.left_alone, why=why)


def _role_text(role: int | None, roles: dict[int, str] | None = None) -> str:
    if not role:
        return "no Focus role"
    return f"role {name((roles or {})[role])}#{role}" if role in (roles or {}) else f"role {role}"


def _undo_role(change: Change, step: Step, current: Group) -> UndoPlan:
    sent = GroupUserRoleRequest.model_validate(step.request)
    user, set_to = sent.organization_user_id, sent.focus_role_id or None
    before = Group.model_validate(step.before) if step.before else None
    was_member = next((u for u in before.users if u.organization_user_id == user), None) if before else None
    was = (was_member.focus_role_id or None) if was_member else None
    member = next((u for u in current.users if u.organization_user_id == user), None)
    ws = sent.workspace_id
    who = _who([user], _names(current, before))
    if member is None:
        why = f"{who} is no longer a member of group {_label(change)}, so their role is left alone."
        return UndoPlan("none", current.id, ws, why=why)
    now = member.focus_role_id or None
    if now != set_to:
        why = (
            f"{who} has {_role_text(now)} now, changed since (this change set {_role_text(set_to)}), "
            "so it is left alone."
        )
        return UndoPlan("none", current.id, ws, why=why)
    return UndoPlan("role", current.id, ws, user=user, role_id=was)


def _undo_delete(change: Change, step: Step, current: Group | None) -> UndoPlan:
    if step.before is None:
        return UndoPlan(
            "none", change.group_id, change.workspace_id, why=f"change {change.id} kept no copy of the group."
        )
    before = Group.model_validate(step.before)
    if current is not None:
        why = f"group {_label(change)} is visible again, so it is not created a second time."
        return UndoPlan("none", current.id, change.workspace_id, why=why)
    body = GroupRequest(
        name=before.name,
        emoji=before.emoji,
        organization_users=[u.organization_user_id for u in before.users],
        workspaces=[w.workspace_id for w in before.workspaces]
        or ([change.workspace_id] if change.workspace_id else []),
    )
    # Every member's role, none included: the re-create's answer may show a role the deleted group did not
    # have (the API gives re-added members one), and a null focus_role_id clears it (the spec's user_role PUT).
    # Only the roles the answer does not already show are sent (pipeline._send_all).
    roles: dict[int, int | None] = {u.organization_user_id: u.focus_role_id or None for u in before.users}
    lost = [f"ghost {g.name or '(unnamed)'}#{g.id}" for g in before.ghosts]
    return UndoPlan(
        "create", None, body.workspaces[0] if body.workspaces else None, body=body, roles=roles, not_recreated=lost
    )


def plan_text(plan: UndoPlan, names: dict[int, str] | None = None, roles: dict[int, str] | None = None) -> str:
    """The plan in a sentence (a dry run's answer, and the question before a delete); `roles`: role
    names where known. Names are shown as every answer shows them (escaped, bounded)."""
    names = names or {}
    if plan.action == "none":
        return plan.why
    if plan.action == "delete":
        return f"delete group #{plan.group_id} (the group the change created)"
    if plan.action == "role":
        who = _who([plan.user or 0], names)
        return f"set the Focus role of {who} in group #{plan.group_id} back to {_role_text(plan.role_id, roles)}"
    if plan.action == "create":
        body = plan.body
        assert body is not None
        text = (
            f"create group {name(body.emoji, 16) + ' ' if body.emoji else ''}'{name(body.name)}' again with "
            f"{counted(len(body.organization_users), 'member')} and workspaces {body.workspaces}"
        )
        if plan.roles:
            text += (
                ", then set each member's Focus role as it was, one request each, where the create's answer does "
                f"not already show it: at most {1 + len(plan.roles)} requests in all (known once the create answers)"
            )
        return text
    edit = plan.edit
    assert edit is not None
    parts: list[str] = []
    if edit.name is not None:
        parts.append(f"rename back to '{name(edit.name)}'")
    if edit.emoji is not None:
        parts.append(f"emoji back to {name(edit.emoji or '(none)', 16)}")
    if edit.remove_users:
        parts.append(f"remove {_who(edit.remove_users, names)}")
    if edit.add_users:
        parts.append(f"add back {_who(edit.add_users, names)}")
    if plan.roles:
        parts.append(f"set {len(plan.roles)} of them their Focus role again (one request each)")
    if edit.remove_workspaces:
        parts.append(f"remove workspaces {edit.remove_workspaces}")
    if edit.add_workspaces:
        parts.append(f"add back workspaces {edit.add_workspaces}")
    return f"group #{plan.group_id}: " + "; ".join(parts)


def member_names(change: Change, current: Group | None) -> dict[int, str]:
    """Member names the change's groups and the group now show."""
    groups: list[Any] = [current, change.before, change.after]
    return _names(*(g if isinstance(g, Group) or g is None else Group.model_validate(g) for g in groups))
