"""The journal in Redis (TOGGL_FOCUS_REDIS_URL), so that every replica lists and undoes the same
changes.

Keys, under `focus-mcp:journal:<hash of the base URL>` (the sandbox and a test API never mix with
the real one):
- `org:<id>:stream`: one entry per change begun (`{"id": change id}`), in the order begun; every
  XADD trims entries older than TOGGL_FOCUS_JOURNAL_DAYS (MINID, exact: a few entries a day).
- `change:<id>`: a hash per change: `change` holds the change as begun (JSON), and each field
  settled later (`outcome`, `settled_at`, `note`, `group_id`, `group_name`, `after`, `undone_by`)
  is its own field, so that settling is one HSET, atomic without a read, from any replica. It
  expires with the stream's entries.
- `org:<id>:unsettled`: the set of the organization's pending and unknown change ids.

Redis unreachable: the change is still kept in this process (a MemoryJournal beside it), so that a
write still out holds up the next edit here; listings merge both, and the outage is logged once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from focus_mcp.journal.memory import MemoryJournal
from focus_mcp.journal.model import UNSETTLED, Change, Outcome, Step, matches_group, matches_unsettled, now

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT = 1.0  # seconds for one Redis command, as for the shared cache
SCAN_BATCH = 100  # stream entries read at a time while a listing filters
OVERRIDES = ("outcome", "settled_at", "note", "group_id", "group_name", "after", "undone_by", "steps")


class RedisJournal:
    def __init__(self, url: str, scope: str, days: float = 90) -> None:
        self.url, self.keep = url, timedelta(days=days)
        self.prefix = "focus-mcp:journal:" + hashlib.sha256(scope.encode()).hexdigest()[:12]
        self.local = MemoryJournal(days)  # this process's own changes, for when Redis is away
        self._redis: Redis | None = None
        self.available = True

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        return self._redis

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    async def _try(self, operation: Callable[[], Awaitable[T]]) -> T | None:
        try:
            result = await operation()
        except (RedisError, OSError) as exc:
            if self.available:
                log.warning("Redis unreachable (%s): changes are journaled in this process only", exc)
            self.available = False
            return None
        if not self.available:
            log.warning("Redis reachable again: the change journal is shared again")
        self.available = True
        return result

    # --- writing ------------------------------------------------------------------------------

    async def begin(self, change: Change) -> None:
        await self.local.begin(change)
        stored = change.model_copy(update={"outcome": "pending"})
        ttl = int(self.keep.total_seconds())
        oldest = f"{int((time.time() - self.keep.total_seconds()) * 1000)}-0"

        async def write() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._key("change", change.id), mapping={"change": stored.model_dump_json()})
                pipe.expire(self._key("change", change.id), ttl)
                pipe.sadd(self._key("org", change.organization_id, "unsettled"), change.id)
                pipe.xadd(
                    self._key("org", change.organization_id, "stream"),
                    {"id": change.id},
                    minid=oldest,
                    approximate=False,
                )
                await pipe.execute()

        await self._try(write)

    async def settle(
        self,
        change_id: str,
        outcome: Outcome,
        *,
        group_id: int | None = None,
        group_name: str | None = None,
        after: dict[str, Any] | None = None,
        note: str = "",
        steps: list[Step] | None = None,
    ) -> None:
        await self.local.settle(
            change_id, outcome, group_id=group_id, group_name=group_name, after=after, note=note, steps=steps
        )
        fields: dict[str, Any] = {"outcome": outcome, "settled_at": now().isoformat(), "note": note}
        for name, value in (("group_id", group_id), ("group_name", group_name), ("after", after)):
            if value is not None:
                fields[name] = value
        if steps is not None:
            fields["steps"] = [step.model_dump(mode="json") for step in steps]
        await self._update(change_id, fields, settled=outcome not in UNSETTLED)

    async def mark_undone(self, change_id: str, undone_by: str) -> None:
        await self.local.mark_undone(change_id, undone_by)
        await self._update(change_id, {"undone_by": undone_by}, settled=False)

    async def _update(self, change_id: str, fields: dict[str, Any], settled: bool) -> None:
        key = self._key("change", change_id)

        async def write() -> None:
            raw = await self.redis.hget(key, "change")  # the organization, for its unsettled set
            if raw is None:
                return  # expired, or begun while Redis was away: the local copy has it
            org = Change.model_validate_json(raw).organization_id
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, mapping={name: json.dumps(value) for name, value in fields.items()})
                if settled:
                    pipe.srem(self._key("org", org, "unsettled"), change_id)
                await pipe.execute()

        await self._try(write)

    # --- reading ------------------------------------------------------------------------------

    async def _load(self, change_ids: list[str]) -> dict[str, Change] | None:
        """The changes of these ids that Redis holds; None when Redis cannot be read."""

        async def read() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                for change_id in change_ids:
                    pipe.hgetall(self._key("change", change_id))
                return list(await pipe.execute())

        rows = await self._try(read) if change_ids else []
        return None if rows is None else {c.id: c for c in map(_change, rows) if c is not None}

    async def _only_here(self, changes: list[Change]) -> list[Change]:
        """Those of this process's changes that Redis does not hold (begun while it was away)."""
        held = await self._load([c.id for c in changes]) or {}
        return [c for c in changes if c.id not in held]

    async def get(self, change_id: str) -> Change | None:
        found = await self._load([change_id]) or {}
        return found.get(change_id) or await self.local.get(change_id)

    async def changes(
        self,
        organization_id: int,
        *,
        group_id: int | None = None,
        since: datetime | None = None,
        limit: int = 20,
        group_name: str | None = None,
    ) -> list[Change]:
        found: dict[str, Change] = {}
        stream, newest = self._key("org", organization_id, "stream"), "+"
        # Unfiltered, twice what is asked (the order is by `at`, and replicas' clocks differ a little).
        filtered = group_id is not None or group_name is not None
        batch = SCAN_BATCH if filtered else min(SCAN_BATCH, max(2 * limit, 20))
        while len(found) < limit:
            entries = await self._try(partial(self._below, stream, newest, batch))
            if not entries:
                break
            ids = [change_id for _, change_id in entries]
            loaded = await self._load(ids) or {}
            past_since = False
            for change_id in ids:
                change = loaded.get(change_id)
                if change is None:
                    continue
                if since is not None and change.at < since:
                    past_since = True
                elif matches_group(change, group_id, group_name):
                    found[change_id] = change
            if past_since or len(entries) < batch:
                break
            newest = "(" + entries[-1][0]  # exclusive: the next batch starts below this one
        local = await self.local.changes(
            organization_id, group_id=group_id, since=since, limit=limit, group_name=group_name
        )
        for change in await self._only_here([c for c in local if c.id not in found]):
            found[change.id] = change
        return sorted(found.values(), key=lambda c: c.at, reverse=True)[: max(limit, 0)]

    async def unsettled(
        self, organization_id: int, *, group_id: int | None = None, create_name: str | None = None
    ) -> list[Change]:
        key = self._key("org", organization_id, "unsettled")
        members = await self._try(partial(self._members, key))
        ids = sorted(members or ())
        loaded = await self._load(ids)
        if loaded is not None and len(loaded) < len(ids):  # expired with the stream
            await self._try(partial(self._forget, key, [i for i in ids if i not in loaded]))
        found = {c.id: c for c in (loaded or {}).values() if matches_unsettled(c, group_id, create_name)}
        local = await self.local.unsettled(organization_id, group_id=group_id, create_name=create_name)
        for change in await self._only_here([c for c in local if c.id not in found]):
            found[change.id] = change  # a change Redis holds as settled was settled by a replica
        return sorted(found.values(), key=lambda c: c.at)

    async def _below(self, stream: str, top: str, count: int) -> list[tuple[str, str]]:
        """(entry id, change id) of up to `count` stream entries from `top` down."""
        entries = await self.redis.xrevrange(stream, top, "-", count=count) or []
        return [(_text(entry), _text(fields.get(b"id", b""))) for entry, fields in entries if fields]

    async def _members(self, key: str) -> list[str]:
        return [_text(member) for member in await self.redis.smembers(key)]

    async def _forget(self, key: str, change_ids: list[str]) -> None:
        await self.redis.srem(key, *change_ids)

    async def aclose(self) -> None:
        if self._redis is not None:
            redis, self._redis = self._redis, None
            try:
                await redis.aclose()
            except (RedisError, OSError) as exc:
                log.debug("closing the journal's Redis connection: %s", exc)


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else value or ""


def _change(row: dict[bytes, bytes] | None) -> Change | None:
    """A change hash as a Change: the change as begun, with the fields settled since."""
    if not row or b"change" not in row:
        return None
    values = json.loads(row[b"change"])
    for name in OVERRIDES:
        if name.encode() in row:
            values[name] = json.loads(row[name.encode()])
    return Change.model_validate(values)
