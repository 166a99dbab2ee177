"""What replicas share through Redis (TOGGL_FOCUS_REDIS_URL): the GET cache, the quota view, the
per-group edit locks, the request-state key ring (focus_mcp.request_state).

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
from dataclasses import dataclass
from typing import Any

import anyio
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockNotOwnedError, RedisError

log = logging.getLogger(__name__)

NAMESPACE = "focus-mcp"
TIMEOUT = 1.0  # seconds for one Redis command: a slow Redis must not hold up a tool call
# An edit's lock expires after this many seconds unless its holder extends it, which it does every
# third of that while the edit runs (its read, its write's answer, the settling reads), however long
# the write is out; a replica that dies holding one frees it after at most this long.
LOCK_SECONDS = 30.0
LOCK_WAIT = 120.0  # seconds an edit waits for its turn before it gives up, saying so
COMPARE_AND_SET = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2]) return 1 end return 0"
)


def identity(base_url: str, credential: str) -> str:
    """A short, one-way name for "this user at this API", for keys."""
    return hashlib.sha256(f"{base_url}\n{credential}".encode()).hexdigest()[:16]


@dataclass
class ReplicaLock:
    """An edit's lock across replicas. `held`: False when Redis could not be had (nothing is held).
    `lost`: the lock was found gone or another's while the edit ran (Redis restarted empty or
    flushed, or unreachable longer than the lock lives), so edits through other replicas may have
    interleaved with this one."""

    name: str
    held: bool
    lost: bool = False


class SharedState:
    def __init__(self, url: str, who: str, lock_seconds: float = LOCK_SECONDS) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self.who = who
        self.available = True
        self.lock_seconds = lock_seconds

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
            await self._do("set", self._key("cache", key), value, px=max(1, int(ttl * 1000)))

    async def delete(self, *keys: str) -> None:
        await self._do("delete", *(self._key("cache", key) for key in keys))

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

    # --- values the replicas agree on (the request-state key ring) ------------------------------

    async def read_value(self, name: str) -> bytes | None:
        value = await self._do("get", self._key(name))
        return value if isinstance(value, bytes) else None

    async def create_value(self, name: str, value: str) -> bool:
        """Set `name` only if it does not exist (SET NX): True when this call created it."""
        return bool(await self._do("set", self._key(name), value, nx=True))

    async def replace_value(self, name: str, expected: bytes, value: str) -> bool:
        """Set `name` only if it still holds `expected` (compare-and-set): True when this call replaced it."""
        return bool(await self._do("eval", COMPARE_AND_SET, 1, self._key(name), expected, value))

    # --- the edit locks -----------------------------------------------------------------------

    @asynccontextmanager
    async def holding(self, name: str) -> AsyncIterator[ReplicaLock]:
        """Hold the replicas' lock `name` for the block, extended every third of its timeout.

        redis-py's lock keeps a token: only its holder can extend or release it, and it expires on its
        own if the holder dies. Redis unreachable at the start: holds nothing (`held` False)."""
        lock = self.redis.lock(self._key("lock", name), timeout=self.lock_seconds, blocking_timeout=LOCK_WAIT)
        try:
            acquired = await lock.acquire()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            yield ReplicaLock(name, held=False)
            return
        if not acquired:
            raise TimeoutError(f"another replica held the edit lock of {name} for over {LOCK_WAIT:g} s")
        self._back()
        held = ReplicaLock(name, held=True)
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._keep, lock, held)
                try:
                    yield held
                except Exception as exc:  # raised below, outside the task group, as itself
                    failure = exc
                finally:
                    tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):  # a cancelled edit still gives its lock back
                await self._release(lock, held)
        if failure is not None:
            raise failure

    async def _keep(self, lock: Lock, held: ReplicaLock) -> None:
        """Reset the lock's timeout every third of it; stop when it turns out lost."""
        while not held.lost:
            await anyio.sleep(self.lock_seconds / 3)
            try:
                await lock.reacquire()
            except LockNotOwnedError:
                await self._mark_lost(held, "it was gone when its holder extended it")
            except (RedisError, OSError) as exc:  # it may come back in time: tried again at the next tick
                self._lost(exc)

    async def _release(self, lock: Lock, held: ReplicaLock) -> None:
        try:
            await lock.release()
        except LockNotOwnedError:
            if not held.lost:
                await self._mark_lost(held, "it was gone when its holder released it")
        except (RedisError, OSError) as exc:  # it expires on its own; whether it was held throughout is unknown
            self._lost(exc)
            if not held.lost:
                await self._mark_lost(held, f"Redis could not be reached to release it ({exc})")

    async def _mark_lost(self, held: ReplicaLock, how: str) -> None:
        held.lost = True
        log.warning(
            "the edit lock of %s was lost mid-edit (%s; Redis restarted or flushed?): edits through other "
            "replicas may have interleaved with this one",
            held.name,
            how,
        )
        await self._do("hincrby", self._key("locks-lost"), "count", 1)
        await self._do("hset", self._key("locks-lost"), "at", time.time())

    async def locks_lost(self) -> tuple[int, float | None]:
        """How many edit locks were lost mid-edit since Redis last started empty, and when the last was."""
        raw = await self._do("hgetall", self._key("locks-lost"))
        if not raw:
            return 0, None
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        return int(fields.get("count", 0)), float(fields["at"]) if fields.get("at") else None
