"""all_pages: every record, whatever page size the API actually serves, within the hourly quota.

Neither the spec nor the docs give a maximum per_page, so pages are asked for at REQUESTED_PER_PAGE
and the answer is never assumed to be that long: paging stops on an empty page, on a page shorter
than one the API served before (the API showed it can serve more, so that was the last), or on a
page that repeats the one before (an API that ignores `page`).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from focus_mcp.api.errors import human_duration
from focus_mcp.tools.base import AppState, ReadOrgArgs

REQUESTED_PER_PAGE = 100
T = TypeVar("T")


class PagingArgs(ReadOrgArgs):
    all_pages: bool = Field(default=False, description="Fetch every page, up to max_items.")
    max_items: int = Field(default=1000, ge=1, le=10_000, strict=True, description="Cap for all_pages.")
    detail: bool = Field(default=False, description="Full API records instead of the summary.")


def check_paging(args: PagingArgs, state: AppState) -> None:
    """all_pages: refuse before any request when it conflicts or cannot fit in the hourly quota."""
    every_page = "status" if getattr(args, "status", None) else "all_pages"
    if not (args.all_pages or every_page == "status"):
        return
    if getattr(args, "page", None) is not None or getattr(args, "per_page", None) is not None:
        raise ToolError(f"{every_page} reads every page itself: drop page and per_page.")
    needed = math.ceil(args.max_items / REQUESTED_PER_PAGE)
    check_quota(
        state,
        needed,
        f"{every_page} needs up to {needed} requests for max_items {args.max_items} (pages of up to "
        f"{REQUESTED_PER_PAGE})",
        "Lower max_items, or narrow the query with filters.",
    )


def check_quota(state: AppState, needed: int, why: str, instead: str) -> None:
    """Refuse before any request when the hourly quota left is known to be short of `needed`."""
    quota = state.client.quota
    if quota.remaining is not None and quota.remaining < needed:
        resets = quota.resets_in()
        when = f", and the quota resets in {human_duration(resets)}" if resets else ""
        raise ToolError(f"Not fetched: {why} but only {quota.remaining} are left this hour{when}. {instead}")


async def progress(ctx: Context, done: int, total: int | None, what: str) -> None:
    await ctx.report_progress(done, total, f"{done} {what} fetched")


async def pages_in_order(
    read_page: Callable[[int], Awaitable[list[T]]], max_items: int, on_page: Callable[[int], Awaitable[None]]
) -> tuple[list[T], bool, int]:
    """(records, stopped at max_items, pages read), reading page 1, 2, ... until the last page."""
    records: list[T] = []
    longest, page, previous = 0, 0, None
    while len(records) < max_items:
        page += 1
        batch = await read_page(page)
        if batch and batch == previous:  # the API ignores `page`: it has shown everything it will
            return records[:max_items], False, page
        records += batch
        await on_page(len(records))
        if not batch or len(batch) < longest:
            return records[:max_items], False, page
        longest, previous = max(longest, len(batch)), batch
    return records[:max_items], True, page


async def gather(calls: list[Callable[[], Awaitable[T]]], on_done: Callable[[int], Awaitable[None]]) -> list[T]:
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
