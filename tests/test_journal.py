"""The change journal's stores against its contract (focus_mcp.journal.model.Journal)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import SECRET_KEY, make_settings

from focus_mcp.journal import Change, Journal, MemoryJournal, fingerprint, new_change_id, now
from focus_mcp.journal.model import ID_ALPHABET

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


JournalFactory = Callable[[], Journal]


@pytest.fixture
async def journal() -> AsyncIterator[Journal]:
    store = MemoryJournal()
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


async def test_memory_journal_drops_old_settled_entries_only() -> None:
    journal = MemoryJournal(days=1)
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
