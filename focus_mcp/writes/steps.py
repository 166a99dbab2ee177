"""What one step of a change meant to do, and whether a group as read now shows it (pure: no request).

Used when a step's answer is lost (settling it), before the next change of its group (an earlier
step still out), and by undo (a step reversed only where the group still shows it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from focus_mcp.api.models import Group, GroupRequest, GroupUserRoleRequest
from focus_mcp.journal.model import Outcome, Step
from focus_mcp.render.lines import name
from focus_mcp.toolkit.base import Ref
from focus_mcp.writes.edits import GroupDiff, GroupEdit, plan_group_edit


def intended_edit(step: Step) -> GroupEdit:
    """A put's effect as an edit: the fields it changed from the group it read, members and workspaces
    as additions and removals (so that it can be checked, or reversed, against any state)."""
    before = Group.model_validate(step.before)
    body = GroupRequest.model_validate(step.request)
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


def create_name(step: Step) -> str:
    return str((step.request or {}).get("name") or step.group_name or "")


def described(step: Step, roles: dict[int, str] | None = None, names: dict[int, str] | None = None) -> str:
    """What the step meant to do, in a few words; members named (`names`: member -> name, where the
    step's own groups do not name them: a member it adds, a role after a create)."""
    if step.kind == "create":
        return f"create a group named {create_name(step)!r}"
    if step.kind == "delete":
        return "delete the group"
    if step.kind == "role":
        role = GroupUserRoleRequest.model_validate(step.request)
        who = member_name(step, role.organization_user_id, names)
        return f"set {who}'s Focus role to {role_text(role.focus_role_id, roles)}"
    _, diff = plan_group_edit(Group.model_validate(step.before), intended_edit(step))
    return named_diff(diff, names or {}).describe()


def named_diff(diff: GroupDiff, names: dict[int, str]) -> GroupDiff:
    """`diff` with the members it adds named where `names` knows them (a diff planned from ids)."""
    added = [r if r.name else Ref(id=r.id, name=names.get(r.id, "")) for r in diff.users_added]
    return diff.model_copy(update={"users_added": added})


def role_text(role_id: int | None, roles: dict[int, str] | None = None) -> str:
    """A Focus role by name when known (never a bare role#N when the name is at hand)."""
    if not role_id:
        return "no Focus role"
    name = (roles or {}).get(role_id)
    return f"{name}#{role_id}" if name else f"role {role_id}"


def member_name(step: Step, user: int, names: dict[int, str] | None = None) -> str:
    """A member as every answer names one (escaped, bounded, with the id); `names` where the step's
    groups do not show them."""
    for group in (step.after, step.before):
        for member in (group or {}).get("users") or ():
            if member.get("organization_user_id") == user and member.get("display_name"):
                return f"{name(member['display_name'])}#{user}"
    known = (names or {}).get(user)
    return f"{name(known)}#{user}" if known else f"user {user}"


def effect_seen(step: Step, group: Group | None, same_name: list[Group], since: datetime | None = None) -> bool:
    """Whether what a fresh read shows (the group, or the groups of the created name) holds the step.
    `since`: for a create made beside groups of its name that the entry does not list (older entries),
    only a group created since then counts."""
    if step.kind == "delete":
        return group is None
    if step.kind == "create":
        fresh = [g for g in same_name if g.id not in step.taken]
        return any(_created_since(g, since) for g in fresh) if since is not None else bool(fresh)
    if group is None:
        return False
    if step.kind == "role":
        return shows_role(group, step)
    _, rest = plan_group_edit(group, intended_edit(step))
    return rest.empty


def _created_since(group: Group, at: datetime) -> bool:
    try:
        created = datetime.fromisoformat((group.created_at or "").replace("Z", "+00:00"))
    except ValueError:
        return False
    return created.tzinfo is not None and created >= at - timedelta(minutes=1)


def overall(steps: list[Step]) -> Outcome:
    """A change's outcome from its steps': unknown while any is out, else written when any is (the
    answer names those not written), else not written."""
    outcomes = {step.outcome for step in steps}
    if outcomes & {"pending", "unknown"}:
        return "unknown"
    return "written" if "written" in outcomes else "not_written"


def shows_role(group: Group, step: Step) -> bool:
    """Whether `group` (a confirmed answer) shows the member with the role the step sets."""
    body = GroupUserRoleRequest.model_validate(step.request)
    member = next((u for u in group.users if u.organization_user_id == body.organization_user_id), None)
    return member is not None and (member.focus_role_id or None) == (body.focus_role_id or None)


def upper_bound(steps: list[Step]) -> bool:
    """Whether the count of `steps` is only the most that will be sent: role steps after a create are
    left out where the create's answer already shows them."""
    return any(s.kind == "role" and s.group_id is None for s in steps)
