"""A group's turn: one change at a time per group (and per name a create will take), from the unsettled
check and the fresh read to the write's settled outcome.

The API's PUT replaces a group whole and offers no version check, so two edits that read the group
at the same moment would each write their own merge, and the second would undo the first; two
creates (or undos of one delete) of one name would make two groups. Turns are taken at three levels,
always in the same (sorted) order of keys, so that two changes needing several never deadlock:
- in this process: an anyio lock per key (`KeyedLocks`);
- across processes sharing the SQLite journal (a served host and one-shot `focus-mcp call`s): a
  file lock per key in a directory beside the journal file (`<journal>.turns/`, 0700, files 0600);
- across replicas sharing a Redis (TOGGL_FOCUS_REDIS_URL): the Redis lock of api/shared.py, extended
  while held.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator, Hashable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from focus_mcp.config import Settings
from focus_mcp.journal import journal_path

if TYPE_CHECKING:  # api.shared imports redis: loaded only where Redis is configured (the client makes it)
    from focus_mcp.api.shared import ReplicaLock, SharedState

log = logging.getLogger(__name__)

# How often a turn held by another process is looked at again (a file lock has no wake-up).
FILE_POLL_SECONDS = 0.05


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


def group_key(organization_id: int, group_id: int) -> str:
    return f"group:{organization_id}:{group_id}"


def name_key(organization_id: int, name: str) -> str:
    return f"create:{organization_id}:{name.strip().casefold()}"


def _waiting(key: str) -> str:
    kind, _, rest = key.partition(":")
    target = rest.partition(":")[2]
    return f"edit of group {target}" if kind == "group" else f"create of a group named {target!r}"


@asynccontextmanager
async def file_turn(directory: Path, key: str) -> AsyncIterator[None]:
    """Hold `key`'s file lock in `directory`: processes sharing one journal file take turns."""
    from filelock import FileLock, Timeout  # only a write pays for the import

    await anyio.to_thread.run_sync(lambda: directory.mkdir(mode=0o700, parents=True, exist_ok=True))
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    lock = FileLock(os.fspath(directory / f"{digest}.lock"), mode=0o600, thread_local=False)
    said = False
    while True:
        try:
            lock.acquire(timeout=0)
            break
        except Timeout:
            if not said:  # said, so that a call that seems stuck can be told from a hung one
                log.info("%s waits for another process's change (the journal's turn file)", _waiting(key))
                said = True
            await anyio.sleep(FILE_POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()


def turns_directory(settings: Settings) -> Path | None:
    """Where processes sharing the SQLite journal take turns: `<journal>.turns/` beside its file
    (None when the journal is off, in this process's memory, or in Redis, whose locks are used)."""
    path = journal_path(settings)
    return None if path is None else path.with_name(path.name + ".turns")


@dataclass
class Turn:
    """The turns a change holds. `across_replicas`: None without Redis; False when Redis could not be
    had (only this server's changes waited); `replicas`: the Redis locks, whose `lost` is known by
    the time they are released."""

    across_replicas: bool | None = None
    replicas: list[ReplicaLock] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        return any(lock.lost for lock in self.replicas)

    def notes(self) -> list[str]:
        """What the answer must say when replicas could not take turns through Redis."""
        if self.across_replicas is False:
            return [
                "Note: Redis (TOGGL_FOCUS_REDIS_URL) is unreachable, so this edit took turns with this server's "
                "own edits only: edits of the group through other replicas were not serialised with it until "
                "Redis is back."
            ]
        if self.lost:
            return [
                "Note: this edit's lock in Redis (TOGGL_FOCUS_REDIS_URL) was lost while it ran (Redis restarted or "
                "was emptied), so edits of the group through other replicas may not have been serialised with it: "
                "read the group with fresh=true to check that every edit made meanwhile is there."
            ]
        return []


class Turns:
    """Every turn of this server: its own locks, the file locks beside the journal, Redis's."""

    def __init__(self, shared: SharedState | None, directory: Path | None) -> None:
        self._own = KeyedLocks()
        self._shared = shared
        self.directory = directory

    @asynccontextmanager
    async def hold(self, keys: list[str]) -> AsyncIterator[Turn]:
        """Hold every key's turn, in sorted order, until the block ends."""
        turn = Turn(across_replicas=None if self._shared is None else True)
        async with AsyncExitStack() as stack:
            for key in sorted(set(keys)):
                if self._own.busy(key):  # said, so that a call that seems stuck can be told from a hung one
                    log.info("%s waits for the one under way (until its outcome is known)", _waiting(key))
                await stack.enter_async_context(self._own.hold(key))
                if self.directory is not None:
                    await stack.enter_async_context(file_turn(self.directory, key))
                if self._shared is not None:
                    held = await stack.enter_async_context(self._shared.holding(key))
                    turn.replicas.append(held)
                    if not held.held:
                        turn.across_replicas = False
            yield turn
