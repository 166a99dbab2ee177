"""Where the snapshots live, how old one may be, and what keeps them true after a write.

One snapshot per organization, for `Settings.cache_ttl` seconds (TOGGL_FOCUS_CACHE_TTL: "seconds a
read, the organization snapshot included, is served before a new read"). One refresh at a time per
organization: in this process an anyio lock, across replicas a Redis lock (org/shared.py). When the
hour's quota cannot pay for a new read, or the read fails on the quota, the older snapshot answers,
saying its age and when the quota resets.

Writes made through this server's client keep it true without a read (FocusClient.write_observers):
the group a POST or PUT answered replaces or adds it, a confirmed DELETE removes it, a user_role PUT
sets the member's role, a group read now (an edit's read under its turn) replaces it; a write whose
outcome is unknown marks the snapshot stale, so the next question reads anew.

Privacy: the snapshot holds names, emails and rates: in memory, and with Redis there, expiring with
its max age; never on disk, never in a log line (only counts and ages are logged).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakSet

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.client import FocusClient
from focus_mcp.api.errors import QuotaExceededError, human_duration
from focus_mcp.api.models import Group
from focus_mcp.org import changes
from focus_mcp.org.model import Snapshot
from focus_mcp.org.paging import QUOTA_RESERVE  # what a refresh leaves of the hour for writes and single reads
from focus_mcp.org.read import Progress, read_snapshot
from focus_mcp.org.shared import SharedSnapshots
from focus_mcp.render.lines import counted

log = logging.getLogger(__name__)

AGE_SAID = 60.0  # seconds: an answer from an older snapshot says when it was read
FIRST_READ = 2  # the fewest requests a first read costs: a page of users, a page of teams


@dataclass
class View:
    """A snapshot and what an answer from it should say about it ("" when nothing needs saying)."""

    snapshot: Snapshot
    note: str = ""


class OrgSnapshots:
    """The snapshots of one client (one credential), per organization."""

    def __init__(self, client: FocusClient) -> None:
        self.client = client
        self._held: dict[int, Snapshot] = {}
        self._stale: set[int] = set()
        self._locks: dict[int, anyio.Lock] = {}
        self._reading: dict[int, list[Callable[[Snapshot], None]]] = {}  # writes landed during a read
        self.shared = SharedSnapshots(client.shared) if client.shared is not None else None
        client.write_observers.append(self)

    @property
    def max_age(self) -> float:
        return self.client.settings.cache_ttl

    def clear(self) -> None:
        """Forget every snapshot (the next question reads anew)."""
        self._held.clear()

    def held(self, org: int) -> Snapshot | None:
        """This process's snapshot of `org` whatever its age (never a request)."""
        return self._held.get(org)

    async def current(self, org: int) -> Snapshot | None:
        """The snapshot of `org` if one is held (or shared) within its max age and not stale: never a read."""
        return await self._usable(org, self._held.get(org))

    async def view(self, org: int, fresh: bool = False, on_page: Progress | None = None) -> View:
        """The organization's snapshot: the one held while younger than the max age (and not stale),
        else one another replica read, else one read now."""
        held = self._held.get(org)
        if not fresh and (usable := await self._usable(org, held)) is not None:
            return View(usable, self._age_note(usable))
        async with self._locks.setdefault(org, anyio.Lock()):
            held = self._held.get(org)
            if not fresh and (usable := await self._usable(org, held)) is not None:
                return View(usable, self._age_note(usable))  # read by the caller this one waited for
            if self.shared is None:
                return await self._refresh(org, held, fresh, on_page)
            async with self.shared.refreshing(org) as locked:
                if not fresh and locked and (usable := await self._usable(org, held)) is not None:
                    return View(usable, self._age_note(usable))  # another replica read it meanwhile
                return await self._refresh(org, held, fresh, on_page)

    async def _usable(self, org: int, held: Snapshot | None) -> Snapshot | None:
        if org in self._stale:
            return None
        if self.shared is not None:
            told = await self.shared.newer(org, held)
            if told is False:  # dropped from Redis after a write of unknown outcome through another replica
                return None
            if isinstance(told, Snapshot):
                self._held[org] = held = told
        if held is None or time.time() - held.read_at >= self.max_age:
            return None
        if held.short and not self._quota_short(held):  # not every member read: read again once it can
            return None
        return held

    def _quota_short(self, held: Snapshot) -> bool:
        left = self.client.quota.remaining
        return left is not None and left < FIRST_READ + QUOTA_RESERVE

    async def _refresh(self, org: int, held: Snapshot | None, fresh: bool, on_page: Progress | None) -> View:
        quota = self.client.quota
        needed = (FIRST_READ if held is None or held.short else held.cost) + QUOTA_RESERVE
        if held is not None and quota.remaining is not None and quota.remaining < needed:
            return View(held, self._quota_note(held, fresh))
        if held is None and quota.remaining is not None and quota.remaining < needed:
            # nothing to answer from: refused before a request the hour cannot finish
            resets = quota.resets_in()
            when = f", and the quota resets in {human_duration(resets)}" if resets else ""
            raise ToolError(
                f"Not fetched: reading the organization (every member, team and role) needs at least "
                f"{counted(FIRST_READ, 'request')}, and {QUOTA_RESERVE} are kept in reserve, but only "
                f"{quota.remaining} left this hour{when}. Try again after the reset."
            )
        self._stale.discard(org)
        self._reading[org] = []
        try:
            snap = await read_snapshot(self.client, org, on_page)
        except QuotaExceededError:
            if held is None:
                raise
            return View(held, self._quota_note(held, fresh))
        finally:
            landed = self._reading.pop(org)
        for change in landed:  # writes confirmed while the pages were read
            change(snap)
        self._held[org] = snap
        log.info(
            "organization %s read: %s members, %s teams, %s requests",
            org,
            len(snap.members),
            len(snap.teams),
            snap.cost,
        )
        if self.shared is not None:
            await self.shared.publish(snap, self.max_age)
        return View(snap, f"Read now: {counted(snap.cost, 'request')}." if fresh else "")

    def _age_note(self, snap: Snapshot) -> str:
        age = time.time() - snap.read_at
        if age < AGE_SAID:
            return ""
        when = time.strftime("%H:%M UTC", time.gmtime(snap.read_at))
        return f"As read {human_duration(age)} ago ({when}); fresh=true reads again."

    def _quota_note(self, snap: Snapshot, fresh: bool) -> str:
        quota = self.client.quota
        resets = quota.resets_in()
        when = f", and it resets in {human_duration(resets)}" if resets is not None else ""
        left = quota.remaining
        why = (
            f"the hour's quota has {counted(left, 'request')} left{when}"
            if left
            else f"the hour's quota is spent{when}"
        )
        age = human_duration(time.time() - snap.read_at)
        asked = "fresh=true was not read: " if fresh else ""
        return f"As read {age} ago: {asked}a new read needs about {counted(snap.cost, 'request')}, and {why}."

    # --- what writes tell (FocusClient.write_observers) ------------------------------------------

    async def group_written(self, organization_id: int, group: Group) -> None:
        await self._apply(organization_id, lambda snap: changes.group_written(snap, group))

    async def group_deleted(self, organization_id: int, group_id: int) -> None:
        await self._apply(organization_id, lambda snap: changes.group_deleted(snap, group_id))

    async def role_set(self, organization_id: int, group_id: int, user_id: int, role_id: int | None) -> None:
        await self._apply(organization_id, lambda snap: changes.role_set(snap, group_id, user_id, role_id))

    async def groups_read(self, organization_id: int, workspace_id: int, asked: list[int], found: list[Group]) -> None:
        for group in found:
            if group.id in asked:
                await self.group_written(organization_id, group)

    async def outcome_unknown(self, organization_id: int) -> None:
        self._stale.add(organization_id)  # a read under way keeps the mark: it may have left before the write
        if self.shared is not None:
            await self.shared.forget(organization_id)

    async def _apply(self, org: int, change: Callable[[Snapshot], None]) -> None:
        """Apply a confirmed write to the snapshot held, and to the one a read under way will bring
        (its pages may have been read before the write landed)."""
        if (pending := self._reading.get(org)) is not None:
            pending.append(change)
        snap = self._held.get(org)
        if snap is None:
            return
        change(snap)
        snap.version = uuid.uuid4().hex
        if self.shared is not None:
            await self.shared.publish(snap, self.max_age)


# Every store made (weakly: a store lives as long as its client, whose write observer it is).
_STORES: WeakSet[OrgSnapshots] = WeakSet()


def stores() -> list[OrgSnapshots]:
    """Every live client's snapshots (benchmarks measure what they hold)."""
    return list(_STORES)


def snapshots(client: FocusClient) -> OrgSnapshots:
    """The snapshots of this client (made on first use, and told of its writes from then on)."""
    store = next((o for o in client.write_observers if isinstance(o, OrgSnapshots)), None)
    if store is None:
        store = OrgSnapshots(client)
        _STORES.add(store)
    return store
