"""The notes of a group write about its members: who they are (a dry run names them), and who is in
none of the group's workspaces or has not joined the organization yet."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.models import Group, GroupWorkspace, OrganizationUser
from focus_mcp.tools.base import Ref
from focus_mcp.writes.edits import GroupDiff


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
        notes.append(f"Note: in none of the group's workspaces ({where}): {_who(outside)}.")
    if waiting:
        notes.append(f"Note: not joined the organization yet: {_who(waiting)}.")
    return notes


def _who(users: list[OrganizationUser]) -> str:
    return ", ".join(f"{u.name}#{u.id}" for u in users)
