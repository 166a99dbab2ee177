"""One holder at a time per key: read-merge-write edits of one group must not interleave.

The API's PUT replaces a group whole and offers no version check, so two edits that read the group
at the same moment would each write their own merge, and the second would undo the first. Agents
do make tool calls in parallel ("add Ana to Design", "add Bo to Design"); within one server process
these locks put such edits one after the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

import anyio


class KeyedLocks:
    """A lock per key, kept only while someone holds it or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[anyio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks[key] if key in self._locks else (anyio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def busy(self, key: Hashable) -> bool:
        """Whether someone holds or waits for `key`'s lock (a new holder would wait)."""
        return key in self._locks

    def __len__(self) -> int:
        return len(self._locks)
