"""Group edits planned against the group's current state, so that a PUT never drops what it should keep.

The API's PUT replaces a group whole; these pure functions turn "rename", "add Ana", "remove Bo"
into the full body to send, and say exactly what would change.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group, GroupRequest
from focus_mcp.render.lines import name
from focus_mcp.toolkit.base import Ref


class EditConflict(FocusError):
    """The edit contradicts itself; nothing was sent."""


class GroupEdit(BaseModel):
    """What the caller asked to change; None means keep."""

    name: str | None = None
    emoji: str | None = None
    organization_users: list[int] | None = None
    workspaces: list[int] | None = None
    add_users: list[int] = Field(default_factory=list)
    remove_users: list[int] = Field(default_factory=list)
    add_workspaces: list[int] = Field(default_factory=list)
    remove_workspaces: list[int] = Field(default_factory=list)


class GroupDiff(BaseModel):
    """What a write changes (or would change, in a dry run)."""

    renamed_from: str | None = None
    renamed_to: str | None = None
    emoji_from: str | None = None
    emoji_to: str | None = None
    users_added: list[Ref] = Field(default_factory=list)
    users_removed: list[Ref] = Field(default_factory=list)
    workspaces_added: list[Ref] = Field(default_factory=list)
    workspaces_removed: list[Ref] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.renamed_to is not None
            or self.emoji_to is not None
            or self.users_added
            or self.users_removed
            or self.workspaces_added
            or self.workspaces_removed
        )

    def describe(self) -> str:
        parts = []
        # Names are data: escaped and bounded as every answer shows them (a renamed-to name of 100,000
        # characters or with newlines is the caller's text, shown back in the write's answer).
        if self.renamed_to is not None:
            parts.append(f"renamed '{name(self.renamed_from or '')}' -> '{name(self.renamed_to)}'")
        if self.emoji_to is not None:
            parts.append(f"emoji {name(self.emoji_from or '(none)', 16)} -> {name(self.emoji_to or '(none)', 16)}")
        for label, refs in (
            ("members added", self.users_added),
            ("members removed", self.users_removed),
            ("workspaces added", self.workspaces_added),
            ("workspaces removed", self.workspaces_removed),
        ):
            if refs:
                parts.append(f"{label}: " + ", ".join(f"{name(r.name)}#{r.id}" if r.name else f"#{r.id}" for r in refs))
        return "; ".join(parts) if parts else "no change"


def check_edit(edit: GroupEdit) -> None:
    """Refuse contradictions before any request is made."""
    for full, add, remove, what in (
        (edit.organization_users, edit.add_users, edit.remove_users, "users"),
        (edit.workspaces, edit.add_workspaces, edit.remove_workspaces, "workspaces"),
    ):
        both = sorted(set(add) & set(remove))
        if both:
            raise EditConflict(f"ids {both} are both in add_{what} and remove_{what}; say which you mean.")
        if full is not None and (add or remove):
            field = "organization_users" if what == "users" else "workspaces"
            raise EditConflict(f"give either {field} (the full list) or add_{what}/remove_{what} (changes), not both.")


def plan_group_edit(current: Group, edit: GroupEdit) -> tuple[GroupRequest, GroupDiff]:
    """The full PUT body that applies `edit` to `current`, and the difference it makes."""
    check_edit(edit)
    members = {u.organization_user_id: u.display_name for u in current.users}
    spaces = {w.workspace_id: w.name for w in current.workspaces}

    users = _apply(list(members), edit.organization_users, edit.add_users, edit.remove_users)
    workspaces = _apply(list(spaces), edit.workspaces, edit.add_workspaces, edit.remove_workspaces)
    name = current.name if edit.name is None else edit.name
    emoji = current.emoji if edit.emoji is None else edit.emoji

    diff = GroupDiff(
        users_added=[Ref(id=i, name="") for i in users if i not in members],
        users_removed=[Ref(id=i, name=n) for i, n in members.items() if i not in users],
        workspaces_added=[Ref(id=i, name="") for i in workspaces if i not in spaces],
        workspaces_removed=[Ref(id=i, name=n) for i, n in spaces.items() if i not in workspaces],
    )
    if name != current.name:
        diff.renamed_from, diff.renamed_to = current.name, name
    if emoji != current.emoji:
        diff.emoji_from, diff.emoji_to = current.emoji, emoji
    body = GroupRequest(name=name, emoji=emoji, organization_users=users, workspaces=workspaces)
    return body, diff


def name_added(diff: GroupDiff, after: Group) -> GroupDiff:
    """Fill in the names of added members and workspaces from the group as the API returned it."""
    members = {u.organization_user_id: u.display_name for u in after.users}
    spaces = {w.workspace_id: w.name for w in after.workspaces}
    return diff.model_copy(
        update={
            "users_added": [Ref(id=r.id, name=members.get(r.id, "")) for r in diff.users_added],
            "workspaces_added": [Ref(id=r.id, name=spaces.get(r.id, "")) for r in diff.workspaces_added],
        }
    )


def _apply(current: list[int], full: list[int] | None, add: list[int], remove: list[int]) -> list[int]:
    result = list(dict.fromkeys(full if full is not None else current))
    result += [i for i in dict.fromkeys(add) if i not in result]
    return [i for i in result if i not in set(remove)]
