"""list_users: the organization's members, one line each with the columns asked for, or only their
counts (user_counts.py): the API's filters and this server's own (status, 2FA, number of teams)
evaluated on the organization snapshot (focus_mcp/org), every member checked whatever the size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import IdFilter, OrganizationUser, UsersFilters, UsersQuery
from focus_mcp.org.model import Member, Snapshot
from focus_mcp.org.paging import REQUESTED_PER_PAGE, PagingArgs, progress
from focus_mcp.org.queries import matching_users
from focus_mcp.org.store import snapshots
from focus_mcp.org.user_counts import STATUS_OF, UserCounts, count_users, counts_lines
from focus_mcp.render.lines import answer, counted, cut_beyond, listing, may_fit
from focus_mcp.toolkit.base import READ_ONLY, AppState, Ref, Result, ToolSpec, app_state, common_fields_as, organization

# The lines a page shows when the call gives page and no per_page.
DEFAULT_PER_PAGE = 50
Status = Literal["active", "inactive", "invited", "locked"]
Column = Literal["email", "flags", "teams", "workspaces", "tags", "rate", "working_hours", "custom_fields"]
DEFAULT_COLUMNS: tuple[Column, ...] = ("email", "flags", "teams", "workspaces", "tags")
# Without `fields`, list_users leaves the email out: 5 KB of 18 for 150 users, and rarely what a question asks.
LISTED_COLUMNS: tuple[Column, ...] = ("flags", "teams", "workspaces", "tags")


class ListUsersArgs(UsersFilters, PagingArgs):
    roles: IdFilter | None = None
    status: Annotated[list[Status], Field(min_length=1)] | None = Field(
        default=None, description="active: and joined; invited: not joined yet."
    )
    two_factor: bool | None = None
    min_teams: int | None = Field(default=None, ge=1, strict=True)
    count_only: bool = Field(
        default=False,
        description="Counts (status, admins, 2FA, teams per person, workspaces, tags, rates, hours), not lines.",
    )
    fields: list[Column] | None = Field(
        default=None, description="Columns beyond id, name; default: flags teams workspaces tags."
    )


class HourlyRate(BaseModel):
    hourly_rate: float
    currency: str | None = None
    workspace_id: int | None = None
    workspace: str | None = Field(default=None, description="The rate's workspace by name.")


class User(BaseModel):
    """A user with the columns asked for (`fields`); the others are absent."""

    id: int = Field(description="Organization user id.")
    name: str
    email: str | None = None
    owner: bool | None = None
    admin: bool | None = None
    two_factor: bool | None = None
    active: bool | None = None
    joined: bool | None = None
    invite_sent: bool | None = None
    locked: bool | None = None
    locked_since: str | None = Field(default=None, description="Date the account was locked.")
    groups: list[Ref] | None = Field(default=None, description="Teams the user is in.")
    workspaces: list[Ref] | None = None
    tags: list[Ref] | None = None
    working_hours: float | None = None
    rate: HourlyRate | None = None
    custom_fields: dict[str, Any] | None = None

    @classmethod
    def from_api(cls, user: OrganizationUser, columns: frozenset[str] = frozenset(DEFAULT_COLUMNS)) -> User:
        """The user with `columns`. A zero or absent working time or rate is left out, not shown as 0."""
        shown = cls(id=user.id, name=user.name)
        if "email" in columns:
            shown.email = user.email
        if "flags" in columns:
            shown.owner, shown.admin, shown.two_factor = user.owner, user.admin, user.two_factor_enabled
            shown.active, shown.joined, shown.invite_sent = user.active, user.joined, user.invite_sent
            shown.locked = bool(user.account_locked_at)
            shown.locked_since = user.account_locked_at[:10] if user.account_locked_at else None
        if "teams" in columns:
            shown.groups = [Ref(id=g.id, name=g.name) for g in user.groups or ()]
        if "workspaces" in columns:
            shown.workspaces = [Ref(id=w.id, name=w.name) for w in user.workspaces or ()]
        if "tags" in columns:
            shown.tags = [Ref(id=t.id, name=t.label) for t in user.tags or ()]
        if "working_hours" in columns:
            shown.working_hours = user.working_hours or None
        rate = user.rate
        if "rate" in columns and rate is not None and rate.hourly_rate:
            where = next((w.name for w in user.workspaces or () if w.id == rate.workspace_id), None)
            shown.rate = HourlyRate(
                hourly_rate=rate.hourly_rate, currency=rate.currency, workspace_id=rate.workspace_id, workspace=where
            )
        if "custom_fields" in columns and user.custom_field_values:
            shown.custom_fields = _custom_fields_shown(user.custom_field_values)
        return shown

    @classmethod
    def from_member(cls, m: Member, snap: Snapshot, columns: frozenset[str]) -> User:
        """The member with `columns`, as from_api shows the API's record (no record is built for it).

        Built from plain values in one validation (pydantic's core), not field by field: assigning each
        column and building each Ref apart cost as much again for the hundreds of members a long
        listing shows."""
        names = snap.names
        shown: dict[str, Any] = {"id": m.id, "name": m.name}
        if "email" in columns:
            shown["email"] = m.email
        if "flags" in columns:
            shown |= {"owner": m.owner, "admin": m.admin, "two_factor": m.two_factor, "active": m.active}
            shown |= {"joined": m.joined, "invite_sent": m.invite_sent, "locked": bool(m.locked_at)}
            shown["locked_since"] = m.locked_at[:10] if m.locked_at else None
        if "teams" in columns:
            shown["groups"] = [{"id": g, "name": names.groups.get(g, ("",))[0]} for g in m.groups]
        if "workspaces" in columns:
            shown["workspaces"] = [{"id": w, "name": names.workspaces.get(w, "")} for w in m.workspaces]
        if "tags" in columns:
            shown["tags"] = [{"id": t, "name": names.tags.get(t, ("",))[0]} for t in m.tags]
        if "working_hours" in columns:
            shown["working_hours"] = m.working_hours
        if "rate" in columns and m.rate:
            where = names.workspaces.get(m.rate_workspace) if m.rate_workspace in m.workspaces else None
            shown["rate"] = {
                "hourly_rate": m.rate,
                "currency": m.currency,
                "workspace_id": m.rate_workspace,
                "workspace": where,
            }
        return cls.model_validate(shown)


class UsersResult(Result):
    users: list[User] = Field(default_factory=list)
    counts: UserCounts | None = Field(default=None, description="count_only: the counts, no users.")
    page: int | None = None
    next_page: int | None = Field(default=None, description="Set when the page was full.")
    complete: bool | None = Field(default=None, description="true: no further page.")
    pages_read: int | None = None
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


def _custom_fields_shown(values: list[dict[str, Any]]) -> dict[str, Any]:
    return {str(v.get("custom_field_name") or v.get("custom_field_id")): _field_value(v) for v in values}


def _field_value(value: dict[str, Any]) -> Any:
    """A custom field's value by option name where the API names the options it selects."""
    options = value.get("selected_options")
    if isinstance(options, list) and options:
        return [o.get("option_name", o.get("option_id")) for o in options if isinstance(o, dict)]
    return value.get("value")


# The spec's words on GET users' answer: custom_field_values is present only for such a caller.
NO_CUSTOM_FIELDS = (
    " No custom field values came back: the API sends them only when the caller holds "
    "view_workspace_user_custom_fields and the beta is enabled."
)
USER_FLAGS = (  # (flag shown, field, value that shows it)
    ("owner", "owner", True),
    ("admin", "admin", True),
    ("2fa", "two_factor", True),
    ("inactive", "active", False),
    ("not-joined", "joined", False),
    ("invite-sent", "invite_sent", True),
)
FLAGS_LEGEND = (
    "Flags appear only when true (owner admin 2fa inactive not-joined invite-sent, locked since DATE): "
    "no 2fa means 2FA off, no inactive means active."
)
USER_REFS = (("groups", "teams"), ("workspaces", "ws"), ("tags", "tags"))
COLUMN_LABELS = (
    ("teams", "teams"),
    ("workspaces", "ws"),
    ("tags", "tags"),
    ("working_hours", "working hours"),
    ("rate", "hourly rate"),
    ("custom_fields", "fields name=value"),
)


def user_legend(columns: frozenset[str], users: list[User]) -> str:
    """What a line holds, in the order user_line writes it."""
    if not any(u.working_hours is not None for u in users):
        columns -= {"working_hours"}
    if not any(u.rate is not None for u in users):
        columns -= {"rate"}
    if not any(u.custom_fields for u in users):
        columns -= {"custom_fields"}
    first = ["id name", *(["<email>"] if "email" in columns else []), *(["flags"] if "flags" in columns else [])]
    parts = [" ".join(first), *(label for column, label in COLUMN_LABELS if column in columns)]
    return "Line: " + " | ".join(parts) + "." + (" " + FLAGS_LEGEND if "flags" in columns else "")


def user_id_legend(users: list[User]) -> tuple[str, frozenset[str]]:
    """One line naming every team, workspace and tag id once, and the names that need their id inline."""
    parts, ambiguous = [], set()
    for field, label in USER_REFS:
        pairs = sorted({(r.name, r.id) for user in users for r in getattr(user, field) or ()})
        previous = None
        for name, _ in pairs:  # sorted, so a name with several ids comes several times in a row
            if name == previous or not name:
                ambiguous.add(name)
            previous = name
        if pairs:
            parts.append(f"{label} " + ", ".join([f"{name}={i}" for name, i in pairs]))
    return ("Ids: " + " | ".join(parts) if parts else ""), frozenset(ambiguous)


def _names(refs: list[Ref], ambiguous: frozenset[str]) -> str:
    return ", ".join(f"{r.name}#{r.id}" if r.name in ambiguous else r.name for r in refs)


def user_line(user: User, ambiguous: frozenset[str] = frozenset()) -> str:
    """One user; teams, workspaces and tags by name (their ids are in the legend line)."""
    first = [f"{user.id} {user.name}", *([f"<{user.email}>"] if user.email is not None else [])]
    first += [shown for shown, field, value in USER_FLAGS if getattr(user, field) is value]
    if user.locked:
        first.append(f"locked since {user.locked_since}" if user.locked_since else "locked")
    parts = [" ".join(first)]
    if user.groups is not None:
        parts.append(f"teams {_names(user.groups, ambiguous)}" if user.groups else "no team")
    if user.workspaces:
        parts.append("ws " + _names(user.workspaces, ambiguous))
    if user.tags:
        parts.append("tags " + _names(user.tags, ambiguous))
    if user.working_hours is not None:
        parts.append(f"working hours {user.working_hours:g}")
    if user.rate is not None:
        rate = user.rate
        where = rate.workspace or (f"workspace {rate.workspace_id}" if rate.workspace_id else None)
        text = f"hourly rate {rate.hourly_rate:g} {rate.currency or ''}".rstrip()
        parts.append(f"{text} ({where})" if where else text)
    if user.custom_fields:
        parts.append("fields " + ", ".join(f"{k}={_shown(v)}" for k, v in user.custom_fields.items()))
    return " | ".join(parts)


def _shown(value: Any) -> str:
    return "/".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _columns(args: ListUsersArgs) -> frozenset[str]:
    """The columns shown: `fields`, else the listed ones (rates and hours only when asked: short lines)."""
    return frozenset(LISTED_COLUMNS if args.fields is None else args.fields)


def _in_all(args: ListUsersArgs, users: list[Member]) -> str:
    """For a filter given several ids, how many of the users kept hold every one of them (the snapshot,
    as the API is taken to, keeps users with any of them)."""
    held: dict[str, Callable[[Member], tuple[int, ...]]] = {
        "teams": lambda u: u.groups,
        "workspaces": lambda u: u.workspaces,
        "tags": lambda u: u.tags,
    }
    given = {"teams": args.groups, "workspaces": args.workspaces, "tags": args.tag_ids}
    said = [
        f"{sum(1 for u in users if set(ids) <= set(held[label](u)))} in all {len(set(ids))} {label} given"
        for label, ids in given.items()
        if ids and len(set(ids)) > 1
    ]
    return f" (of them {', '.join(said)})" if said else ""


def _kept_here(args: ListUsersArgs) -> list[tuple[str, Callable[[Member], bool]]]:
    """(what, test) for each filter the API does not have."""
    kept: list[tuple[str, Callable[[Member], bool]]] = []
    if args.status:
        tests = [STATUS_OF[s] for s in args.status]
        kept.append((" or ".join(args.status), lambda u: any(test(u) for test in tests)))
    if args.two_factor is not None:
        kept.append((f"2FA {'on' if args.two_factor else 'off'}", lambda u: u.two_factor is args.two_factor))
    if args.min_teams is not None:
        n = args.min_teams
        kept.append((f"in {n}+ teams", lambda u: len(u.groups) >= n))
    return kept


async def list_users(args: ListUsersArgs, ctx: Context) -> CallToolResult:
    """List or count the organization's users (members).

    Counts cover everyone; max_items and page bound only the lines shown."""
    state = app_state(ctx)
    if args.fields and "custom_fields" in args.fields and len(args.workspaces or ()) != 1:
        raise ToolError(
            "fields custom_fields needs exactly one workspace in `workspaces` (the API reads custom fields per "
            "workspace): add workspaces=[id], from list_workspaces."
        )
    org = organization(args, state)

    async def on_page(done: int) -> None:
        await progress(ctx, done, None, "users")

    view = await snapshots(state.client).view(org, args.fresh, on_page)
    snap = view.snapshot
    kept_here = _kept_here(args)
    users = matching_users(common_fields_as(args, UsersQuery), snap, [test for _, test in kept_here])
    kept = f" {', '.join(what for what, _ in kept_here)}" if kept_here else ""
    which = counted(len(users), "user") + kept + _in_all(args, users)
    checked = f"of {counted(len(snap.members), 'member')}, every one checked"
    if snap.short:  # the quota stopped the read: said in every answer until a read can finish
        checked = f"of the {counted(len(snap.members), 'member')} read, not all: {snap.short}"
    note = f" {view.note}" if view.note else ""
    if args.count_only:
        counts = count_users(users, snap.names)
        heading = [f"Counts of {which} ({checked}).{note}"]
        return answer(state, heading + counts_lines(counts), UsersResult(counts=counts, complete=not snap.short))
    extra: dict[str, Any] = {}
    shown, first = users, 0
    if args.page is not None or args.per_page is not None:
        per_page = args.per_page or DEFAULT_PER_PAGE
        page = args.page or 1
        first = (page - 1) * per_page
        shown = users[first : first + per_page]
        extra["page"] = page
        if first + per_page < len(users):
            extra["next_page"] = page + 1
    shown = shown[: args.max_items]
    more = len(users) - first - len(shown)
    if more > 0:
        where = f"{first + 1}-{first + len(shown)}" if shown else "none"
        then = f"page={extra['next_page']}" if "next_page" in extra else "a higher max_items, or filters"
        heading = [f"{which} ({checked}); shown {where}: {more} more after them ({then}).{note}"]
    else:
        extra["complete"] = not snap.short
        heading = [f"{which} ({checked}){'' if snap.short else '; complete'}.{note}"]
    columns = _columns(args)
    # Only what the answer may show is rendered (6,000 lines are not built to show 450).
    fitting = may_fit([_size(m, columns, args.detail) for m in shown], state.settings.max_response_chars)
    after, shown = len(shown) - fitting, shown[:fitting]
    records = [User.from_member(m, snap, columns) for m in shown]
    full = [snap.record(m) for m in shown] if args.detail else None
    if "custom_fields" in columns and shown:
        values = await _custom_fields(state, org, args, [m.id for m in shown])
        if not any(values.values()):
            heading[0] += NO_CUSTOM_FIELDS
        for n, m in enumerate(shown):
            if given := values.get(m.id):
                records[n].custom_fields = _custom_fields_shown(given)
                if full is not None:
                    full[n]["custom_field_values"] = given
    legend, ambiguous = user_id_legend(records)
    if records and not args.detail:
        heading += [user_legend(columns, records), *([legend] if legend else [])]
    narrow = "add filters, fewer fields, or a lower max_items"
    said = f"and {after} more after those; {narrow}" if after else narrow
    result = listing(state, heading, "users", records, lambda u: user_line(u, ambiguous), extra, said, full)
    return cut_beyond(result, after, narrow)


def _size(m: Member, columns: frozenset[str], detail: bool) -> int:
    """A member's line length, estimated from what it shows (a detail record is about three times it)."""
    size = 12 + min(len(m.name), 120) + (min(len(m.email), 120) + 3 if "email" in columns else 0)
    size += 30 * len(m.groups) * ("teams" in columns) + 20 * len(m.workspaces) + 12 * len(m.tags)
    return size * 3 if detail else size


async def _custom_fields(state: AppState, org: int, args: ListUsersArgs, ids: list[int]) -> dict[int, Any]:
    """The custom field values of the users shown, read now for them only (the API gives them a
    workspace at a time, so the snapshot does not hold them): one request per 100 users shown."""
    found: dict[int, Any] = {}
    for start in range(0, len(ids), REQUESTED_PER_PAGE):
        chunk = ids[start : start + REQUESTED_PER_PAGE]
        query = UsersQuery(
            org_user_ids=chunk, workspaces=args.workspaces, include_custom_fields=True, per_page=len(chunk)
        )
        for user in await state.client.list_users(org, query, fresh=args.fresh):
            found[user.id] = user.custom_field_values
    return found


TOOLS = [ToolSpec(list_users, "List users", ListUsersArgs, UsersResult, READ_ONLY)]
