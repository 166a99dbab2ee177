"""What replicas share through Redis (TOGGL_FOCUS_REDIS_URL): the GET cache, the quota view, the
per-group edit locks.

Keys carry an identity, a hash of the base URL and the credential (never the credential itself), so
that two users' data never mix. A group write bumps the organization's generation, which is part of
every cached key of the listings that a group write changes, so that no replica serves them stale.
Redis down: every operation answers "nothing shared" (a miss, no quota, no lock), logged once per
outage, and the caller goes on with its own process-local state.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

log = logging.getLogger(__name__)

NAMESPACE = "focus-mcp"
TIMEOUT = 1.0  # seconds for one Redis command: a slow Redis must not hold up a tool call
# Longer than any edit (its read, its write's answer, the settling reads), so that a lock is never
# lost mid-edit; a replica that dies holding one frees it after this many seconds.
LOCK_SECONDS = 180.0
LOCK_WAIT = 120.0  # seconds an edit waits for its turn before it gives up, saying so


def identity(base_url: str, credential: str) -> str:
    """A short, one-way name for "this user at this API", for keys."""
    return hashlib.sha256(f"{base_url}\n{credential}".encode()).hexdigest()[:16]


class SharedState:
    def __init__(self, url: str, who: str) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self.who = who
        self.available = True

    def _key(self, *parts: object) -> str:
        return ":".join([NAMESPACE, self.who, *map(str, parts)])

    def _lost(self, exc: Exception) -> None:
        if self.available:
            log.warning("Redis unreachable (%s): going on with this process's own cache, quota and locks", exc)
        self.available = False

    def _back(self) -> None:
        if not self.available:
            log.warning("Redis reachable again: the cache, quota and edit locks are shared again")
        self.available = True

    async def _do(self, command: str, *args: Any, **kwargs: Any) -> Any:
        try:
            result = await getattr(self.redis, command)(*args, **kwargs)
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        self._back()
        return result

    async def ping(self) -> bool:
        return bool(await self._do("ping"))

    async def aclose(self) -> None:
        await self.redis.aclose()

    # --- the cache ----------------------------------------------------------------------------

    async def generation(self, organization_id: int) -> int:
        return int(await self._do("get", self._key("generation", organization_id)) or 0)

    async def bump(self, organization_id: int) -> None:
        await self._do("incr", self._key("generation", organization_id))

    async def get(self, key: str) -> bytes | None:
        value = await self._do("get", self._key("cache", key))
        return value if isinstance(value, bytes) else None

    async def put(self, key: str, value: bytes, ttl: float) -> None:
        if ttl > 0:
            await self._do("set", self._key("cache", key), value, px=int(ttl * 1000))

    # --- the quota ----------------------------------------------------------------------------

    async def publish_quota(self, remaining: int, resets_in: float | None) -> None:
        now = time.time()
        fields = {"remaining": remaining, "at": now, "resets_at": now + resets_in if resets_in is not None else ""}
        await self._do("hset", self._key("quota"), mapping=fields)

    async def read_quota(self) -> tuple[int, float | None, float] | None:
        """(remaining, seconds to the reset or None, when it was told as a time.time()) or None."""
        raw = await self._do("hgetall", self._key("quota"))
        if not raw:
            return None
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        resets_at = float(fields["resets_at"]) if fields.get("resets_at") else None
        resets_in = None if resets_at is None else resets_at - time.time()
        return int(fields["remaining"]), resets_in, float(fields["at"])

    # --- the edit locks -----------------------------------------------------------------------

    @asynccontextmanager
    async def holding(self, name: str) -> AsyncIterator[bool]:
        """Hold the replicas' lock `name`; yields False (and holds nothing) when Redis cannot be had.

        redis-py's lock keeps a token: only its holder can release it, and it expires on its own
        after LOCK_SECONDS if the holder dies."""
        lock = self.redis.lock(self._key("lock", name), timeout=LOCK_SECONDS, blocking_timeout=LOCK_WAIT)
        try:
            acquired = await lock.acquire()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            yield False
            return
        if not acquired:
            raise TimeoutError(f"another replica held the edit lock of {name} for over {LOCK_WAIT:g} s")
        self._back()
        try:
            yield True
        finally:
            try:
                await lock.release()
            except (LockError, RedisError, OSError) as exc:  # expired, or Redis went away: it frees itself
                log.warning("releasing the edit lock of %s: %s", name, exc)
