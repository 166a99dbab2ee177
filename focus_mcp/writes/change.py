"""What a tool wants changed, as small values the pipeline runs (a tool never assembles the sequence).

A `Wanted` is one call of a write tool: one change, one journal entry, whatever its parts write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from focus_mcp.api.models import Group, GroupRequest, OrganizationUser
from focus_mcp.journal.model import Step
from focus_mcp.writes.edits import GroupDiff, GroupEdit
from focus_mcp.writes.undo_plan import UndoPlan

Roles = dict[int, int | None]  # member -> Focus role (None: no role)
Outcome = Literal["written", "not_written", "unknown"]
OUTCOME = "written: the API (or a fresh read) confirmed it; not_written: certainly not applied; unknown."


def change_line(change_id: str) -> str:
    """Where the answer names the change's journal entry."""
    return f"Journaled as change {change_id}."


@dataclass(frozen=True)
class EditGroup:
    """Merge `edit` into the group as read now (one PUT when it changes anything), then give `roles`."""

    group_id: int
    workspace_id: int
    edit: GroupEdit
    explicit: bool = False  # the workspace was given: the group is not looked for elsewhere
    roles: Roles = field(default_factory=dict)


@dataclass(frozen=True)
class SetRole:
    group_id: int
    workspace_id: int
    user: int
    role_id: int | None
    explicit: bool = False


@dataclass(frozen=True)
class DeleteGroup:
    group_id: int
    workspace_id: int


@dataclass(frozen=True)
class CreateGroup:
    """POST the group (refused when its name is taken, unless allowed), then give `roles`.
    `replaces`: the deleted group an undo creates again (its turn is taken too)."""

    body: GroupRequest
    allow_duplicate: bool = False
    roles: Roles = field(default_factory=dict)
    replaces: int | None = None


@dataclass(frozen=True)
class UndoOf:
    """Reverse a journaled change against the groups as read now (undo_plan). `agreed`: a human said
    yes to the delete that undoing a create is."""

    change_id: str
    agreed: bool = False


Part = EditGroup | SetRole | DeleteGroup | CreateGroup | UndoOf


@dataclass(frozen=True)
class Wanted:
    """One call of a write tool: its parts, the arguments as given (for the journal), what it knows."""

    tool: str
    organization_id: int
    arguments: dict[str, Any]
    parts: list[Part]
    dry_run: bool = False
    known: dict[int, OrganizationUser] = field(default_factory=dict)  # users already read, by name
    refused: str = "Not written"  # how a one-step refusal begins ("Not deleted")


class NothingToDo(Exception):
    """The change has nothing to write now (an undo whose effect is gone, a re-create whose name is taken)."""

    def __init__(self, why: str, undo: UndoPlan | None = None) -> None:
        super().__init__(why)
        self.why, self.undo = why, undo


@dataclass
class Done:
    """A change run: its outcome, its entry, the answer's lines, and what the tools' results show."""

    outcome: Outcome
    lines: list[str]
    change_id: str | None = None
    steps: list[Step] = field(default_factory=list)
    group: Group | None = None  # the (first) group as it is now, roles as written
    diff: GroupDiff = field(default_factory=GroupDiff)
    error: bool = False
    dry_run: bool = False
    undo: UndoPlan | None = None  # an undo: its plan (what was left alone, not recreated)
    nothing: str = ""  # why nothing was written, when nothing was to do
