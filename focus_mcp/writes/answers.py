"""The answer's lines for a change: what each step did (written / not written / unknown, with names),
a dry run, nothing to change. Roles are named (the roles read once, cached), never role#N when the
name can be had."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, GroupRequest, GroupUserRoleRequest, GroupWorkspace, OrganizationUser
from focus_mcp.journal.model import Step
from focus_mcp.org import names
from focus_mcp.org.names import role_names
from focus_mcp.render.lines import counted, id_emoji_name, name
from focus_mcp.render.teams import Team, team_line
from focus_mcp.toolkit.base import AppState, Ref
from focus_mcp.writes.change import Done, EditGroup, Outcome, SetRole, Wanted, change_line
from focus_mcp.writes.edits import GroupDiff, name_added
from focus_mcp.writes.plan import Planned
from focus_mcp.writes.send import Sent
from focus_mcp.writes.steps import described, member_name, role_text, upper_bound

RoleNames = dict[int, str]


async def role_names_for(state: AppState, org: int, groups: list[Group], steps: list[Step]) -> RoleNames:
    """Role names, read once (cached ten minutes, before anything is sent) when the answer will name
    roles: a step sets one, or a group it shows has members with one. Never role#N in a write answer."""
    shown = any(s.kind in ("put", "create") for s in steps) or not steps
    if any(s.kind == "role" for s in steps) or (shown and any(u.focus_role_id for g in groups for u in g.users)):
        return await role_names(state, org)
    return {}


async def new_members(state: AppState, wanted: Wanted, planned: Planned) -> dict[int, OrganizationUser]:
    """The records of the members a change adds, read before it is sent, only for the answer's notes
    (a failed read does not stop the change)."""
    ids: list[int] = []
    for step in planned.steps:
        if step.kind == "create":
            ids += GroupRequest.model_validate(step.request).organization_users
        elif step.kind == "put":
            ids += [r.id for r in planned.diffs.get(step.group_id or 0, GroupDiff()).users_added]
    try:
        return await names.users_by_id(state, wanted.organization_id, ids, wanted.known)
    except FocusError:
        return {}


def cost_text(steps: list[Step]) -> str:
    kinds = {"create": "create", "put": "group update", "role": "member's role", "delete": "delete"}
    counts: dict[str, int] = {}
    for step in steps:
        counts[kinds[step.kind]] = counts.get(kinds[step.kind], 0) + 1
    return ", ".join(
        counted(n, what, what + "s" if what != "member's role" else "members' roles") for what, n in counts.items()
    )


async def unchanged(state: AppState, wanted: Wanted, planned: Planned) -> Done:
    part = wanted.parts[0]
    group = planned.unchanged[0] if planned.unchanged else None
    if isinstance(part, SetRole) and group is not None:
        roles = await role_names(state, wanted.organization_id) if part.role_id else {}
        who = next(
            (f"{u.display_name}#{u.organization_user_id}" for u in group.users if u.organization_user_id == part.user),
            "",
        )
        has = f"{who} already has {_role(part.role_id, roles)} in group {id_emoji_name(group)}"
        line = f"No change needed, nothing written: {has}."
        return Done("not_written", [line], group=group)
    groups = planned.unchanged
    roles = await role_names_for(state, wanted.organization_id, groups, [])
    lines = [f"No change needed, nothing written: {team_line(Team.from_api(g, roles))}" for g in groups]
    return Done("not_written", lines or ["No change needed, nothing written."], group=group)


def _role(role_id: int | None, roles: RoleNames) -> str:
    if not role_id:
        return "no Focus role"
    return f"role {roles[role_id]}#{role_id}" if role_id in roles else f"role {role_id}"


async def dry_run(state: AppState, wanted: Wanted, planned: Planned) -> Done:
    """What the change would do, nothing written (new members named: unknown ids refused here too)."""
    org, lines, diff = wanted.organization_id, [], GroupDiff()
    roles = await role_names_for(state, org, list(planned.groups.values()), planned.steps)
    for part in wanted.parts:
        if not isinstance(part, EditGroup) or part.group_id not in planned.groups:
            continue
        current = planned.groups[part.group_id]
        steps = [s for s in planned.steps if s.group_id == current.id]
        diff = planned.diffs.get(current.id, GroupDiff())
        added = await names.users_by_id(state, org, [r.id for r in diff.users_added], wanted.known)
        diff = name_new_members(added, diff)
        what = [diff.describe()] if not diff.empty else []
        what += [f"{_who(s, added)} gets {role_text(_role_id(s), roles)}" for s in steps if s.kind == "role"]
        if not steps:
            lines.append(f"No change needed: {team_line(Team.from_api(current, roles))}")
            continue
        body = GroupRequest.model_validate(next((s.request for s in steps if s.kind == "put"), None) or _body(current))
        lines.append(f"Dry run, nothing written. Would change {id_emoji_name(current)}: {'; '.join(what)}.")
        lines += member_warnings(added, diff, body.workspaces, current)
    if len(planned.steps) > 1:
        most = "at most " if upper_bound(planned.steps) else ""
        lines.append(f"It would take {most}{counted(len(planned.steps), 'request')} ({cost_text(planned.steps)}).")
    first = next(iter(planned.groups.values()), None)
    return Done("not_written", lines, group=first, diff=diff, dry_run=True, undo=planned.undo)


def _body(group: Group) -> dict[str, object]:
    return {
        "name": group.name,
        "emoji": group.emoji,
        "organization_users": [u.organization_user_id for u in group.users],
        "workspaces": [w.workspace_id for w in group.workspaces],
    }


def _role_id(step: Step) -> int | None:
    return GroupUserRoleRequest.model_validate(step.request).focus_role_id


def _who(step: Step, known: dict[int, OrganizationUser]) -> str:
    user = GroupUserRoleRequest.model_validate(step.request).organization_user_id
    return f"{known[user].name}#{user}" if user in known else member_name(step, user)


async def written(state: AppState, wanted: Wanted, planned: Planned, sent: list[Sent], change_id: str) -> Done:
    """The answer once the steps are sent: a line for each step, each named by its outcome."""
    groups = {
        **planned.groups,
        **{s.group.id: s.group for s in sent if s.group is not None and s.step.kind != "delete"},
    }
    roles = planned.roles  # read before sending (role_names_for)
    known = _member_names(planned, groups)
    after = _with_roles(groups, sent)
    lines: list[str] = []
    diff = GroupDiff()
    for one in sent:
        step = one.step
        if one.outcome == "unknown":
            lines.append(_unknown(one, change_id))
        elif one.outcome == "not_written":
            lines.append(_not_written(one, roles, known))
        elif step.kind == "create":
            lines += _created(planned, one, after, roles)
        elif step.kind == "put":
            diff, more = await _updated(state, wanted, planned, one, after.get(step.group_id or 0), roles)
            lines += more
        elif step.kind == "role" and _role_steps(sent) > 1:
            lines += _roles_set(one, sent, roles)
        elif step.kind == "role":
            lines.append(_role_set(one, roles))
        else:
            lines.append(_deleted(one))
    if len(sent) > 1 and any(s.outcome != "written" for s in sent):
        lines.append(_summary(sent, roles, known))
    lines.append(change_line(change_id))
    outcomes = {s.outcome for s in sent}
    outcome: Outcome = "unknown" if "unknown" in outcomes else ("written" if "written" in outcomes else "not_written")
    first = after.get(sent[0].step.group_id or 0) if sent[0].step.group_id else None
    return Done(outcome, lines, change_id, [s.step for s in sent], first, diff, error=outcomes != {"written"})


def _with_roles(groups: dict[int, Group], sent: list[Sent]) -> dict[int, Group]:
    """The groups as the written steps left them: roles written applied to the group last read."""
    after = dict(groups)
    for one in sent:
        step = one.step
        if one.outcome != "written" or step.kind != "role" or step.group_id not in after:
            continue
        body = GroupUserRoleRequest.model_validate(step.request)
        group = after[step.group_id]
        users = [
            u.model_copy(update={"focus_role_id": body.focus_role_id})
            if u.organization_user_id == body.organization_user_id
            else u
            for u in group.users
        ]
        after[step.group_id] = group.model_copy(update={"users": users})
    for one in sent:
        if one.outcome == "written" and one.step.kind == "delete":
            after.pop(one.step.group_id or 0, None)
    return after


def _member_names(planned: Planned, groups: dict[int, Group]) -> dict[int, str]:
    """Members' names for steps whose own groups do not show them: the new members' records (read before
    sending), and the groups read or answered."""
    known = {i: u.name for i, u in planned.added.items() if u.name}
    for group in groups.values():
        known |= {u.organization_user_id: u.display_name for u in group.users if u.display_name}
    return known


def _not_written(one: Sent, roles: RoleNames, known: dict[int, str]) -> str:
    step = one.step
    if one.read is not None:  # the API ended the request with its own error, and a read shows nothing
        return (
            f"Not written ({described(step, roles, known)} in {_target(step)}): {one.cause}; a fresh read at once "
            f"shows it not applied: {one.read.shows}. The API's error ended the request: nothing is left to land."
        )
    return f"Not written: {described(step, roles, known)} in {_target(step)} ({one.refusal or step.note})."


def _deleted(one: Sent) -> str:
    shown = name(str((one.step.before or {}).get("name", "")))
    return f"Deleted group {one.step.group_id} ({shown}){_how(one, one.read.shows if one.read else '')}."


def _how(one: Sent, shows: str) -> str:
    """How a written step is known, when not by its answer."""
    return f" ({one.why}; a fresh read shows {shows})" if one.read is not None else ""


def _target(step: Step) -> str:
    return f"group {step.group_name or ''}#{step.group_id}" if step.group_id else f"new group {step.group_name!r}"


def _unknown(one: Sent, change_id: str) -> str:
    when = f"{one.waited:g} s later" if one.waited else "at once"
    shows = one.read.shows if one.read else "nothing"
    return (
        f"Outcome unknown (change {change_id}): {one.cause or one.step.note}. A fresh read {when} shows {shows}. "
        "The write may still land: do not repeat it blindly; the next edit of this group first checks whether "
        "it landed. Read again with fresh=true in a minute and decide from what it shows."
    )


def _created(planned: Planned, one: Sent, after: dict[int, Group], roles: RoleNames) -> list[str]:
    group = after.get(one.group.id) if one.group is not None else None
    body = GroupRequest.model_validate(one.step.request)
    notes = create_notes(planned.added, body.organization_users, body.workspaces, group)
    if one.read is not None:
        first = f"Created group ({one.why}; a fresh read shows {one.read.shows})"
    else:
        first = f"Created group: {team_line(Team.from_api(group, roles)) if group else ''}"
    return [first, *notes]


async def _updated(
    state: AppState, wanted: Wanted, planned: Planned, one: Sent, group: Group | None, roles: RoleNames
) -> tuple[GroupDiff, list[str]]:
    step = one.step
    before = planned.groups[step.group_id or 0]
    diff = planned.diffs.get(before.id, GroupDiff())
    body = GroupRequest.model_validate(step.request)
    added = {r.id: planned.added[r.id] for r in diff.users_added if r.id in planned.added}
    notes = member_warnings(added, diff, body.workspaces, before)
    shown = group or one.group or before
    diff = name_added(diff, shown)
    how = f" ({one.why}; a fresh read shows it applied)" if one.read is not None else ""
    lines = [f"Updated group {shown.id}{how}: {diff.describe()}.", team_line(Team.from_api(shown, roles)), *notes]
    return diff, lines


def _role_set(one: Sent, roles: RoleNames) -> str:
    step = one.step
    body = GroupUserRoleRequest.model_validate(step.request)
    group = Group.model_validate(step.before) if step.before else None
    where = f"group {id_emoji_name(group)}" if group else _target(step)
    how = f" ({one.why}; a fresh read shows it set)" if one.read is not None else ""
    return f"{member_name(step, body.organization_user_id)} now has {_role(body.focus_role_id, roles)} in {where}{how}."


def _role_steps(sent: list[Sent]) -> int:
    return sum(1 for one in sent if one.step.kind == "role" and one.outcome == "written")


def _roles_set(one: Sent, sent: list[Sent], roles: RoleNames) -> list[str]:
    """Several roles written in one group: one line for them all, at the first of them."""
    group_roles = [
        s for s in sent if s.step.kind == "role" and s.outcome == "written" and s.step.group_id == one.step.group_id
    ]
    if group_roles[0] is not one:
        return []
    group = Group.model_validate(one.step.before) if one.step.before else None
    where = f"group {id_emoji_name(group)}" if group else _target(one.step)
    each = []
    for s in group_roles:
        body = GroupUserRoleRequest.model_validate(s.step.request)
        each.append(f"{member_name(s.step, body.organization_user_id)} {role_text(body.focus_role_id, roles)}")
    return [f"Focus roles set in {where}: {', '.join(each)}."]


def _summary(sent: list[Sent], roles: RoleNames, known: dict[int, str]) -> str:
    """Each step by its outcome, named (a partial change never hides behind counts)."""
    parts: dict[str, list[str]] = {"written": [], "not_written": [], "unknown": []}
    for one in sent:
        what = f"{described(one.step, roles, known)} in {_target(one.step)}"
        parts[one.outcome if one.outcome in parts else "unknown"].append(what)
    said = [f"{label}: {'; '.join(items)}" for label, items in (
        ("written", parts["written"]), ("not written", parts["not_written"]), ("unknown", parts["unknown"])
    ) if items]  # fmt: skip
    return "Steps " + " | ".join(said) + "."


# --- notes on a write's members: who they are, who is in none of its workspaces or not joined ---


def name_new_members(added: dict[int, OrganizationUser], diff: GroupDiff) -> GroupDiff:
    """A dry run names the users it would add; ids that name no user are refused, as the write would be."""
    ids = [r.id for r in diff.users_added]
    unknown = [i for i in ids if i not in added]
    if unknown:
        raise ToolError(f"Not changed: organization users {unknown} do not exist; call list_users to find the ids.")
    return diff.model_copy(update={"users_added": [Ref(id=i, name=added[i].name) for i in ids]})


def create_notes(
    found: dict[int, OrganizationUser], ids: list[int], workspaces: list[int], created: Group | None
) -> list[str]:
    """The notes on a new group's members (`found`: the members' records, read before the create),
    its workspaces named as the API's answer names them, else as the members' records do."""
    spaces = {w.id: w.name for u in found.values() for w in u.workspaces or ()}
    added = GroupDiff(users_added=[Ref(id=i, name="") for i in ids])
    shown = {w.workspace_id: w.name for w in created.workspaces} if created else {}
    named = [GroupWorkspace(workspace_id=w, name=shown.get(w) or spaces.get(w, "")) for w in workspaces]
    return member_warnings(found, added, workspaces, Group(id=0, workspaces=named))


def member_warnings(
    added: dict[int, OrganizationUser], diff: GroupDiff, workspaces: list[int], group: Group
) -> list[str]:
    """Notes on added members who are in none of the group's workspaces, or have not joined yet."""
    names = {w.workspace_id: w.name for w in group.workspaces}
    users = [added[r.id] for r in diff.users_added if r.id in added]
    outside = [u for u in users if not {w.id for w in u.workspaces or ()} & set(workspaces)]
    waiting = [u for u in users if not u.joined]
    notes = []
    if outside:
        where = ", ".join(f"{names.get(w) or 'workspace'}#{w}" for w in workspaces) or "no workspace"
        notes.append(f"Note: in none of the group's workspaces ({where}): {_users(outside)}.")
    if waiting:
        notes.append(f"Note: not joined the organization yet: {_users(waiting)}.")
    return notes


def _users(users: list[OrganizationUser]) -> str:
    return ", ".join(f"{u.name}#{u.id}" for u in users)
