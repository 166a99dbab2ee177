"""list_users: the organization's members, one line each with the columns asked for, filtered as the
API allows and, where it has no filter (status, 2FA, number of teams), here over every page; or
only their counts (user_counts.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import IdFilter, OrganizationUser, UsersFilters, UsersQuery
from focus_mcp.tools.base import READ_ONLY, Ref, Result, ToolSpec, app_state, common_fields_as, organization
from focus_mcp.tools.paging import REQUESTED_PER_PAGE, PagingArgs, check_paging, pages_in_order, progress
from focus_mcp.tools.render import answer, counted, listing
from focus_mcp.tools.user_counts import STATUS_OF, UserCounts, count_users, counts_lines

# Sent when the call gives no per_page, so that a page shorter than this can end the listing (see
# _may_be_the_apis_page_size: the API may cap pages).
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
            shown.custom_fields = {
                str(v.get("custom_field_name") or v.get("custom_field_id")): _field_value(v)
                for v in user.custom_field_values
            }
        return shown


class UsersResult(Result):
    users: list[User] = Field(default_factory=list)
    counts: UserCounts | None = Field(default=None, description="count_only: the counts, no users.")
    page: int | None = None
    next_page: int | None = Field(default=None, description="Set when the page was full.")
    complete: bool | None = Field(default=None, description="true: no further page.")
    pages_read: int | None = None
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


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
    """The columns shown: `fields`; without it the default ones, and working hours, rates and custom
    fields where the API sends them."""
    if args.fields is None:
        return frozenset((*LISTED_COLUMNS, "rate", "working_hours", "custom_fields"))
    return frozenset(args.fields)


def _may_be_the_apis_page_size(served: int, longest_before: int) -> bool:
    """Whether a page shorter than asked could still be followed by more: neither Toggl source gives a
    page cap or a default, so nothing may assume the API served all it was asked for. It was the
    last page when the API has served longer pages before; a page cap, were there one, would be a
    round number (10, 20, 25, 50...), so a short page of another length, or under 10, is the last."""
    return served >= longest_before and served >= 10 and served % 5 == 0


def _in_all(args: ListUsersArgs, users: list[OrganizationUser]) -> str:
    """For a filter given several ids, how many of the users listed hold every one of them, counted
    from the records (the spec does not say whether the API keeps users with any or all of them)."""
    held: dict[str, Callable[[OrganizationUser], set[int]]] = {
        "teams": lambda u: {g.id for g in u.groups or ()},
        "workspaces": lambda u: {w.id for w in u.workspaces or ()},
        "tags": lambda u: {t.id for t in u.tags or ()},
    }
    given = {"teams": args.groups, "workspaces": args.workspaces, "tags": args.tag_ids}
    said = [
        f"{sum(1 for u in users if set(ids) <= held[label](u))} in all {len(set(ids))} {label} given"
        for label, ids in given.items()
        if ids and len(set(ids)) > 1
    ]
    return f" (of them {', '.join(said)})" if said else ""


def _kept_here(args: ListUsersArgs) -> list[tuple[str, Any]]:
    """(what, test) for each filter the API does not have, applied here to every page."""
    kept: list[tuple[str, Any]] = []
    if args.status:
        tests = [STATUS_OF[s] for s in args.status]
        kept.append((" or ".join(args.status), lambda u: any(test(u) for test in tests)))
    if args.two_factor is not None:
        kept.append((f"2FA {'on' if args.two_factor else 'off'}", lambda u: u.two_factor_enabled is args.two_factor))
    if args.min_teams is not None:
        n = args.min_teams
        kept.append((f"in {n}+ teams", lambda u: len(u.groups or ()) >= n))
    return kept


async def list_users(args: ListUsersArgs, ctx: Context) -> CallToolResult:
    """List or count the organization's users (members).

    status, two_factor, min_teams and count_only read every page."""
    state = app_state(ctx)
    kept_here = _kept_here(args)
    reasons = {
        "count_only": args.count_only,
        "status": bool(args.status),
        "two_factor": args.two_factor is not None,
        "min_teams": args.min_teams is not None,
        "all_pages": args.all_pages,
    }
    why = [name for name, reads_every_page in reasons.items() if reads_every_page]
    every_page, what = bool(why), (why or ["all_pages"])[0]
    ignored = check_paging(
        args.model_copy(update={"all_pages": every_page}), state, page=args.page, per_page=args.per_page, what=what
    )
    if args.fields and "custom_fields" in args.fields and len(args.workspaces or ()) != 1:
        raise ToolError(
            "fields custom_fields needs exactly one workspace in `workspaces` (the API reads custom fields per "
            "workspace): add workspaces=[id], from list_workspaces."
        )
    org = organization(args, state)
    columns = _columns(args)
    query = common_fields_as(args, UsersQuery)
    wire: dict[str, Any] = {}
    if args.count_only:  # the same pages, with what the counts spread (rates, working hours)
        wire |= {"include_rates": True, "include_working_hours": True}
    elif args.fields:
        wire |= {"include_rates": True} if "rate" in args.fields else {}
        wire |= {"include_working_hours": True} if "working_hours" in args.fields else {}
        wire |= {"include_custom_fields": True} if "custom_fields" in args.fields else {}
    if args.min_teams and args.has_group is None:  # the API keeps only users in some team: fewer pages
        wire["has_group"] = True
    query = query.model_copy(update=wire)
    extra: dict[str, Any] = {}
    if every_page:

        async def read_page(n: int) -> list[OrganizationUser]:
            page_query = query.model_copy(update={"page": n, "per_page": REQUESTED_PER_PAGE})
            return await state.client.list_users(org, page_query, fresh=args.fresh)

        async def on_page(done: int) -> None:
            await progress(ctx, done, None, "users")

        paged = await pages_in_order(read_page, args.max_items, on_page, state.client.quota)
        users, pages, read = paged.records, paged.pages, len(paged.records)
        for _, test in kept_here:
            users = [u for u in users if test(u)]
        extra.update(pages_read=pages, complete=paged.complete)
        kept = f" {', '.join(what for what, _ in kept_here)}" if kept_here else ""
        which = counted(len(users), "user") + kept + _in_all(args, users)
        some_team = " in some team" if "has_group" in wire else ""  # min_teams asked the API for those only
        checked = (
            f"{counted(read, 'user')}{some_team} on {counted(pages, 'page')} checked"
            if kept_here or not paged.complete
            else f"all pages: {pages} read"
        )
        end = (
            f"stopped at max_items={args.max_items}: more may exist. Raise it or filter."
            if paged.capped
            else "complete."
        )
        end = f"{paged.short_of_quota}: more may exist." if paged.short_of_quota else end
        heading = [f"{which} ({checked}); {end}" + (f" {ignored}" if ignored else "")]
        if args.count_only:
            counts = count_users(users)
            heading[0] = "Counts of " + heading[0]
            return answer(state, heading + counts_lines(counts), UsersResult(counts=counts, **extra))
    else:
        per_page = args.per_page or DEFAULT_PER_PAGE
        longest_before = state.client.longest_users_page
        users = await state.client.list_users(org, query.model_copy(update={"per_page": per_page}), fresh=args.fresh)
        page = args.page or 1
        extra["page"] = page
        heading = [f"{counted(len(users), 'user')}{_in_all(args, users)}, page {page} (per_page {per_page})."]
        if len(users) >= per_page:
            extra["next_page"] = page + 1
            heading[0] += f" Page full: more may exist, call again with page={page + 1} (or all_pages=true)."
        elif _may_be_the_apis_page_size(len(users), longest_before):
            extra["next_page"] = page + 1
            heading[0] += (
                f" The API may serve at most {len(users)} a page: more may exist, call again with page={page + 1} "
                "(or all_pages=true)."
            )
        else:
            extra["complete"] = True
            heading[0] += " The last page: no more users." if page > 1 else " Complete: no further page."
    if "custom_fields" in (args.fields or ()) and users and not any(u.custom_field_values for u in users):
        heading[0] += NO_CUSTOM_FIELDS
    records = [User.from_api(u, columns) for u in users]
    full = [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in users] if args.detail else None
    legend, ambiguous = user_id_legend(records)
    if users and not args.detail:
        heading += [user_legend(columns, records), *([legend] if legend else [])]
    narrow = "add filters, fewer fields, a smaller per_page, or a lower max_items"
    return listing(state, heading, "users", records, lambda u: user_line(u, ambiguous), extra, narrow, full)


TOOLS = [ToolSpec(list_users, "List users", ListUsersArgs, UsersResult, READ_ONLY)]
