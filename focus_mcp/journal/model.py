"""The change journal's contract: a `Change` (one write made through this server) and the `Journal`
every store implements (memory, SQLite, Redis).

A change is begun before its write is sent (outcome "pending") and settled when the outcome is
known: "written", "not_written", or "unknown" (settled later by a read). The pending and unknown
changes of an organization are its unsettled writes: the memory that lets the next edit of a group
wait for, or refuse to race, a write still out.

No secret is ever stored: `arguments` are the model's, `who` is a few hex digits of a hash.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group

log = logging.getLogger(__name__)

Outcome = Literal["pending", "written", "not_written", "unknown"]  # pending: sent, no outcome yet
UNSETTLED: tuple[Outcome, ...] = ("pending", "unknown")
ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: ids are read aloud and retyped


class JournalError(FocusError):
    """The journal's store cannot be used; the message names it and what to set."""


class JournalUnavailable(JournalError):
    """A store could not write (or read) an entry: SQLite busy past its timeout, a file not writable
    or refused, Redis unreachable. Raised by begin, nothing may be sent: a change is never reported
    journaled when list_changes could not show it. The message names the store (a Redis URL without
    its credentials) and what to do."""


class Changes(list["Change"]):
    """A listing of changes, and the ids of the entries skipped because they could not be read (a
    malformed row is named, never fatal: the rest of the trail and every write go on)."""

    def __init__(self, changes: Iterable[Change] = (), skipped: Iterable[str] = ()) -> None:
        super().__init__(changes)
        self.skipped: list[str] = list(skipped)


def new_change_id() -> str:
    """Eight characters from a 31-letter alphabet (~10^12 ids): short, and unique in practice."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(8))


def now() -> datetime:
    return datetime.now(UTC)


StepKind = Literal["create", "put", "role", "delete"]


class Step(BaseModel):
    """One request of a change: a group created, put (replaced whole), a member's role set, or deleted.

    `before`: the group as read under its turn (None for a create); `request`: the body sent (a delete:
    {"workspace_id": n}); `taken`: for a create, the ids of groups of that name it was made beside."""

    model_config = ConfigDict(extra="ignore")

    kind: StepKind
    group_id: int | None
    group_name: str | None
    workspace_id: int | None
    before: dict[str, Any] | None
    request: dict[str, Any] | None
    after: dict[str, Any] | None = None
    taken: list[int] = []
    outcome: Outcome = "pending"
    note: str = ""


def legacy_kind(request: dict[str, Any] | None, before: dict[str, Any] | None) -> StepKind:
    """What a one-request entry written before steps existed did (kept readable)."""
    request = request or {}
    if "organization_user_id" in request:
        return "role"
    if set(request) == {"workspace_id"}:
        return "delete"
    return "create" if before is None else "put"


class Change(BaseModel):
    """One call of a write tool made through this server, from before it was sent to its outcome: its
    steps (one request each) and each step's outcome. The top-level group fields, `before`, `request`
    and `after` are its first step's (what entries held before steps existed, still read)."""

    model_config = ConfigDict(extra="ignore")  # an entry written by a newer version still reads

    id: str  # what list_changes shows and undo_change takes
    at: datetime  # UTC, when begun (before the write is sent)
    tool: str  # create_group | update_group | delete_group | set_group_member_role | undo_change
    organization_id: int
    workspace_id: int | None
    group_id: int | None  # None for a create until its id is known
    group_name: str | None
    arguments: dict[str, Any]  # as the model gave them (JSON-able; never a secret)
    before: dict[str, Any] | None  # the group (Group.model_dump(mode="json")) as read under its turn
    request: dict[str, Any] | None  # what was sent: the body; a delete: {"workspace_id": n}
    after: dict[str, Any] | None  # the group as the answer or a fresh read showed it (None after a delete)
    outcome: Outcome
    settled_at: datetime | None = None
    note: str = ""  # how the outcome was settled ("answer", "fresh read", "not seen after N s"...)
    who: str  # credential fingerprint: a few hex digits of a hash, never the key
    client: str | None = None  # over HTTP: the MCP client's name (and remote address if known)
    undoes: str | None = None  # id of the change this one reverses
    undone_by: str | None = None
    steps: list[Step] = []  # empty in entries written before steps existed: then `all_steps` derives one

    @property
    def settled(self) -> bool:
        return self.outcome not in UNSETTLED

    @property
    def all_steps(self) -> list[Step]:
        """The steps; for an entry of one request written before steps existed, that request as one."""
        if self.steps:
            return self.steps
        if self.request is None:
            return []
        step = Step(
            kind="create" if self.tool == "create_group" else legacy_kind(self.request, self.before),
            group_id=self.group_id,
            group_name=self.group_name,
            workspace_id=self.workspace_id,
            before=self.before,
            request=self.request,
            after=self.after,
            outcome=self.outcome,
            note=self.note,
        )
        return [step]


class Journal(Protocol):
    """Where changes are kept. Every method is safe to call concurrently, from several processes
    (SQLite) or replicas (Redis) at once. A store that cannot write or read raises JournalUnavailable
    (never a silent fallback: an entry is journaled where list_changes shows it, or not at all)."""

    async def begin(self, change: Change) -> None:
        """Store `change` (its outcome is stored as "pending" whatever it says)."""

    async def settle(
        self,
        change_id: str,
        outcome: Outcome,
        *,
        group_id: int | None = None,
        group_name: str | None = None,
        after: dict[str, Any] | None = None,
        note: str = "",
        steps: list[Step] | None = None,
    ) -> None:
        """Record the outcome, the steps' when given (and settled_at = now); a given group_id,
        group_name, after replaces the stored one, None keeps it. An unknown id is
        ignored (the entry may have expired)."""

    async def get(self, change_id: str) -> Change | None: ...

    async def changes(
        self,
        organization_id: int,
        *,
        group_id: int | None = None,
        since: datetime | None = None,
        limit: int = 20,
        group_name: str | None = None,
    ) -> Changes:
        """Newest first. `group_id` and `group_name` (exact but for case and outer spaces) select a
        group's changes: given both, a change matching either is kept (a deleted group is still
        found by its name). An entry that cannot be read is skipped, its id in `skipped`."""

    async def unsettled(
        self, organization_id: int, *, group_id: int | None = None, create_name: str | None = None
    ) -> list[Change]:
        """Changes whose outcome is pending or unknown, oldest first. Neither filter: all of the
        organization's; `group_id`: those of that group; `create_name`: creates of that name
        (compared case-insensitively); both: those matching either. An entry that cannot be read is skipped
        (and logged; the stores return `Changes`, its id in `skipped`): it holds up no write."""

    async def mark_undone(self, change_id: str, undone_by: str) -> None: ...

    async def aclose(self) -> None:
        """Release connections. The journal stays usable: the next call reconnects (the server
        keeps one journal for its whole life, across SSE sessions)."""


def parsed(change_id: str, stored: str | bytes | dict[str, Any]) -> Change | None:
    """A stored entry as a Change, or None when it cannot be read: not JSON, not a change, or a group
    before/after that is not a group (the write path plans from those). The caller skips and names it."""
    try:
        change = Change.model_validate(stored) if isinstance(stored, dict) else Change.model_validate_json(stored)
        for group in (change.before, change.after, *(g for step in change.steps for g in (step.before, step.after))):
            if group is not None:  # a create's `before` and a delete's `after` are None
                Group.model_validate(group)
    except (ValidationError, ValueError, TypeError) as exc:
        log.warning("journal entry %s cannot be read, skipped: %s", change_id, str(exc).splitlines()[0])
        return None
    return change


def matches_unsettled(change: Change, group_id: int | None, create_name: str | None) -> bool:
    """The selection of `Journal.unsettled`, for stores that filter in Python."""
    if change.settled:
        return False
    if group_id is None and create_name is None:
        return True
    if group_id is not None and change.group_id == group_id:
        return True
    for step in change.all_steps:
        if group_id is not None and step.group_id == group_id:
            return True
        # any create takes a name, whichever tool sent it (an undo's re-create too)
        name = step.group_name or (step.request or {}).get("name")
        if create_name is not None and step.kind == "create" and name_key(name) == name_key(create_name):
            return True
    return False


def matches_group(change: Change, group_id: int | None, group_name: str | None) -> bool:
    """The group selection of `Journal.changes`."""
    if group_id is None and group_name is None:
        return True
    return (group_id is not None and change.group_id == group_id) or (
        group_name is not None and name_key(change.group_name) == name_key(group_name)
    )


def name_key(name: str | None) -> str | None:
    """A group name as the API compares them: case and outer spaces aside."""
    return None if name is None else name.strip().casefold()


def settled_copy(
    change: Change,
    outcome: Outcome,
    *,
    group_id: int | None,
    group_name: str | None,
    after: dict[str, Any] | None,
    note: str,
    steps: list[Step] | None = None,
) -> Change:
    update: dict[str, Any] = {"outcome": outcome, "settled_at": now(), "note": note}
    if steps is not None:
        update["steps"] = steps
    if group_id is not None:
        update["group_id"] = group_id
    if group_name is not None:
        update["group_name"] = group_name
    if after is not None:
        update["after"] = after
    return change.model_copy(update=update)
