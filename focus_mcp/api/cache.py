"""Saving upstream requests: a TTL cache of GET answers and single-flight for identical GETs.

The API allows as few as 30 requests an hour, so an answer read a moment ago is worth keeping.
Both are keyed by path and query; the client decides what to cache, for how long, and what a
write makes stale.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio

T = TypeVar("T")
Key = tuple[str, tuple[tuple[str, str], ...]]  # (path, sorted query items)
MAX_ENTRIES = 512


def cache_key(path: str, query: dict[str, str] | None) -> Key:
    return path, tuple(sorted((query or {}).items()))


class TTLCache:
    """Answers by key, each with its own expiry; least recently used entries go first when full."""

    def __init__(self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[Key, tuple[float, Any]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        # Counts drops: an answer fetched across a drop may be what the drop was for, so it is not kept.
        self.generation = 0

    def get(self, key: Key) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Key, value: Any, ttl: float) -> None:
        if ttl <= 0:
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def drop(self, matches: Callable[[str], bool]) -> int:
        """Forget every entry whose path matches, and start a new generation; returns how many."""
        self.generation += 1
        stale = [key for key in self._entries if matches(key[0])]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class _Flight(Generic[T]):
    done: anyio.Event = field(default_factory=anyio.Event)
    value: T | None = None
    error: BaseException | None = None
    finished: bool = False


class SingleFlight(Generic[T]):
    """Concurrent calls with the same key share one execution of `fetch`."""

    def __init__(self) -> None:
        self._flights: dict[Key, _Flight[T]] = {}

    async def run(self, key: Key, fetch: Callable[[], Awaitable[T]]) -> T:
        flight = self._flights.get(key)
        if flight is not None:
            await flight.done.wait()
            if flight.finished:
                if flight.error is not None:
                    raise flight.error
                return flight.value  # type: ignore[return-value]
            # The leader was cancelled: this caller fetches for itself.
            return await self.run(key, fetch)
        flight = _Flight()
        self._flights[key] = flight
        try:
            flight.value = await fetch()
            flight.finished = True
            return flight.value
        except Exception as exc:
            flight.error, flight.finished = exc, True
            raise
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()

    def forget(self, matches: Callable[[str], bool]) -> None:
        """Callers that come later for a matching path start their own execution; those waiting keep theirs."""
        for key in [key for key in self._flights if matches(key[0])]:
            del self._flights[key]
