"""The change journal's stores against its contract (focus_mcp.journal.model.Journal)."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import SECRET_KEY, make_settings
from loopback import free_port
from redis_server import redis_server

from focus_mcp.journal import (
    Change,
    Changes,
    Journal,
    MemoryJournal,
    RedisJournal,
    SqliteJournal,
    fingerprint,
    new_change_id,
    now,
)
from focus_mcp.journal.model import ID_ALPHABET, JournalError, JournalUnavailable
from focus_mcp.journal.redis_store import _text

pytestmark = pytest.mark.anyio

ORG = 11


def change(**fields: Any) -> Change:
    values: dict[str, Any] = {
        "id": new_change_id(),
        "at": now(),
        "tool": "update_group",
        "organization_id": ORG,
        "workspace_id": 22,
        "group_id": 5,
        "group_name": "Design",
        "arguments": {"group_id": "Design", "add_users": ["Amir"]},
        "before": {"id": 5, "name": "Design", "users": []},
        "request": {"name": "Design", "emoji": "", "organization_users": [101], "workspaces": [22]},
        "after": None,
        "outcome": "pending",
        "who": "abcd1234",
    }
    values.update(fields)
    return Change(**values)


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Journal]:
    if request.param == "redis":
        with redis_server() as url:
            shared = RedisJournal(url, "https://focus.test/api")
            yield shared
            await shared.aclose()
        return
    store: Journal = MemoryJournal() if request.param == "memory" else SqliteJournal(tmp_path / "j.sqlite")
    yield store
    await store.aclose()


async def test_begin_settle_get(journal: Journal) -> None:
    c = change(outcome="written")  # begin stores "pending" whatever the change says
    await journal.begin(c)
    got = await journal.get(c.id)
    assert got is not None and got.outcome == "pending" and got.settled_at is None
    assert got.arguments == c.arguments and got.request == c.request
    after = {"id": 5, "name": "Design", "users": [{"organization_user_id": 101}]}
    await journal.settle(c.id, "written", after=after, note="answer")
    got = await journal.get(c.id)
    assert got is not None and got.outcome == "written" and got.note == "answer" and got.after == after
    assert got.settled_at is not None and got.group_name == "Design"
    assert await journal.get("nosuchid") is None
    await journal.settle("nosuchid", "written")  # an expired entry: ignored


async def test_a_create_learns_its_group_id(journal: Journal) -> None:
    c = change(tool="create_group", group_id=None, group_name="Ops", before=None)
    await journal.begin(c)
    await journal.settle(c.id, "written", group_id=77, group_name="Ops")
    got = await journal.get(c.id)
    assert got is not None and got.group_id == 77
    assert [x.id for x in await journal.changes(ORG, group_id=77)] == [c.id]


async def test_changes_newest_first_with_filters(journal: Journal) -> None:
    t0 = now() - timedelta(hours=3)
    old = change(at=t0, group_id=5)
    mid = change(at=t0 + timedelta(hours=1), group_id=6, group_name="Ops")
    new = change(at=t0 + timedelta(hours=2), group_id=5)
    elsewhere = change(at=t0, organization_id=99)
    for c in (mid, old, new, elsewhere):
        await journal.begin(c)
    assert [c.id for c in await journal.changes(ORG)] == [new.id, mid.id, old.id]
    assert [c.id for c in await journal.changes(ORG, limit=2)] == [new.id, mid.id]
    assert [c.id for c in await journal.changes(ORG, group_id=5)] == [new.id, old.id]
    assert [c.id for c in await journal.changes(ORG, group_name="Ops")] == [mid.id]
    assert [c.id for c in await journal.changes(ORG, group_id=6, group_name="Design")] == [new.id, mid.id, old.id]
    assert [c.id for c in await journal.changes(ORG, since=t0 + timedelta(minutes=30))] == [new.id, mid.id]
    assert [c.id for c in await journal.changes(99)] == [elsewhere.id]


async def test_changes_at_the_same_time_are_listed_newest_begun_first(journal: Journal) -> None:
    """A clock too coarse to tell two changes apart (or one stepped back) still lists newest first."""
    at = now()
    first, second, third = (change(at=at) for _ in range(3))
    for c in (first, second, third):
        await journal.begin(c)
    await journal.settle(first.id, "written")  # settling does not move a change
    assert [c.id for c in await journal.changes(ORG)] == [third.id, second.id, first.id]
    assert [c.id for c in await journal.changes(ORG, group_id=5, limit=2)] == [third.id, second.id]


async def test_unsettled_are_pending_and_unknown(journal: Journal) -> None:
    pending = change(group_id=5)
    unknown = change(group_id=5)
    written = change(group_id=5)
    create = change(tool="create_group", group_id=None, group_name="New Team")
    for c in (pending, unknown, written, create):
        await journal.begin(c)
    await journal.settle(unknown.id, "unknown", note="not seen after 5 s")
    await journal.settle(written.id, "written")
    assert {c.id for c in await journal.unsettled(ORG)} == {pending.id, unknown.id, create.id}
    assert {c.id for c in await journal.unsettled(ORG, group_id=5)} == {pending.id, unknown.id}
    assert [c.id for c in await journal.unsettled(ORG, create_name=" new team")] == [create.id]
    assert {c.id for c in await journal.unsettled(ORG, group_id=6, create_name="New Team")} == {create.id}
    assert await journal.unsettled(99) == []
    await journal.settle(unknown.id, "not_written", note="fresh read")
    assert {c.id for c in await journal.unsettled(ORG, group_id=5)} == {pending.id}


async def test_mark_undone(journal: Journal) -> None:
    c, undo = change(), change(tool="undo_change")
    await journal.begin(c)
    await journal.begin(undo.model_copy(update={"undoes": c.id}))
    await journal.mark_undone(c.id, undo.id)
    got = await journal.get(c.id)
    assert got is not None and got.undone_by == undo.id
    got_undo = await journal.get(undo.id)
    assert got_undo is not None and got_undo.undoes == c.id


async def test_stored_changes_are_copies(journal: Journal) -> None:
    c = change()
    await journal.begin(c)
    c.arguments["add_users"].append("Mallory")
    got = await journal.get(c.id)
    assert got is not None and got.arguments["add_users"] == ["Amir"]
    got.arguments.clear()
    again = await journal.get(c.id)
    assert again is not None and again.arguments


@pytest.mark.parametrize("store", ["memory", "sqlite"])
async def test_old_settled_entries_are_dropped_unsettled_kept(store: str, tmp_path: Path) -> None:
    journal: Journal = MemoryJournal(days=1) if store == "memory" else SqliteJournal(tmp_path / "j.sqlite", days=1)
    old_settled, old_unsettled = change(at=now() - timedelta(days=2)), change(at=now() - timedelta(days=2))
    await journal.begin(old_settled)
    await journal.begin(old_unsettled)
    await journal.settle(old_settled.id, "written")
    await journal.begin(change())
    assert await journal.get(old_settled.id) is None
    assert await journal.get(old_unsettled.id) is not None  # a write still out is never forgotten


def test_ids_are_short_and_distinct() -> None:
    ids = {new_change_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 8 and set(i) <= set(ID_ALPHABET) for i in ids)


def test_fingerprint_is_short_stable_and_not_the_key() -> None:
    settings = make_settings()
    fp = fingerprint(settings)
    assert fp == fingerprint(make_settings()) and len(fp) == 8 and int(fp, 16) >= 0
    assert fp not in SECRET_KEY and SECRET_KEY[:8] != fp
    assert fingerprint(make_settings(api_key="toggl_sk_another")) != fp
    assert fingerprint(make_settings(api_key=None)) == "none"


async def test_sqlite_file_is_private_and_shared_between_instances(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal.sqlite"
    first, second = SqliteJournal(path), SqliteJournal(path)  # two processes' views of one file
    c = change()
    await first.begin(c)
    other = sqlite3.connect(path)  # another process still reading: the -wal and -shm files stay
    other.execute("SELECT count(*) FROM changes").fetchall()
    await second.settle(c.id, "written", note="answer")
    got = await first.get(c.id)
    assert got is not None and got.outcome == "written"
    assert [x.id for x in await second.changes(ORG)] == [c.id]
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for name in ("journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm"):
        assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
    other.close()


async def test_sqlite_makes_a_loose_file_private(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    path.touch()
    os.chmod(path, 0o644)
    await SqliteJournal(path).begin(change())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_sqlite_unusable_path_is_a_plain_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(JournalError, match=r"dir\.sqlite is not a regular file: refused.*TOGGL_FOCUS_JOURNAL"):
        await SqliteJournal(tmp_path / "dir.sqlite").begin(change())
    (tmp_path / "file").write_text("a user's notes")
    with pytest.raises(JournalUnavailable, match=r"file/j\.sqlite cannot be used \(.*TOGGL_FOCUS_JOURNAL"):
        await SqliteJournal(tmp_path / "file" / "j.sqlite").begin(change())


async def test_sqlite_parallel_settles_lose_nothing(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.sqlite")
    started = [change() for _ in range(20)]
    for c in started:
        await journal.begin(c)
    async with anyio.create_task_group() as tg:
        for c in started:
            tg.start_soon(journal.settle, c.id, "written")
            tg.start_soon(journal.mark_undone, c.id, "zzzzzzzz")
    for c in started:
        got = await journal.get(c.id)
        assert got is not None and got.outcome == "written" and got.undone_by == "zzzzzzzz"


async def test_redis_replicas_share_changes_and_their_settling() -> None:
    with redis_server() as url:
        one, two = RedisJournal(url, "https://focus.test/api"), RedisJournal(url, "https://focus.test/api")
        sandbox = RedisJournal(url, "https://focus.test/api sandbox")
        c = change()
        await one.begin(c)
        assert [x.id for x in await two.unsettled(ORG, group_id=5)] == [c.id]
        await two.settle(c.id, "written", note="fresh read")  # the next edit, on the other replica
        assert await one.unsettled(ORG) == []  # its own pending copy is not trusted over Redis
        got = await one.get(c.id)
        assert got is not None and got.outcome == "written" and got.note == "fresh read"
        assert await sandbox.changes(ORG) == [] and await sandbox.get(c.id) is None
        for store in (one, two, sandbox):
            await store.aclose()
        await one.begin(change())  # usable again after aclose: it reconnects
        assert len(await one.changes(ORG)) == 2
        await one.aclose()


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


async def test_redis_trims_by_age() -> None:
    with redis_server() as url:
        journal = RedisJournal(url, "https://focus.test/api", days=1)
        stream = journal._key("org", ORG, "stream")
        two_days_ago = int((time.time() - 2 * 86_400) * 1000)
        await journal.redis.xadd(stream, {"id": "oldentry"}, id=f"{two_days_ago}-0")  # begun two days ago
        fresh = change()
        await journal.begin(fresh)
        assert [fields for _, fields in await journal.redis.xrange(stream) or []] == [{b"id": fresh.id.encode()}]
        hash_key = journal._key("org", ORG, "change", fresh.id)
        assert 0 < await journal.redis.ttl(hash_key) <= 86_400  # its hash expires too
        await journal.aclose()


# --- a journal that cannot be written is said, never swallowed (issue 32, findings 3, 9, 11) -------


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


async def test_a_malformed_entry_is_skipped_and_named_never_fatal(journal: Journal) -> None:
    if isinstance(journal, MemoryJournal):
        pytest.skip("memory holds Change objects: nothing to misread")
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
