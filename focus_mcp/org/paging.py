"""What reading pages shares: the page size asked for, the hour's reserve, the quota check before a
request the hour cannot finish, progress, and pages read at once (gather).

Neither the spec nor the docs give a maximum per_page, so pages are asked for at REQUESTED_PER_PAGE
and the answer is never assumed to be that long (org/read.py reads the members, team_pages.py a
workspace's teams); every multi-page read leaves QUOTA_RESERVE requests of the hour to writes and
single reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from focus_mcp.api.errors import human_duration
from focus_mcp.toolkit.base import AppState, ReadOrgArgs

REQUESTED_PER_PAGE = 100
QUOTA_RESERVE = 5  # requests of the hour that reading every page never spends
T = TypeVar("T")


DETAIL = Field(default=False, description="Full API records.")


class PagingArgs(ReadOrgArgs):
    all_pages: bool = False  # every member is read anyway (the snapshot): kept so older calls still work
    max_items: int = Field(default=1000, ge=1, strict=True)  # the lines shown at most, never what is counted
    detail: bool = DETAIL


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
