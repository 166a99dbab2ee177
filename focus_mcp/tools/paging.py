"""all_pages: every record, whatever page size the API actually serves, within the hourly quota.

Neither the spec nor the docs give a maximum per_page, so pages are asked for at REQUESTED_PER_PAGE
and the answer is never assumed to be that long: paging stops on an empty page, on a page shorter
than one the API served before (the API showed it can serve more, so that was the last), or on a
page that repeats the one before (an API that ignores `page`).

The quota is checked twice: before any request at REQUESTED_PER_PAGE rows a page (check_paging),
and, given the quota, after every page at the page size the API actually serves: when the pages
that max_items may still need would leave fewer than QUOTA_RESERVE requests of the hour, paging
stops with what it has and says so (Pages.short_of_quota), so that writes and single reads keep
some requests.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from focus_mcp.api.errors import human_duration
from focus_mcp.api.quota import Quota
from focus_mcp.tools.base import AppState, ReadOrgArgs
from focus_mcp.tools.render import counted

REQUESTED_PER_PAGE = 100
QUOTA_RESERVE = 5  # requests of the hour that reading every page never spends
T = TypeVar("T")


DETAIL = Field(default=False, description="Full API records.")


class PagingArgs(ReadOrgArgs):
    all_pages: bool = False
    max_items: int = Field(default=1000, ge=1, strict=True)  # the cap of all_pages: its name says it
    detail: bool = DETAIL


def check_paging(
    args: PagingArgs, state: AppState, *, page: int | None = None, per_page: int | None = None, what: str = "all_pages"
) -> str:
    """Reading every page (`what` names why: all_pages, count_only...): refuse before any request when
    max_items cannot fit in the hourly quota (less the reserve) even at REQUESTED_PER_PAGE rows a
    page. Returns a note for the answer when the call also gave page or per_page, which reading every
    page ignores (a refusal would cost the model a call to say the same)."""
    if not args.all_pages:
        return ""
    given = " and ".join(name for name, value in (("page", page), ("per_page", per_page)) if value is not None)
    needed = math.ceil(args.max_items / REQUESTED_PER_PAGE)
    check_quota(
        state,
        needed + QUOTA_RESERVE,
        f"{what} needs up to {counted(needed, 'request')} for max_items {args.max_items} (pages of up to "
        f"{REQUESTED_PER_PAGE}), and {QUOTA_RESERVE} are kept in reserve,",
        "Lower max_items, or narrow the query with filters.",
    )
    return f"({given} ignored: {what} reads every page.)" if given else ""


def check_quota(state: AppState, needed: int, why: str, instead: str, refused: str = "Not fetched") -> None:
    """Refuse (`refused`: what did not happen) before any request when the hourly quota left is known
    to be short of `needed`."""
    quota = state.client.quota
    if quota.remaining is not None and quota.remaining < needed:
        resets = quota.resets_in()
        when = f", and the quota resets in {human_duration(resets)}" if resets else ""
        left = f"{quota.remaining} is" if quota.remaining == 1 else f"{quota.remaining} are"
        raise ToolError(f"{refused}: {why} but only {left} left this hour{when}. {instead}")


async def progress(ctx: Context, done: int, total: int | None, what: str) -> None:
    await ctx.report_progress(done, total, f"{done} {what} fetched")


@dataclass
class Pages(Generic[T]):
    """What reading every page gave: the records, whether max_items stopped it (more may exist), the
    pages read, and, when the quota stopped it first, why (a sentence for the answer; else "")."""

    records: list[T]
    capped: bool
    pages: int
    short_of_quota: str = ""

    @property
    def complete(self) -> bool:
        return not self.capped and not self.short_of_quota


async def pages_in_order(
    read_page: Callable[[int], Awaitable[list[T]]],
    max_items: int,
    on_page: Callable[[int], Awaitable[None]],
    quota: Quota | None = None,
) -> Pages[T]:
    """Read page 1, 2, ... until the last page or max_items. With `quota`, stop early (with what was
    read) when the pages max_items may still need, at the page size served, would leave fewer than
    QUOTA_RESERVE requests this hour."""
    records: list[T] = []
    longest, page, previous = 0, 0, None
    while len(records) < max_items:
        if page and quota is not None and (short := _short_of_quota(quota, max_items, len(records), longest, page)):
            return Pages(records[:max_items], False, page, short)
        page += 1
        batch = await read_page(page)
        if batch and batch == previous:  # the API ignores `page`: it has shown everything it will
            return Pages(records[:max_items], False, page)
        records += batch
        await on_page(len(records))
        if not batch or len(batch) < longest:
            return Pages(records[:max_items], False, page)
        longest, previous = max(longest, len(batch)), batch
    return Pages(records[:max_items], True, page)


def _short_of_quota(quota: Quota, max_items: int, read: int, served: int, pages: int) -> str:
    """Why no further page is read ("" to go on): the pages still wanted, at `served` rows a page,
    exceed the requests left less the reserve."""
    left = quota.remaining
    if left is None or served == 0:
        return ""
    wanted = math.ceil((max_items - read) / served)
    if left - wanted >= QUOTA_RESERVE:
        return ""
    affordable = max(0, left - QUOTA_RESERVE)
    resets = quota.resets_in()
    when = f", resetting in {human_duration(resets)}" if resets else ""
    return (
        f"stopped after {pages} page{'s' if pages > 1 else ''} to spare the hourly quota: at the {served} rows a "
        f"page the API serves, max_items {max_items} needs up to {counted(wanted, 'more request')}, and {left} "
        f"{'is' if left == 1 else 'are'} left{when} ({QUOTA_RESERVE} kept in reserve). For everything, narrow the "
        f"query with filters, or lower max_items to {read + affordable * served} or less"
    )


async def gather(calls: list[Callable[[], Awaitable[T]]], on_done: Callable[[int], Awaitable[None]]) -> list[T]:
    """Run `calls` concurrently; results in order. The first call to fail stops the others (no request
    more is spent) and is raised as itself, not in an ExceptionGroup: its words (the API's) reach the model."""
    results: list[Any] = [None] * len(calls)
    done = 0
    failure: Exception | None = None

    async def run(i: int, scope: anyio.CancelScope) -> None:
        nonlocal done, failure
        try:
            results[i] = await calls[i]()
        except Exception as exc:
            failure = failure or exc
            scope.cancel()
            return
        done += 1
        await on_done(done)

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(run, i, tg.cancel_scope)
    if failure is not None:
        raise failure
    return results
