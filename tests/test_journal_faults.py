"""The journal's stores when they cannot be used: a store that cannot
write says so (JournalUnavailable), never a silent fallback; an entry that cannot be read is skipped
and named; a path that is a link or not a journal is refused untouched."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import anyio
import pytest
from loopback import free_port
from redis_server import redis_server
from test_journal import ORG, change

from focus_mcp.journal import Changes, Journal, RedisJournal, SqliteJournal, now
from focus_mcp.journal.model import JournalUnavailable
from focus_mcp.journal.redis_store import _text

pytestmark = pytest.mark.anyio


async def test_redis_away_refuses_to_journal_naming_the_url_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No silent fallback to this process's memory: a change is journaled where every replica lists it,
    or the store says it cannot be (the write path then sends nothing)."""
    url = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens
    journal = RedisJournal(url, "https://focus.test/api")
    c = change()
    for call in (
        partial(journal.begin, c),
        partial(journal.settle, c.id, "written"),
        partial(journal.changes, ORG),
        partial(journal.unsettled, ORG),
    ):
        with pytest.raises(JournalUnavailable) as refused:
            await call()
        said = str(refused.value)
        assert "hunter2" not in said and url not in said
        assert f"Redis at redis://127.0.0.1:{url.rsplit(':', 1)[1]}" in said and "TOGGL_FOCUS_REDIS_URL" in said
    assert sum("unreachable" in r.message for r in caplog.records) == 1  # logged once per outage
    await journal.aclose()


async def test_redis_keys_are_scoped_by_organization() -> None:
    with redis_server() as url:
        journal = RedisJournal(url, "https://focus.test/api")
        here, there = change(), change(organization_id=99)
        await journal.begin(here)
        await journal.begin(there)
        keys = {_text(k) for k in await journal.redis.keys("*")}
        assert journal._key("org", ORG, "change", here.id) in keys
        assert journal._key("org", 99, "change", there.id) in keys
        assert not any(k.endswith(f":change:{here.id}") and f":org:{ORG}:" not in k for k in keys)
        await journal.settle(there.id, "written")
        got = await journal.get(there.id)
        assert got is not None and got.organization_id == 99 and got.outcome == "written"
        assert [c.id for c in await journal.changes(ORG)] == [here.id]
        assert [c.id for c in await journal.unsettled(ORG)] == [here.id] and await journal.unsettled(99) == []
        await journal.aclose()


async def test_sqlite_busy_past_its_timeout_raises_and_keeps_no_entry(tmp_path: Path) -> None:
    """Another writer holding the file: begin waits its bounded busy_timeout, then raises; the change
    is nowhere (so no answer may say it was journaled)."""
    path = tmp_path / "j.sqlite"
    journal = SqliteJournal(path, busy_ms=50)
    await journal.begin(change())  # the file exists, in WAL
    holder = sqlite3.connect(path, isolation_level=None)  # as another process: holds the write lock
    holder.execute("BEGIN IMMEDIATE")
    c = change()
    with pytest.raises(JournalUnavailable, match=r"j\.sqlite is busy: another process held it for more than 0\.05 s"):
        await journal.begin(c)
    with pytest.raises(JournalUnavailable, match="busy"):
        await journal.settle(c.id, "written")
    holder.execute("ROLLBACK")
    holder.close()
    assert await journal.get(c.id) is None and c.id not in {x.id for x in await journal.changes(ORG)}
    await journal.begin(c)  # free again: the same journal writes
    assert await journal.get(c.id) is not None
    await journal.aclose()


HOLD_THE_FILE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
db.execute("ROLLBACK")
"""


async def test_sqlite_held_by_another_process_raises_and_journals_nothing(tmp_path: Path) -> None:
    """The finding as seen: another process (a served host, a one-shot call) holds the file's write lock."""
    path = tmp_path / "j.sqlite"
    journal = SqliteJournal(path, busy_ms=100)
    await journal.begin(change())
    c = change()
    async with await anyio.open_process([sys.executable, "-c", HOLD_THE_FILE, str(path)]) as holder:
        assert holder.stdout is not None and holder.stdin is not None
        said = b""
        while b"held" not in said:
            said += await holder.stdout.receive()
        with pytest.raises(JournalUnavailable, match=r"is busy: another process held it for more than 0\.1 s"):
            await journal.begin(c)
        await holder.stdin.aclose()
        assert await holder.wait() == 0
    assert await journal.get(c.id) is None
    await journal.begin(c)
    assert [x.id for x in await journal.unsettled(ORG)][-1] == c.id
    await journal.aclose()


@pytest.mark.parametrize("link", ["journal.sqlite", "journal.sqlite-wal"])
async def test_sqlite_refuses_a_symbolic_link_and_leaves_its_target_alone(tmp_path: Path, link: str) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("a user's file")
    os.chmod(target, 0o644)
    (tmp_path / link).symlink_to(target)
    with pytest.raises(JournalUnavailable, match=rf"{link} is a symbolic link: refused, left untouched"):
        await SqliteJournal(tmp_path / "journal.sqlite").begin(change())
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_text() == "a user's file"


async def test_sqlite_refuses_a_file_that_is_not_a_journal_and_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_text("a user's notes, named by mistake")
    os.chmod(path, 0o644)
    with pytest.raises(JournalUnavailable, match=r"journal\.sqlite is not a SQLite database: refused"):
        await SqliteJournal(path).begin(change())
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 and path.read_text().startswith("a user's notes")
    os.mkfifo(tmp_path / "fifo.sqlite")
    with pytest.raises(JournalUnavailable, match=r"fifo\.sqlite is not a regular file: refused"):
        await SqliteJournal(tmp_path / "fifo.sqlite").begin(change())


@pytest.fixture(params=["sqlite", "redis"])
async def stored(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Journal]:
    """The stores that read entries back from bytes (memory holds Change objects: nothing to misread)."""
    if request.param == "redis":
        with redis_server() as url:
            shared = RedisJournal(url, "https://focus.test/api")
            yield shared
            await shared.aclose()
        return
    store = SqliteJournal(tmp_path / "j.sqlite")
    yield store
    await store.aclose()


async def malformed(journal: Journal, bad_id: str) -> None:
    """Store, beside the journal's own entries, a pending entry that cannot be read."""
    if isinstance(journal, SqliteJournal):
        db = sqlite3.connect(journal.path)
        db.execute(
            "INSERT INTO changes (id, organization_id, at, group_id, group_key, tool, outcome, body) "
            "VALUES (?, ?, ?, 5, 'design', 'update_group', 'pending', ?)",
            (bad_id, ORG, now().timestamp(), '{"id": "' + bad_id + '", "at": "not a time"'),
        )
        db.commit()
        db.close()
    else:
        assert isinstance(journal, RedisJournal)
        await journal.redis.set(journal._key("owner", bad_id), str(ORG))
        await journal.redis.hset(journal._key("org", ORG, "change", bad_id), mapping={"change": "{not json"})
        await journal.redis.sadd(journal._key("org", ORG, "unsettled"), bad_id)
        await journal.redis.xadd(journal._key("org", ORG, "stream"), {"id": bad_id})


async def test_a_malformed_entry_is_skipped_and_named_never_fatal(stored: Journal) -> None:
    journal = stored
    good = change()
    await journal.begin(good)
    await malformed(journal, "badrow22")
    hostile = change(before={"id": 5, "users": "not a list"})  # JSON and a Change, but no group before
    await journal.begin(hostile)
    listed = await journal.changes(ORG)
    assert [c.id for c in listed] == [good.id]
    assert isinstance(listed, Changes) and sorted(listed.skipped) == sorted(["badrow22", hostile.id])
    unsettled = await journal.unsettled(ORG, group_id=5)  # a pending unreadable entry holds up no write
    assert [c.id for c in unsettled] == [good.id]
    assert isinstance(unsettled, Changes) and sorted(unsettled.skipped) == sorted(["badrow22", hostile.id])
    assert await journal.get("badrow22") is None
    await journal.settle("badrow22", "written")  # left as it is, no error
    await journal.settle(good.id, "written")
    assert await journal.unsettled(ORG) == []
