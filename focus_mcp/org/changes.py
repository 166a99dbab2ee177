"""A confirmed write's result, applied to a snapshot (no read): pure functions of the snapshot."""

from __future__ import annotations

from focus_mcp.api.models import Group
from focus_mcp.org.model import Snapshot


def group_written(snap: Snapshot, group: Group) -> None:
    """The group as a POST or PUT answered it (or a read now showed it): replaced or added, and each
    member's teams as it now says (joined ones gain it, removed ones lose it)."""
    before = snap.teams.get(group.id)
    snap.teams[group.id] = group
    old = {u.organization_user_id for u in before.users} if before is not None else set()
    new = {u.organization_user_id for u in group.users}
    snap.names.groups[group.id] = (group.name, group.emoji, tuple(w.workspace_id for w in group.workspaces))
    for w in group.workspaces:
        snap.names.workspaces.setdefault(w.workspace_id, w.name)
    by_id = snap.by_id
    for uid in old - new:
        if (m := by_id.get(uid)) is not None:
            m.groups = tuple(g for g in m.groups if g != group.id)
    for uid in new - old:
        if (m := by_id.get(uid)) is not None and group.id not in m.groups:
            m.groups = (*m.groups, group.id)
    snap.forget_indexes()


def group_deleted(snap: Snapshot, group_id: int) -> None:
    snap.teams.pop(group_id, None)
    for m in snap.members:
        if group_id in m.groups:
            m.groups = tuple(g for g in m.groups if g != group_id)
    snap.names.groups.pop(group_id, None)
    snap.forget_indexes()


def role_set(snap: Snapshot, group_id: int, user_id: int, role_id: int | None) -> None:
    team = snap.teams.get(group_id)
    if team is None:
        return
    users = [
        u.model_copy(update={"focus_role_id": role_id}) if u.organization_user_id == user_id else u for u in team.users
    ]
    snap.teams[group_id] = team.model_copy(update={"users": users})
    snap.forget_indexes()
