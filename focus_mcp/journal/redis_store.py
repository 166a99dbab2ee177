"""The journal in Redis (TOGGL_FOCUS_REDIS_URL), so that every replica lists and undoes the same
changes.

Keys, under `focus-mcp:journal:<hash of the base URL>` (the sandbox and a test API never mix with
the real one), every key of a change under its organization:
- `org:<id>:stream`: one entry per change begun (`{"id": change id}`), in the order begun; every
  XADD trims entries older than TOGGL_FOCUS_JOURNAL_DAYS (MINID, exact: a few entries a day).
- `org:<id>:change:<change id>`: a hash per change: `change` holds the change as begun (JSON), and
  each field settled later (`outcome`, `settled_at`, `note`, `group_id`, `group_name`, `after`,
  `undone_by`) is its own field, so that settling is one HSET, atomic without a read, from any
  replica. It expires with the stream's entries.
- `org:<id>:unsettled`: the set of the organization's pending and unknown change ids.
- `owner:<change id>`: the change's organization, so that `get` and `settle` find it by its id alone.

Redis unreachable: every call raises JournalUnavailable naming the URL (without its credentials).
There is no local fallback: a change kept in one process's memory would be reported journaled, yet
no other replica could list it, and a one-shot call or a restart would lose it (docs/deploy.md).
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

from focus_mcp.api.urls import display_url
from focus_mcp.journal.model import (
    UNSETTLED,
    Change,
    Changes,
    JournalUnavailable,
    Outcome,
    Step,
    matches_group,
    matches_unsettled,
    now,
    parsed,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT = 1.0  # seconds for one Redis command, as for the shared cache
SCAN_BATCH = 100  # stream entries read at a time while a listing filters
OVERRIDES = ("outcome", "settled_at", "note", "group_id", "group_name", "after", "undone_by", "steps")


class RedisJournal:
    def __init__(self, url: str, scope: str, days: float = 90) -> None:
        self.url, self.keep = url, timedelta(days=days)
        self.prefix = "focus-mcp:journal:" + hashlib.sha256(scope.encode()).hexdigest()[:12]
        self._redis: Redis | None = None
        self.available = True

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        return self._redis

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def _change_key(self, organization_id: int, change_id: str) -> str:
        return self._key("org", organization_id, "change", change_id)

    async def _do(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            result = await operation()
        except (RedisError, OSError) as exc:
            if self.available:
                log.warning("the change journal's Redis is unreachable (%s): no change can be journaled", exc)
            self.available = False
            raise JournalUnavailable(
                f"The change journal in Redis at {display_url(self.url)} (TOGGL_FOCUS_REDIS_URL) cannot be "
                f"reached ({type(exc).__name__}: {exc}). Nothing is journaled or listed until it is back: "
                "check that Redis runs and that this server can reach it (focus-mcp doctor)."
            ) from None
        if not self.available:
            log.warning("the change journal's Redis is reachable again")
        self.available = True
        return result

    # --- writing ------------------------------------------------------------------------------

    async def begin(self, change: Change) -> None:
        stored = change.model_copy(update={"outcome": "pending"})
        ttl = int(self.keep.total_seconds())
        oldest = f"{int((time.time() - self.keep.total_seconds()) * 1000)}-0"
        org = change.organization_id

        async def write() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._change_key(org, change.id), mapping={"change": stored.model_dump_json()})
                pipe.expire(self._change_key(org, change.id), ttl)
                pipe.set(self._key("owner", change.id), str(org), ex=ttl)
                pipe.sadd(self._key("org", org, "unsettled"), change.id)
                pipe.xadd(self._key("org", org, "stream"), {"id": change.id}, minid=oldest, approximate=False)
                await pipe.execute()

        await self._do(write)

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
        fields: dict[str, Any] = {"outcome": outcome, "settled_at": now().isoformat(), "note": note}
        for name, value in (("group_id", group_id), ("group_name", group_name), ("after", after)):
            if value is not None:
                fields[name] = value
        if steps is not None:
            fields["steps"] = [step.model_dump(mode="json") for step in steps]
        await self._update(change_id, fields, settled=outcome not in UNSETTLED)

    async def mark_undone(self, change_id: str, undone_by: str) -> None:
        await self._update(change_id, {"undone_by": undone_by}, settled=False)

    async def _update(self, change_id: str, fields: dict[str, Any], settled: bool) -> None:
        async def write() -> None:
            org = await self._owner(change_id)
            if org is None:
                return  # expired
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._change_key(org, change_id), mapping={k: json.dumps(v) for k, v in fields.items()})
                if settled:
                    pipe.srem(self._key("org", org, "unsettled"), change_id)
                await pipe.execute()

        await self._do(write)

    async def _owner(self, change_id: str) -> int | None:
        org = _text(await self.redis.get(self._key("owner", change_id)))
        return int(org) if org.isdigit() else None

    # --- reading ------------------------------------------------------------------------------

    async def _load(self, organization_id: int, change_ids: list[str]) -> Changes:
        """The organization's changes of these ids that Redis holds, in that order (expired ones left
        out, unreadable ones skipped and named)."""

        async def read() -> list[Any]:
            async with self.redis.pipeline(transaction=False) as pipe:
                for change_id in change_ids:
                    pipe.hgetall(self._change_key(organization_id, change_id))
                return list(await pipe.execute())

        rows = await self._do(read) if change_ids else []
        found = Changes()
        for change_id, row in zip(change_ids, rows, strict=True):
            if not row:
                continue  # expired with the stream
            change = _change(change_id, row)
            if change is None or change.organization_id != organization_id:
                found.skipped.append(change_id)
            else:
                found.append(change)
        return found

    async def get(self, change_id: str) -> Change | None:
        org = await self._do(partial(self._owner, change_id))
        if org is None:
            return None
        found = await self._load(org, [change_id])
        return found[0] if found else None

    async def changes(
        self,
        organization_id: int,
        *,
        group_id: int | None = None,
        since: datetime | None = None,
        limit: int = 20,
        group_name: str | None = None,
    ) -> Changes:
        found = Changes()
        stream, newest = self._key("org", organization_id, "stream"), "+"
        # Unfiltered, twice what is asked (the order is by `at`, and replicas' clocks differ a little).
        filtered = group_id is not None or group_name is not None
        batch = SCAN_BATCH if filtered else min(SCAN_BATCH, max(2 * limit, 20))
        while len(found) < limit:
            entries = await self._do(partial(self._below, stream, newest, batch))
            if not entries:
                break
            loaded = await self._load(organization_id, [change_id for _, change_id in entries])
            found.skipped += loaded.skipped
            past_since = False
            for change in loaded:
                if since is not None and change.at < since:
                    past_since = True
                elif matches_group(change, group_id, group_name):
                    found.append(change)
            if past_since or len(entries) < batch:
                break
            newest = "(" + entries[-1][0]  # exclusive: the next batch starts below this one
        found.sort(key=lambda c: c.at, reverse=True)
        return Changes(found[: max(limit, 0)], found.skipped)

    async def unsettled(
        self, organization_id: int, *, group_id: int | None = None, create_name: str | None = None
    ) -> Changes:
        key = self._key("org", organization_id, "unsettled")
        ids = sorted(await self._do(partial(self._members, key)))
        loaded = await self._load(organization_id, ids)
        held = {c.id for c in loaded} | set(loaded.skipped)
        if len(held) < len(ids):  # expired with the stream
            await self._do(partial(self._forget, key, [i for i in ids if i not in held]))
        chosen = sorted((c for c in loaded if matches_unsettled(c, group_id, create_name)), key=lambda c: c.at)
        return Changes(chosen, loaded.skipped)

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
    return value.decode(errors="replace") if isinstance(value, bytes) else value or ""


def _change(change_id: str, row: dict[bytes, bytes]) -> Change | None:
    """A change hash as a Change: the change as begun, with the fields settled since; None when it
    cannot be read (not JSON, not a change)."""
    try:
        values = json.loads(row[b"change"])
        for name in OVERRIDES:
            if name.encode() in row:
                values[name] = json.loads(row[name.encode()])
    except (KeyError, ValueError, TypeError):
        values = None
    if not isinstance(values, dict):
        log.warning("journal entry %s cannot be read, skipped", change_id)
        return None
    return parsed(change_id, values)
