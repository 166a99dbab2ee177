"""One read of an organization: every page of GET users at the largest page size the tools ask for
(with rates and working hours, so that no answer shows a placeholder), then every team of every
workspace the users are in (a few pages each, the workspaces at once), and the roles.

Its pages go around the GET cache (`keep=False`): the snapshot is their one copy in memory.
Member tags are not part of it: the users carry their tags, and GET member-tags (a workspace at a
time) is read only when list_member_tags is asked, through the client's cache.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from focus_mcp.api.client import FocusClient
from focus_mcp.api.errors import FocusError, QuotaExceededError, human_duration
from focus_mcp.api.models import Group, Role, TeamsQuery, UsersQuery
from focus_mcp.api.quota import Quota
from focus_mcp.org.model import Member, Names, Snapshot, member_of
from focus_mcp.org.paging import QUOTA_RESERVE, REQUESTED_PER_PAGE, gather
from focus_mcp.org.team_pages import every_team
from focus_mcp.render.lines import counted

Progress = Callable[[int], Awaitable[None]]
# Pages of users read at most: 1,000,000 users at 100 a page, a bound against an API that never ends.
MAX_PAGES = 10_000


async def read_snapshot(client: FocusClient, org: int, on_page: Progress | None = None) -> Snapshot:
    """Read the organization now; raises the API's error when a request fails."""
    spent = 0
    names = Names()
    members: list[Member] = []
    query = UsersQuery(per_page=REQUESTED_PER_PAGE, include_rates=True, include_working_hours=True)

    async def read_page(n: int) -> list[int]:
        nonlocal spent
        spent += 1
        users = await client.list_users(org, query.model_copy(update={"page": n}), fresh=True, keep=False)
        members.extend(member_of(u, names) for u in users)
        if on_page is not None:
            await on_page(len(members))
        return [u.id for u in users]  # enough to tell a repeated page; the records go

    short = await _every_page(read_page, client.quota)
    members = _once(members)
    teams: dict[int, Group] = {}
    gaps: list[str] = []
    spaces = sorted(names.workspaces)

    def teams_of(ws: int) -> Callable[[], Awaitable[None]]:
        async def read() -> None:
            nonlocal spent

            async def page(n: int) -> tuple[list[Group], int]:
                nonlocal spent
                spent += 1
                query = TeamsQuery(page=n, per_page=REQUESTED_PER_PAGE)
                found = await client.list_teams(org, ws, query, fresh=True, keep=False)
                return found.data, found.total

            async def no_progress(done: int, expected: int | None) -> None:
                return None

            try:
                read = await every_team(page, client.quota, no_progress)
            except QuotaExceededError:
                raise
            except FocusError as exc:  # one workspace's teams (a 403 there, a 5xx): the members still answer
                gaps.append(f"the teams of workspace {names.workspaces.get(ws) or ''}#{ws} ({exc})")
                return
            for group in read.groups:
                teams.setdefault(group.id, group)
            if read.stopped:
                gaps.append(f"the teams of workspace {names.workspaces.get(ws) or ''}#{ws} ({read.stopped})")

        return read

    async def nothing(done: int) -> None:
        return None

    if short:  # the quota stopped the members' read: the reserve is not spent on teams either
        gaps.append("no workspace's teams: the hour's quota is kept for writes")
    else:
        await gather([teams_of(ws) for ws in spaces], nothing)
    roles: list[Role] | None = await client.cached_roles(org)
    if roles is None and not short:  # kept ten times longer than the rest by the client's cache
        try:
            spent += 1
            roles = await client.list_roles(org)
        except FocusError:
            roles = None
    for group in teams.values():  # a team's own record names its workspaces: kept for members' lines
        names.groups[group.id] = (group.name, group.emoji, tuple(w.workspace_id for w in group.workspaces))
        for w in group.workspaces:
            names.workspaces.setdefault(w.workspace_id, w.name)
    snap = Snapshot(org, members, teams, names, roles, time.time(), spent, gaps, uuid.uuid4().hex)
    snap.short = short
    return snap


async def _every_page(read_page: Callable[[int], Awaitable[list[int]]], quota: Quota) -> str:
    """Read pages 1, 2, ... until the last (empty, shorter than one served before, or a repeat of the
    one before: an API that ignores `page`). Neither Toggl source gives the number of users nor a page
    cap, so no page count is assumed: a next page is read while it leaves QUOTA_RESERVE requests of the
    hour. Returns why reading stopped before the last page ("" when it did not)."""
    longest, previous, page = 0, None, 0
    while page < MAX_PAGES:
        left = quota.remaining
        if page and left is not None and left - 1 < QUOTA_RESERVE:
            resets = quota.resets_in()
            when = f", resetting in {human_duration(resets)}" if resets else ""
            return (
                f"the read stopped after {counted(page, 'page')} to spare the hourly quota ({left} left{when}, "
                f"{QUOTA_RESERVE} kept in reserve)"
            )
        page += 1
        ids = await read_page(page)
        if not ids or ids == previous or len(ids) < longest:
            return ""
        longest, previous = max(longest, len(ids)), ids
    return f"the read stopped after {MAX_PAGES} pages, every one full"


def _once(members: list[Member]) -> list[Member]:
    """Each member once (an API that served someone on two pages, as paging under changes can)."""
    seen: set[int] = set()
    kept = []
    for m in members:
        if m.id not in seen:
            seen.add(m.id)
            kept.append(m)
    return kept
