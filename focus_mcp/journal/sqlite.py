"""The journal in one SQLite file (the standard library's sqlite3, WAL): the default store.

One file per user (platformdirs' state directory, or TOGGL_FOCUS_JOURNAL), created 0600 in a 0700
directory; SQLite gives its -wal and -shm files the database's own mode. Several processes (a
served host, one-shot `focus-mcp call`s) share it: WAL lets readers run beside the one writer,
`busy_timeout` makes a writer wait its turn, and every read-modify-write runs in one IMMEDIATE
transaction. Each process keeps one connection, used by one worker thread at a time, so that no
sqlite call blocks the event loop.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from focus_mcp.journal.model import (
    UNSETTLED,
    Change,
    Changes,
    JournalUnavailable,
    Outcome,
    Step,
    matches_unsettled,
    name_key,
    now,
    parsed,
    settled_copy,
)

T = TypeVar("T")
BUSY_MS = 10_000  # how long an operation waits for another process's write before it gives up
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file

SCHEMA = """
CREATE TABLE IF NOT EXISTS changes (
    id TEXT PRIMARY KEY,
    organization_id INTEGER NOT NULL,
    at REAL NOT NULL,               -- seconds since the epoch, for order and age
    group_id INTEGER,
    group_key TEXT,                 -- the group's name, case and outer spaces aside
    tool TEXT NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL              -- the whole Change as JSON
);
CREATE INDEX IF NOT EXISTS changes_by_time ON changes (organization_id, at);
CREATE INDEX IF NOT EXISTS changes_unsettled ON changes (organization_id, outcome);
"""
UNSETTLED_SQL = ",".join(f"'{o}'" for o in UNSETTLED)


class SqliteJournal:
    def __init__(self, path: Path, days: float = 90, busy_ms: int = BUSY_MS) -> None:
        self.path, self.busy_ms = path, busy_ms
        self.keep = timedelta(days=days)
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one operation at a time on this process's connection

    # --- the file -----------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        """Create the directory (0700) and the file (0600) before SQLite does, then connect. A path that
        is a symbolic link, or something other than a regular SQLite file, is refused untouched."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._refuse_links()
        try:  # O_NOFOLLOW: a link put in place since the check is not followed either
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._refused("is a symbolic link") from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise self._refused("is not a regular file")
            header = os.pread(fd, len(SQLITE_HEADER), 0)
            if header and header != SQLITE_HEADER:
                raise self._refused("is not a SQLite database")
            if info.st_mode & 0o077 and info.st_uid == os.getuid():
                os.fchmod(fd, 0o600)  # a file made by hand, or by an older version: made private
        finally:
            os.close(fd)
        # Used from worker threads, one at a time (self._lock); autocommit, transactions explicit.
        db = sqlite3.connect(self.path, timeout=self.busy_ms / 1000, isolation_level=None, check_same_thread=False)
        try:
            if os.stat(self.path, follow_symlinks=False).st_ino != info.st_ino:  # swapped while we looked
                raise self._refused("was replaced while it was opened")
            db.execute(f"PRAGMA busy_timeout={self.busy_ms}")
            db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a crash of the process loses nothing committed, and the file is never
            # corrupted; only a power cut may lose the last commits. Commits do not wait for fsync.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _refuse_links(self) -> None:
        """SQLite opens the file and its -wal and -shm by name, following links: none may be one."""
        for path in (self.path, *(self.path.with_name(self.path.name + s) for s in ("-wal", "-shm"))):
            try:
                info = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                raise self._refused("is a symbolic link", path)
            if not stat.S_ISREG(info.st_mode):
                raise self._refused("is not a regular file", path)

    def _refused(self, why: str, path: Path | None = None) -> JournalUnavailable:
        return JournalUnavailable(
            f"The change journal {path or self.path} {why}: refused, left untouched (nothing is written "
            "through it, its mode is not changed). Set TOGGL_FOCUS_JOURNAL to the path of a regular file, "
            "or to off."
        )

    async def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        def in_thread() -> T:
            with self._lock:
                if self._db is None:
                    self._db = self._open()
                try:
                    return operation(self._db)
                except sqlite3.Error:
                    self._db.close()  # the next operation starts on a fresh connection
                    self._db = None
                    raise

        try:
            return await anyio.to_thread.run_sync(in_thread)
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise JournalUnavailable(
                    f"The change journal {self.path} is busy: another process held it for more than "
                    f"{self.busy_ms / 1000:g} s ({exc}). Try again; if it stays busy, find the process "
                    "holding it (another focus-mcp, or a tool reading the file)."
                ) from None
            raise self._unusable(exc) from None
        except (sqlite3.Error, OSError) as exc:
            raise self._unusable(exc) from None

    def _unusable(self, exc: Exception) -> JournalUnavailable:
        return JournalUnavailable(
            f"The change journal {self.path} cannot be used ({exc}). Set TOGGL_FOCUS_JOURNAL to a "
            "writable file, or to off (changes are then kept in memory only)."
        )

    @staticmethod
    @contextlib.contextmanager
    def _transaction(db: sqlite3.Connection) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")  # takes the write lock now: no other process interleaves
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # --- the journal --------------------------------------------------------------------------

    async def begin(self, change: Change) -> None:
        stored = change.model_copy(update={"outcome": "pending"})
        cutoff = (now() - self.keep).timestamp()

        def write(db: sqlite3.Connection) -> None:
            with self._transaction(db):
                db.execute(f"DELETE FROM changes WHERE at < ? AND outcome NOT IN ({UNSETTLED_SQL})", (cutoff,))
                _store(db, stored)

        await self._run(write)

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
        def update(change: Change) -> Change:
            return settled_copy(
                change, outcome, group_id=group_id, group_name=group_name, after=after, note=note, steps=steps
            )

        await self._update(change_id, update)

    async def mark_undone(self, change_id: str, undone_by: str) -> None:
        await self._update(change_id, lambda change: change.model_copy(update={"undone_by": undone_by}))

    async def _update(self, change_id: str, update: Callable[[Change], Change]) -> None:
        def write(db: sqlite3.Connection) -> None:
            with self._transaction(db):
                row = db.execute("SELECT body FROM changes WHERE id = ?", (change_id,)).fetchone()
                change = None if row is None else parsed(change_id, row[0])
                if change is not None:  # gone, or unreadable (skipped by every listing): left as it is
                    _store(db, update(change))

        await self._run(write)

    async def get(self, change_id: str) -> Change | None:
        rows = await self._run(lambda db: db.execute("SELECT body FROM changes WHERE id = ?", (change_id,)).fetchall())
        return parsed(change_id, rows[0][0]) if rows else None

    async def changes(
        self,
        organization_id: int,
        *,
        group_id: int | None = None,
        since: datetime | None = None,
        limit: int = 20,
        group_name: str | None = None,
    ) -> Changes:
        sql, params = "SELECT id, body FROM changes WHERE organization_id = ?", list[object]([organization_id])
        if since is not None:
            sql += " AND at >= ?"
            params.append(since.timestamp())
        if group_id is not None or group_name is not None:
            sql += " AND (group_id = ? OR group_key = ?)"
            params += [group_id, name_key(group_name)]
        sql += " ORDER BY at DESC, rowid DESC LIMIT ?"
        params.append(max(limit, 0))
        rows = await self._run(lambda db: db.execute(sql, params).fetchall())
        return _readable(rows)

    async def unsettled(
        self, organization_id: int, *, group_id: int | None = None, create_name: str | None = None
    ) -> Changes:
        sql = f"SELECT id, body FROM changes WHERE organization_id = ? AND outcome IN ({UNSETTLED_SQL}) ORDER BY at"
        rows = await self._run(lambda db: db.execute(sql, (organization_id,)).fetchall())
        found = _readable(rows)
        return Changes((c for c in found if matches_unsettled(c, group_id, create_name)), found.skipped)

    async def aclose(self) -> None:
        """Close this process's connection; the next operation opens a new one."""

        def close() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(close)


def _readable(rows: list[tuple[str, str]]) -> Changes:
    """The rows' changes, in order; an unreadable row is skipped and its id kept to be named."""
    changes = Changes()
    for change_id, body in rows:
        change = parsed(str(change_id), body)
        if change is None:
            changes.skipped.append(str(change_id))
        else:
            changes.append(change)
    return changes


def _store(db: sqlite3.Connection, change: Change) -> None:
    db.execute(
        "INSERT INTO changes (id, organization_id, at, group_id, group_key, tool, outcome, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, "
        "group_key = excluded.group_key, outcome = excluded.outcome, body = excluded.body",
        (
            change.id,
            change.organization_id,
            change.at.timestamp(),
            change.group_id,
            name_key(change.group_name),
            change.tool,
            change.outcome,
            json.dumps(change.model_dump(mode="json"), ensure_ascii=False),
        ),
    )
