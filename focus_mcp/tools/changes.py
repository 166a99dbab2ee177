"""list_changes: the change journal (every write made through this server), newest first, each
change in names, with its outcome and whether it was undone."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.errors import FocusError
from focus_mcp.journal import Change, Changes, MemoryJournal, Outcome, SqliteJournal, fingerprint
from focus_mcp.journal.access import confirm_access, other_organization
from focus_mcp.org.names import GroupRef
from focus_mcp.render.describe import describe, member_names, needs_role_names
from focus_mcp.render.lines import counted, listing, name
from focus_mcp.toolkit.base import READ_ONLY, AppState, OrgArgs, Result, ToolSpec, app_state, organization

MAX_LIMIT = 200
MAX_SKIPPED_NAMED = 10  # unreadable entries named in the heading; the structured content has them all
log = logging.getLogger(__name__)
BY_NAME_SCAN = 500  # changes read to learn which group ids a name has had


class ListChangesArgs(OrgArgs):
    group_id: GroupRef | None = Field(default=None, description="Deleted groups too.")
    since: datetime | None = Field(default=None, description="ISO date or time; UTC unless given.")
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT)


class ChangeEntry(BaseModel):
    id: str
    at: str
    tool: str
    group_id: int | None = None
    group_name: str | None = None
    did: str = Field(description="What the change did, in names.")
    outcome: Outcome
    note: str | None = None
    undone_by: str | None = None
    undoes: str | None = None
    who: str = Field(description="Fingerprint of the credential used.")
    client: str | None = None

    @classmethod
    def from_change(cls, change: Change, role_names: dict[int, str], known: dict[int, str]) -> ChangeEntry:
        return cls(
            id=change.id,
            at=change.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            tool=change.tool,
            group_id=change.group_id,
            group_name=change.group_name,
            did=describe(change, role_names, known),
            outcome=change.outcome,
            note=change.note or None,
            undone_by=change.undone_by,
            undoes=change.undoes,
            who=change.who,
            client=change.client,
        )


class ChangesResult(Result):
    changes: list[ChangeEntry]
    skipped: list[str] = Field(default_factory=list)  # ids of journal entries that cannot be read


async def _selected(state: AppState, org: int, args: ListChangesArgs) -> Changes:
    """The organization's changes asked for; `skipped`: the entries that could not be read."""
    journal, since = state.journal, _utc(args.since)
    if args.group_id is None:
        return await journal.changes(org, since=since, limit=args.limit)
    if isinstance(args.group_id, int):
        return await journal.changes(org, group_id=args.group_id, since=since, limit=args.limit)
    # A name: the changes made under it, and every change of the groups that have borne it (renamed since).
    named = await journal.changes(org, group_name=args.group_id, since=since, limit=BY_NAME_SCAN)
    found, skipped = {c.id: c for c in named}, dict.fromkeys(named.skipped)
    for group_id in {c.group_id for c in named if c.group_id is not None}:
        listed = await journal.changes(org, group_id=group_id, since=since, limit=args.limit)
        skipped.update(dict.fromkeys(listed.skipped))
        for change in listed:
            found.setdefault(change.id, change)
    return Changes(sorted(found.values(), key=lambda c: c.at, reverse=True)[: args.limit], skipped)


def _entries(changes: Changes, roles: dict[int, str]) -> tuple[list[ChangeEntry], list[str]]:
    """Each change in names; one whose stored content cannot be described is skipped and named too."""
    known, skipped = member_names(changes), list(changes.skipped)
    entries: list[ChangeEntry] = []
    for change in changes:
        try:
            entries.append(ChangeEntry.from_change(change, roles, known))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("journal entry %s cannot be described, skipped", change.id, exc_info=True)
            skipped.append(change.id)
    return entries, skipped


def _matching(args: ListChangesArgs) -> str:
    group = f" for group {args.group_id}" if args.group_id is not None else ""
    return group + (f" since {args.since.isoformat()}" if args.since is not None else "")


def _where(state: AppState) -> str:
    if isinstance(state.journal, SqliteJournal):
        return f"the journal is {state.journal.path}"
    return "the journal is in Redis (TOGGL_FOCUS_REDIS_URL), shared by the replicas"


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def _role_names(state: AppState, org: int, changes: list[Change]) -> dict[int, str]:
    """Role names for role changes (the roles listing is cached for long); ids alone if it fails."""
    if not needs_role_names(changes):
        return {}
    try:
        return {role.role_id: role.name for role in await state.client.list_roles(org)}
    except FocusError:
        return {}


def line(entry: ChangeEntry, me: str) -> str:
    group_name = name(entry.group_name or "")
    group = f"{group_name}#{entry.group_id}" if entry.group_id else group_name
    text = f"{entry.id} {entry.at[:16].replace('T', ' ')}Z {entry.tool} {group}: {entry.did}"
    text += f" -> {entry.outcome}" + (f" ({entry.note})" if entry.note else "")
    if entry.undoes:
        text += f"; undoes {entry.undoes}"
    if entry.undone_by:
        text += f"; UNDONE by {entry.undone_by}"
    if entry.who != me:  # another key's change (the structured content always has who and client)
        text += f"; by {entry.who}" + (f" via {entry.client}" if entry.client else "")
    return text


async def list_changes(args: ListChangesArgs, ctx: Context) -> CallToolResult:
    """List the changes made through this server, newest first: outcome, and the id undo_change takes."""
    state = app_state(ctx)
    org = organization(args, state)
    await confirm_access(state.client, org)  # the trail only of an organization this key reads
    changes = await _selected(state, org, args)
    roles = await _role_names(state, org, changes)
    records, skipped = _entries(changes, roles)
    me = fingerprint(state.settings)
    count = f"{len(records)} change" + ("" if len(records) == 1 else "s")
    whose = other_organization(org, state.settings)
    heading = [f"{count}{whose}, newest first." if records else f"No changes recorded{whose}{_matching(args)}."]
    if skipped:
        shown = ", ".join(name(i, 20) for i in skipped[:MAX_SKIPPED_NAMED])
        more = f" +{len(skipped) - MAX_SKIPPED_NAMED} more" if len(skipped) > MAX_SKIPPED_NAMED else ""
        heading.append(f"Skipped {counted(len(skipped), 'unreadable entry', 'unreadable entries')}: {shown}{more}.")
    if isinstance(state.journal, MemoryJournal):
        heading.append("The journal is off (TOGGL_FOCUS_JOURNAL=off): only this process's changes are listed.")
    elif not records:
        heading.append(f"Changes are kept {counted(state.settings.journal_days, 'day')}; {_where(state)}.")
    narrow = "pass a smaller limit, since or group_id"
    extra = {"skipped": skipped} if skipped else {}
    return listing(state, heading, "changes", records, lambda r: line(r, me), extra, narrow)


# Read-only and open-world: it may read the roles listing, for their names.
TOOLS = [ToolSpec(list_changes, "List changes", ListChangesArgs, ChangesResult, READ_ONLY)]
