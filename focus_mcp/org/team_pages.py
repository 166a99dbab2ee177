"""Every page of a workspace's teams, from an API whose envelope's `total` is a hint, not a promise.

The first page tells the page size the API serves (whatever per_page asked) and the total it claims.
The pages that total says remain are read a few at a time (WAVE): an overstated total then costs at
most WAVE requests more, not one per page it promised. Reading stops on an empty or short page, on
reaching the total, on a page that repeats one already read (an API that ignores `page`), or before
the hourly quota's reserve (QUOTA_RESERVE). Past the total (which the rows read then prove wrong), or
without one, pages are read one at a time while they come back full.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from focus_mcp.api.client import FocusClient
from focus_mcp.api.models import Group, TeamsFilters, TeamsQuery
from focus_mcp.api.quota import Quota
from focus_mcp.org.paging import QUOTA_RESERVE, REQUESTED_PER_PAGE, gather
from focus_mcp.render.lines import counted

WAVE = 5  # pages read at once after the first
# Pages read past the total (or without one) before stopping: a bound of this server's, against an API
# that keeps serving full pages (the quota bounds it too, when the API tells it).
UNCLAIMED_PAGES = 20
PageProgress = Callable[[int, int | None], Awaitable[None]]


@dataclass
class TeamPages:
    """The teams read (each once), the total the API claimed (None: none usable), and, when reading
    stopped before the last page, why (a sentence for the answer; else "")."""

    groups: list[Group]
    claimed: int | None
    stopped: str = ""

    @property
    def total(self) -> int:
        """How many teams the workspace is known to have: those read, or more where reading stopped."""
        return max(len(self.groups), self.claimed or 0) if self.stopped else len(self.groups)


async def every_team(
    read_page: Callable[[int], Awaitable[tuple[list[Group], int]]],
    quota: Quota,
    on_page: Callable[[int, int | None], Awaitable[None]],
) -> TeamPages:
    """Read the pages (see the module's docstring). `read_page(n)` gives page n's teams and total;
    `on_page(pages read, pages expected or None)` reports progress."""
    first, total = await read_page(1)
    served = len(first)
    claimed = total if total >= served else None  # a total below the first page's rows is no total
    expected = math.ceil(claimed / served) if claimed and served else None
    pages, read, seen = [first], served, {_ids(first)}
    stopped, unclaimed = "", 0
    await on_page(1, expected)
    while served and len(pages[-1]) == served and (claimed is None or read != claimed):
        ahead = min(WAVE, expected - len(pages)) if expected and read < (claimed or 0) else 1
        unclaimed += ahead == 1 and not (expected and read < (claimed or 0))
        if unclaimed > UNCLAIMED_PAGES:
            stopped = f"Read {counted(len(pages), 'page')}, every one full, past any total the API gave"
            break
        left = quota.remaining
        if left is not None and left - ahead < QUOTA_RESERVE:
            ahead = max(0, left - QUOTA_RESERVE)
            if ahead == 0:
                of = f" of {counted(expected, 'page')}" if expected and read < (claimed or 0) else ""
                done = f"{len(pages)}{of}" if of else counted(len(pages), "page")
                stopped = f"Read {done} to spare the hourly quota ({counted(left, 'request')} left)"
                break
        start = len(pages) + 1
        wave = await gather(
            [_page(read_page, n) for n in range(start, start + ahead)],
            lambda done: on_page(len(pages) + done, expected),
        )
        for batch in wave:
            if batch and _ids(batch) in seen:
                stopped = f"The API answered page {len(pages) + 1} with teams of an earlier page (it ignores `page`)"
                break
            pages.append(batch)
            seen.add(_ids(batch))
            read += len(batch)
        if stopped:
            break
    unique = {g.id: g for batch in pages for g in batch}  # a team served twice is listed once
    return TeamPages(list(unique.values()), claimed, stopped)


def _page(
    read_page: Callable[[int], Awaitable[tuple[list[Group], int]]], n: int
) -> Callable[[], Awaitable[list[Group]]]:
    async def teams() -> list[Group]:
        return (await read_page(n))[0]

    return teams


def _ids(batch: list[Group]) -> tuple[int, ...]:
    return tuple(g.id for g in batch)


async def one_workspace(
    client: FocusClient, org: int, ws: int, filters: TeamsFilters, fresh: bool, on_page: PageProgress
) -> tuple[list[Group], str, int]:
    """A workspace's teams read from the API (a server with no organization snapshot yet: one workspace
    costs a page or two, the snapshot every page of users too), and the heading's count, which says
    what the API's total claimed and where reading stopped."""
    query = TeamsQuery(**filters.model_dump(exclude_none=True))

    async def read_page(n: int) -> tuple[list[Group], int]:
        page_query = query.model_copy(update={"page": n, "per_page": REQUESTED_PER_PAGE})
        found = await client.list_teams(org, ws, page_query, fresh=fresh)
        return found.data, found.total

    read = await every_team(read_page, client.quota, on_page)
    groups, total = read.groups, read.total
    where = next((f"{w.name}#{ws}" for g in groups for w in g.workspaces if w.workspace_id == ws and w.name), f"#{ws}")
    count = counted(len(groups), "team") if len(groups) == total else f"{len(groups)} of {total} teams"
    if read.claimed is not None and read.claimed != total:
        count += f" (the API's total said {read.claimed})"
    heading = f"{count} in workspace {where}."
    return groups, heading + (f" {read.stopped}: use filter for the others." if read.stopped else ""), total
