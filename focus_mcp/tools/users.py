"""list_users: the organization's members, one line each, filtered as the API allows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import OrganizationUser, UsersQuery
from focus_mcp.tools.base import READ_ONLY, Ref, Result, ToolSpec, app_state, narrowed, organization
from focus_mcp.tools.paging import REQUESTED_PER_PAGE, PagingArgs, check_paging, pages_in_order, progress
from focus_mcp.tools.render import listing

Status = Literal["active", "inactive", "invited", "locked"]
STATUS_OF: dict[str, Callable[[OrganizationUser], bool]] = {
    "active": lambda u: u.active and u.joined,
    "inactive": lambda u: not u.active,
    "invited": lambda u: u.invite_sent and not u.joined,
    "locked": lambda u: bool(u.account_locked_at),
}


class ListUsersArgs(UsersQuery, PagingArgs):
    status: Annotated[list[Status], Field(min_length=1, max_length=4)] | None = Field(
        default=None,
        description="Any of: active (and joined), inactive, invited (not joined), locked. Reads every page.",
    )


class HourlyRate(BaseModel):
    hourly_rate: float
    currency: str | None = None
    workspace_id: int | None = None


class User(BaseModel):
    id: int = Field(description="Organization user id.")
    name: str
    email: str
    owner: bool = False
    admin: bool = False
    two_factor: bool = False
    active: bool = True
    joined: bool = True
    invite_sent: bool = False
    locked: bool = False
    locked_since: str | None = Field(default=None, description="Date the account was locked.")
    groups: list[Ref] = Field(default_factory=list, description="Teams the user is in.")
    workspaces: list[Ref] = Field(default_factory=list)
    tags: list[Ref] = Field(default_factory=list)
    working_hours: float | None = None
    rate: HourlyRate | None = None
    custom_fields: dict[str, Any] | None = None

    @classmethod
    def from_api(cls, user: OrganizationUser) -> User:
        """The summary of one user. Working hours and rates come only when asked for (include_*), and
        a zero or absent value is left out rather than shown as 0."""
        rate = user.rate
        return cls(
            id=user.id,
            name=user.name,
            email=user.email,
            owner=user.owner,
            admin=user.admin,
            two_factor=user.two_factor_enabled,
            active=user.active,
            joined=user.joined,
            invite_sent=user.invite_sent,
            locked=bool(user.account_locked_at),
            locked_since=user.account_locked_at[:10] if user.account_locked_at else None,
            groups=[Ref(id=g.id, name=g.name) for g in user.groups or ()],
            workspaces=[Ref(id=w.id, name=w.name) for w in user.workspaces or ()],
            tags=[Ref(id=t.id, name=t.label) for t in user.tags or ()],
            working_hours=user.working_hours or None,
            rate=HourlyRate(hourly_rate=rate.hourly_rate, currency=rate.currency, workspace_id=rate.workspace_id)
            if rate is not None and rate.hourly_rate
            else None,
            custom_fields={
                str(v.get("custom_field_name") or v.get("custom_field_id")): _field_value(v)
                for v in user.custom_field_values
            }
            if user.custom_field_values
            else None,
        )


class UsersResult(Result):
    users: list[User]
    page: int | None = None
    next_page: int | None = Field(default=None, description="Set when the page was full.")
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


def _field_value(value: dict[str, Any]) -> Any:
    """A custom field's value by option name where the API names the options it selects."""
    options = value.get("selected_options")
    if isinstance(options, list) and options:
        return [o.get("option_name", o.get("option_id")) for o in options if isinstance(o, dict)]
    return value.get("value")


USER_FLAGS = (  # (flag shown, field, value that shows it)
    ("owner", "owner", True),
    ("admin", "admin", True),
    ("2fa", "two_factor", True),
    ("inactive", "active", False),
    ("not-joined", "joined", False),
    ("invite-sent", "invite_sent", True),
)
USER_LEGEND = (
    "Line: id name <email> flags | teams | ws | tags. Flags appear only when true "
    "(owner admin 2fa inactive not-joined invite-sent, locked since DATE): no 2fa means 2FA off, "
    "no inactive means active."
)
USER_REFS = (("groups", "teams"), ("workspaces", "ws"), ("tags", "tags"))


def user_id_legend(users: list[User]) -> tuple[str, frozenset[str]]:
    """One line naming every team, workspace and tag id once, and the names that need their id inline."""
    parts, ambiguous = [], set()
    for field, label in USER_REFS:
        pairs = sorted({(r.name, r.id) for user in users for r in getattr(user, field)})
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
    flags = [shown for shown, field, value in USER_FLAGS if getattr(user, field) is value]
    if user.locked:
        flags.append(f"locked since {user.locked_since}" if user.locked_since else "locked")
    parts = [" ".join([f"{user.id} {user.name} <{user.email}>", *flags])]
    parts.append(f"teams {_names(user.groups, ambiguous)}" if user.groups else "no team")
    if user.workspaces:
        parts.append("ws " + _names(user.workspaces, ambiguous))
    if user.tags:
        parts.append("tags " + _names(user.tags, ambiguous))
    if user.working_hours is not None:
        parts.append(f"working hours {user.working_hours:g}")
    if user.rate is not None:
        rate = user.rate
        where = next((w.name for w in user.workspaces if w.id == rate.workspace_id), None)
        where = where or (f"workspace {rate.workspace_id}" if rate.workspace_id else None)
        text = f"hourly rate {rate.hourly_rate:g} {rate.currency or ''}".rstrip()
        parts.append(f"{text} ({where})" if where else text)
    if user.custom_fields:
        parts.append("fields " + ", ".join(f"{k}={_shown(v)}" for k, v in user.custom_fields.items()))
    return " | ".join(parts)


def _shown(value: Any) -> str:
    return "/".join(str(v) for v in value) if isinstance(value, list) else str(value)


async def list_users(args: ListUsersArgs, ctx: Context) -> CallToolResult:
    """List the organization's users (members), with filters.

    Each line: id, name, email, flags, teams, workspaces, tags. Flags show only when true: owner,
    admin, 2fa, inactive, not-joined, invite-sent, locked since DATE (no "2fa" = 2FA off).
    has_group=false finds users in no team. Array filters match any of the ids. all_pages=true
    fetches every page.
    """
    state = app_state(ctx)
    check_paging(args, state)
    org = organization(args, state)
    query = narrowed(args, UsersQuery)
    extra: dict[str, Any] = {}
    if args.all_pages or args.status:

        async def read_page(n: int) -> list[OrganizationUser]:
            page_query = query.model_copy(update={"page": n, "per_page": REQUESTED_PER_PAGE})
            return await state.client.list_users(org, page_query, fresh=args.fresh)

        async def on_page(done: int) -> None:
            await progress(ctx, done, None, "users")

        users, capped, pages = await pages_in_order(read_page, args.max_items, on_page)
        heading = [f"{len(users)} users (all pages: {pages} read)."]
        if args.status:  # the API documents no such filter: every page is read and filtered here
            wanted = [STATUS_OF[s] for s in args.status]
            checked, users = len(users), [u for u in users if any(test(u) for test in wanted)]
            heading = [f"{len(users)} users {' or '.join(args.status)} ({checked} users on {pages} pages checked)."]
        if capped:
            heading[0] = (
                f"{len(users)} users: stopped at max_items={args.max_items}; more may exist. Raise it or filter."
            )
    else:
        users = await state.client.list_users(org, query, fresh=args.fresh)
        page = args.page or 1
        extra["page"] = page
        size = f"per_page {args.per_page}" if args.per_page else "the API's default page size"
        heading = [f"{len(users)} users, page {page} ({size})."]
        if args.per_page is not None and len(users) >= args.per_page:
            extra["next_page"] = page + 1
            heading[0] += f" Page full: more may exist, call again with page={page + 1} (or all_pages=true)."
        elif args.per_page is None and users:
            heading[0] += f" More may exist: page={page + 1}, or all_pages=true."
    records = [User.from_api(u) for u in users]
    full = [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in users] if args.detail else None
    legend, ambiguous = user_id_legend(records)
    if users and not args.detail:
        heading += [USER_LEGEND, legend] if legend else [USER_LEGEND]
    narrow = "add filters, a smaller per_page, or a lower max_items"
    return listing(state, heading, "users", records, lambda u: user_line(u, ambiguous), extra, narrow, full)


TOOLS = [ToolSpec(list_users, "List users", ListUsersArgs, UsersResult, READ_ONLY)]
