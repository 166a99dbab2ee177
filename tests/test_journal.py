"""The change journal's stores against its contract (focus_mcp.journal.model.Journal)."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import SECRET_KEY, make_settings
from redis_server import redis_server

from focus_mcp.journal import (
    Change,
    Journal,
    MemoryJournal,
    RedisJournal,
    SqliteJournal,
    fingerprint,
    new_change_id,
    now,
)
from focus_mcp.journal.model import ID_ALPHABET, JournalError, JournalUnavailable

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
