"""The read tools: users, teams, my groups, roles, member tags."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult
from pydantic import Field

from focus_mcp.api.errors import human_duration
from focus_mcp.api.models import Group, TeamsQuery, UsersQuery, UserSummary
from focus_mcp.registry import AppState
from focus_mcp.toolkit import (
    ReadOrgArgs,
    ReadWorkspaceArgs,
    Result,
    app_state,
    listing,
    narrowed,
    organization,
    workspace,
)
from focus_mcp.trim import (
    USER_LEGEND,
    MyGroup,
    RoleSummary,
    Tag,
    Team,
    User,
    my_group_line,
    my_group_record,
    role_line,
    role_record,
    tag_line,
    tag_record,
    team_line,
    team_record,
    user_id_legend,
    user_line,
    user_record,
)

PAGE_MAX = 100  # the API's cap on per_page
T = TypeVar("T")


class PagingArgs(ReadOrgArgs):
    all_pages: bool = Field(default=False, description="Fetch every page (100 each) up to max_items.")
    max_items: int = Field(default=1000, ge=1, le=10_000, description="Cap for all_pages.")
    detail: bool = Field(default=False, description="Full API records instead of the summary.")


class ListUsersArgs(UsersQuery, PagingArgs):
    pass


class ListTeamsArgs(TeamsQuery, PagingArgs, ReadWorkspaceArgs):
    pass


class UsersResult(Result):
    users: list[User]
    page: int | None = None
    next_page: int | None = Field(default=None, description="Set when the page was full.")
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


class TeamsResult(Result):
    teams: list[Team]
    total: int
    page: int | None = None
    next_page: int | None = None
    records: list[dict[str, Any]] | None = Field(default=None, description="Full API records (detail=true).")


class RolesResult(Result):
    roles: list[RoleSummary]


class TagsResult(Result):
    tags: list[Tag]


class MyGroupsResult(Result):
    groups: list[MyGroup]


def _check_paging(args: PagingArgs, state: AppState) -> None:
    """all_pages: refuse before any request when it conflicts or cannot fit in the hourly quota."""
    if not args.all_pages:
        return
    if getattr(args, "page", None) is not None or getattr(args, "per_page", None) is not None:
        raise ToolError("all_pages fetches every page itself (100 per page): drop page and per_page.")
    needed = math.ceil(args.max_items / PAGE_MAX)
    quota = state.client.quota
    if quota.remaining is not None and quota.remaining < needed:
        resets = quota.resets_in()
        when = f", and the quota resets in {human_duration(resets)}" if resets else ""
        raise ToolError(
            f"Not fetched: all_pages may need up to {needed} requests (max_items {args.max_items} at {PAGE_MAX} "
            f"per page) but only {quota.remaining} are left this hour{when}. Lower max_items to "
            f"{quota.remaining * PAGE_MAX} or less, or narrow the query with filters."
        )


async def _progress(ctx: Context, done: int, total: int | None, what: str) -> None:
    await ctx.report_progress(done, total, f"{done} {what} fetched")


async def list_users(args: ListUsersArgs, ctx: Context) -> CallToolResult:
    """List the organization's users (members), with filters.

    Each line: id, name, email, flags, teams, workspaces, tags. Flags show only when true: owner,
    admin, 2fa, inactive, not-joined, invite-sent, locked (no "2fa" = 2FA off). has_group=false
    finds users in no team. Array filters match any of the ids. all_pages=true fetches every page.
    """
    state = app_state(ctx)
    _check_paging(args, state)
    org = organization(args, state)
    query = narrowed(args, UsersQuery)
    head: list[str]
    extra: dict[str, Any] = {}
    read: Callable[..., Awaitable[list[Any]]] = (
        state.client.list_users if args.detail else state.client.list_user_summaries
    )
    if args.all_pages:
        users, capped = await _all_users(read, org, query, args, ctx)
        head = [f"{len(users)} users (all pages)."]
        if capped:
            head[0] = (
                f"{len(users)} users: stopped at max_items={args.max_items}; more may exist. Raise max_items or filter."
            )
    else:
        users = await read(org, query, fresh=args.fresh)
        page = args.page or 1
        extra["page"] = page
        size = f"per_page {args.per_page}" if args.per_page else "the API's default page size"
        head = [f"{len(users)} users, page {page} ({size})."]
        if args.per_page is not None and len(users) >= args.per_page:
            extra["next_page"] = page + 1
            head[0] += f" Page full: more may exist, call again with page={page + 1} (or all_pages=true)."
        elif args.per_page is None and users:
            head[0] += f" If more may exist: page={page + 1}, per_page=100 or all_pages=true."
    full = [u.model_dump(mode="json", by_alias=True, exclude_none=True) for u in users] if args.detail else None
    # A full record dumped by alias has the API's keys, as a UserSummary has.
    records = [user_record(u) for u in cast("list[UserSummary]", full if full is not None else users)]
    legend, ambiguous = user_id_legend(records)
    if users and not args.detail:
        head += [USER_LEGEND, legend] if legend else [USER_LEGEND]
    return listing(
        state,
        head,
        "users",
        records,
        lambda u: user_line(u, ambiguous),
        extra,
        "add filters, a smaller per_page, or a lower max_items",
        full,
    )


async def _all_users(
    read: Callable[..., Awaitable[list[T]]], org: int, query: UsersQuery, args: ListUsersArgs, ctx: Context
) -> tuple[list[T], bool]:
    """Pages of 100 in order until a short page, or max_items."""
    users: list[T] = []
    page = 1
    while len(users) < args.max_items:
        batch = await read(org, query.model_copy(update={"page": page, "per_page": PAGE_MAX}), fresh=args.fresh)
        users += batch
        await _progress(ctx, len(users), None, "users")
        if len(batch) < PAGE_MAX:
            return users[: args.max_items], False
        page += 1
    return users[: args.max_items], True


async def list_teams(args: ListTeamsArgs, ctx: Context) -> CallToolResult:
    """List the teams (groups) of a workspace: id, emoji, name, workspaces, members and ghosts.

    Members are organization users (name#id); ghosts are placeholder members without an account.
    filter matches team names; query matches team or member names. all_pages=true fetches every page.
    """
    state = app_state(ctx)
    _check_paging(args, state)
    org, ws = organization(args, state), workspace(args, state)
    query = narrowed(args, TeamsQuery)
    extra: dict[str, Any] = {}
    if args.all_pages:
        groups, total = await _all_teams(state, org, ws, query, args, ctx)
        head = [f"{len(groups)} of {total} teams (all pages)."]
        if len(groups) < total:
            head[0] += f" Stopped at max_items={args.max_items}: raise it or use filter."
    else:
        found = await state.client.list_teams(org, ws, query, fresh=args.fresh)
        groups, total = found.data, found.total
        page = found.page or args.page or 1
        size = args.per_page or max(found.rows, len(groups)) or 1
        head = [f"{len(groups)} of {total} teams, page {page}."]
        extra["page"] = page
        if groups and total > (page - 1) * size + len(groups):
            extra["next_page"] = page + 1
            head[0] += f" More: call again with page={page + 1} (or all_pages=true)."
    extra["total"] = total
    full = [g.model_dump(mode="json", by_alias=True, exclude_none=True) for g in groups] if args.detail else None
    records = [team_record(g) for g in groups]
    return listing(state, head, "teams", records, team_line, extra, "use filter or a smaller per_page", full)


async def _all_teams(
    state: AppState, org: int, ws: int, query: TeamsQuery, args: ListTeamsArgs, ctx: Context
) -> tuple[list[Group], int]:
    """The first page tells the total; the other pages are fetched concurrently."""

    def page(n: int) -> Callable[[], Awaitable[list[Group]]]:
        async def fetch() -> list[Group]:
            found = await state.client.list_teams(
                org, ws, query.model_copy(update={"page": n, "per_page": PAGE_MAX}), fresh=args.fresh
            )
            return found.data

        return fetch

    first = await state.client.list_teams(
        org, ws, query.model_copy(update={"page": 1, "per_page": PAGE_MAX}), fresh=args.fresh
    )
    wanted = min(first.total, args.max_items)
    pages = max(1, math.ceil(wanted / PAGE_MAX))
    await _progress(ctx, 1, pages, "pages of teams")
    rest = await _gather(
        [page(n) for n in range(2, pages + 1)], lambda done: _progress(ctx, 1 + done, pages, "pages of teams")
    )
    groups = [*first.data, *(g for batch in rest for g in batch)]
    return groups[: args.max_items], first.total


async def _gather(calls: list[Callable[[], Awaitable[T]]], on_done: Callable[[int], Awaitable[None]]) -> list[T]:
    """Run `calls` concurrently; results in order."""
    results: list[Any] = [None] * len(calls)
    done = 0

    async def run(i: int) -> None:
        nonlocal done
        results[i] = await calls[i]()
        done += 1
        await on_done(done)

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(run, i)
    return results


async def list_my_groups(args: ReadOrgArgs, ctx: Context) -> CallToolResult:
    """List the groups (teams) the API key's own user belongs to: id, emoji, name."""
    state = app_state(ctx)
    groups = await state.client.list_my_groups(organization(args, state), fresh=args.fresh)
    records = [my_group_record(g) for g in groups]
    return listing(state, [f"You are in {len(records)} groups."], "groups", records, my_group_line, {}, "")


async def list_roles(args: ReadOrgArgs, ctx: Context) -> CallToolResult:
    """List the organization's roles: id, name, code, type, entity, privilege level, permission names."""
    state = app_state(ctx)
    roles = await state.client.list_roles(organization(args, state), fresh=args.fresh)
    records = [role_record(r) for r in roles]
    return listing(state, [f"{len(records)} roles."], "roles", records, role_line, {}, "")


async def list_member_tags(args: ReadWorkspaceArgs, ctx: Context) -> CallToolResult:
    """List the organization's member tags (id, label, color); use the ids as list_users tag_ids."""
    state = app_state(ctx)
    tags = await state.client.list_member_tags(organization(args, state), workspace(args, state), fresh=args.fresh)
    records = [tag_record(t) for t in tags]
    return listing(state, [f"{len(records)} member tags."], "tags", records, tag_line, {}, "")
