"""The one write pipeline under races and outages, against the loopback stand-in API (faulty_api):
each test is a finding of the adversarial run it must no longer reproduce."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import pytest
from faulty_api import SECURITY, WS, FaultyAPI, faulty_api, served
from helpers import text
from spawned import COMMAND, PREFIX, ServerLog, server_env

from focus_mcp.journal import Change, JournalUnavailable, MemoryJournal, now
from focus_mcp.journal.model import Step

pytestmark = pytest.mark.anyio


def outsider(api: FaultyAPI) -> int:
    return next(u for u in api.sandbox.users if u not in api.sandbox.groups[SECURITY].users)


async def test_a_re_create_still_out_holds_up_a_retried_undo_of_the_same_delete() -> None:
    """Finding 1: the undo of a delete whose re-create is unknown, retried at once, made a second team."""
    async with served(write_timeout=0.2) as (api, client):
        deleted = await client.call_tool("delete_group", {"group_id": SECURITY, "confirm": True})
        assert not deleted.is_error, text(deleted)
        change_id = deleted.structured_content["change_id"]
        held = api.fault("POST", "groups", "hold")
        first = await client.call_tool("undo_change", {"change_id": change_id})
        assert first.structured_content["outcome"] == "unknown", text(first)
        again = await client.call_tool("undo_change", {"change_id": change_id})
        assert again.is_error and "still out" in text(again), text(again)
        held.release.set()
        await held.done.wait()  # the first re-create lands late
        third = await client.call_tool("undo_change", {"change_id": change_id})  # sets the roles it did not send
        assert not third.is_error and third.structured_content["outcome"] == "written", text(third)
        fourth = await client.call_tool("undo_change", {"change_id": change_id})
        assert "already undone" in text(fourth), text(fourth)
    assert api.count("POST", "groups") == 1
    assert sum(1 for g in api.sandbox.groups.values() if g.name == "Security") == 1


@asynccontextmanager
async def one_shot(api: FaultyAPI, tool: str, arguments: dict[str, Any]) -> AsyncIterator[tuple[ServerLog, Any]]:
    """`focus-mcp call tool arguments` spawned against the loopback API (the test's SQLite journal):
    its stderr read as written; the process, awaited by the caller."""
    log = ServerLog()
    command = [COMMAND, *PREFIX, "call", tool, json.dumps(arguments)]
    env = {**server_env(api), "TOGGL_FOCUS_LOG_LEVEL": "INFO", "TOGGL_FOCUS_WRITE_SETTLE": "0"}
    async with await anyio.open_process(command, env=env) as process, anyio.create_task_group() as tg:
        assert process.stderr is not None
        tg.start_soon(log.pump, process.stderr)
        yield log, process


async def output(process: Any) -> str:
    assert process.stdout is not None
    chunks = [chunk async for chunk in process.stdout]
    await process.wait()
    return b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="spawns focus-mcp with a loopback API")
async def test_two_processes_undoing_one_delete_make_one_group() -> None:
    """Finding 2: two one-shot processes sharing the SQLite journal both undid one delete: two teams.
    The second waits for the first's turn (a file lock beside the journal), then finds it undone."""
    async with faulty_api() as api:
        async with one_shot(api, "delete_group", {"group_id": SECURITY, "confirm": True}) as (_, deleting):
            said = await output(deleting)
        change_id = json.loads(said)["structuredContent"]["change_id"] if said.startswith("{") else None
        change_id = change_id or said.split("Journaled as change ")[1].split(".")[0]
        held = api.fault("POST", "groups", "hold")
        async with one_shot(api, "undo_change", {"change_id": change_id}) as (_, first):
            with anyio.fail_after(30):
                await held.arrived.wait()  # the first undo's create is out, its turn held
            async with one_shot(api, "undo_change", {"change_id": change_id}) as (log, second):
                with anyio.fail_after(30):
                    await log.wait_for("waits for another process's change")
                held.release.set()
                first_said, second_said = await output(first), await output(second)
    assert api.count("POST", "groups") == 1, (first_said, second_said)
    assert sum(1 for g in api.sandbox.groups.values() if g.name == "Security") == 1
    assert "Created group" in first_said, first_said
    assert "nothing written" in second_said and "already undone" in second_said, second_said


class UnwritableJournal(MemoryJournal):
    async def begin(self, change: Change) -> None:
        raise JournalUnavailable("Redis at TOGGL_FOCUS_REDIS_URL is unreachable")


async def test_a_change_that_cannot_be_journaled_is_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Findings 3 and 4: the write was sent and answered "Journaled as change X" for an entry that
    never existed (the journal busy, or Redis down): now nothing is sent, and the answer says why."""
    monkeypatch.setattr("focus_mcp.server.open_journal", lambda settings: UnwritableJournal())
    async with served() as (api, client):
        x = outsider(api)
        result = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        listed = await client.call_tool("list_changes", {})
    said = text(result)
    assert result.is_error and "Not written: the change could not be journaled" in said, said
    assert "Redis at TOGGL_FOCUS_REDIS_URL is unreachable" in said and "nothing was sent" in said
    assert "Journaled as change" not in said and api.count("PUT") == 0
    assert x not in api.sandbox.groups[SECURITY].users
    assert "change" not in text(listed).split("\n", 1)[-1] or not listed.structured_content.get("changes")


class UndoUnmarkableJournal(MemoryJournal):
    async def mark_undone(self, change_id: str, undone_by: str) -> None:
        raise JournalUnavailable("the journal is busy")


async def test_an_undo_whose_original_cannot_be_marked_undone_says_that_not_pending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An undo settled in the journal, whose original change could not be marked undone, was said to
    stay pending there: the answer now says what the journal did not record."""
    journal = UndoUnmarkableJournal()
    monkeypatch.setattr("focus_mcp.server.open_journal", lambda settings: journal)
    async with served() as (api, client):
        x = outsider(api)
        added = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        change_id = added.structured_content["change_id"]
        undone = await client.call_tool("undo_change", {"change_id": change_id})
    said = text(undone)
    undo_id = undone.structured_content["change_id"]
    entry = await journal.get(undo_id)
    assert entry is not None and entry.outcome == "written", said
    assert x not in api.sandbox.groups[SECURITY].users
    assert "stays pending" not in said, said
    assert f"could not mark change {change_id} as undone by {undo_id} (the journal is busy)" in said, said


async def test_an_earlier_write_landing_during_the_settle_wait_lets_the_next_edit_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding 5: a pending write that landed during the settle wait crashed the next edit (IndexError),
    which then said "unknown" though nothing was sent."""
    from focus_mcp.writes import unsettled
    from focus_mcp.writes.reads import Look

    journal = MemoryJournal()
    step = Step(kind="delete", group_id=7, group_name="Ops", workspace_id=WS, before={"id": 7}, request={})
    pending = Change(
        id="pend2222",
        at=now() - timedelta(seconds=1),
        tool="delete_group",
        organization_id=1,
        workspace_id=WS,
        group_id=7,
        group_name="Ops",
        arguments={},
        before={"id": 7},
        request={"workspace_id": WS},
        after=None,
        outcome="pending",
        who="x",
        steps=[step],
    )
    await journal.begin(pending)
    reads = iter([Look(False, "the group still there"), Look(True, "group 7 gone")])

    async def look(*_: Any, **__: Any) -> Look:
        return next(reads)

    monkeypatch.setattr(unsettled, "look", look)

    class State:  # what clear_unsettled uses of the server's state
        settings = type("S", (), {"write_settle": 0.0})()

    state: Any = State()
    state.journal = journal
    await unsettled.clear_unsettled(state, 1, group_ids=[7], names=[])  # no IndexError, no refusal
    settled = await journal.get("pend2222")
    assert settled is not None and settled.outcome == "written" and settled.steps[0].outcome == "written"


async def test_an_undo_under_faults_names_each_step_by_its_outcome() -> None:
    """Finding 8: an undo's answer under faults gave counts ("3 written, 1 unknown"), not names."""
    async with served(write_timeout=0.2) as (api, client):
        design = next(g for g in api.sandbox.groups.values() if g.name == "Design")
        with_roles = [u for u, role in design.roles.items() if role]
        assert len(with_roles) >= 2
        deleted = await client.call_tool(
            "delete_group", {"group_id": design.id, "workspace_id": 4300001, "confirm": True}
        )
        api.fault("PUT", "user_role", "api_503")  # the first member's role refused by the API
        undone = await client.call_tool("undo_change", {"change_id": deleted.structured_content["change_id"]})
    said = text(undone)
    assert undone.is_error and "Steps written: create a group named 'Design'" in said, said
    assert "not written: set " in said and "Service unavailable" in said, said
    first = api.sandbox.users[with_roles[0]].name
    assert f"not written: set {first}#{with_roles[0]}'s Focus role" in said, said
    assert "unknown" not in said.split("Steps", 1)[1], said


async def test_a_write_the_api_answered_with_its_own_error_is_settled_at_once() -> None:
    """Finding 12: a PUT answered by the API's own JSON 503 (the request ended there) held every edit of
    the team for 10 minutes, the entry unknown for good. Now the read at once settles it not written."""
    async with served(write_settle=30.0) as (api, client):  # a settle wait would show as a hang
        x = outsider(api)
        api.fault("PUT", f"groups/{SECURITY}", "api_503")
        with anyio.fail_after(10):
            refused = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
            assert refused.is_error and refused.structured_content["outcome"] == "not_written", text(refused)
            assert "Service unavailable" in text(refused) and "Outcome unknown" not in text(refused)
            again = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        listed = await client.call_tool("list_changes", {})
    assert not again.is_error and again.structured_content["outcome"] == "written", text(again)
    assert x in api.sandbox.groups[SECURITY].users
    assert [c["outcome"] for c in listed.structured_content["changes"]] == ["written", "not_written"]


async def test_a_gateway_502_still_holds_the_group_until_a_read_shows_the_write() -> None:
    """The long wait stays for what may still arrive: a gateway's 502 page is no answer of the API's."""
    async with served() as (api, client):
        x = outsider(api)
        api.fault("PUT", f"groups/{SECURITY}", "gateway_502")
        first = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert first.structured_content["outcome"] == "unknown", text(first)
        again = await client.call_tool("update_group", {"group_id": SECURITY, "name": "Security team"})
    assert again.is_error and "still out" in text(again), text(again)
