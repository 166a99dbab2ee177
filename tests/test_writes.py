"""Writes under a network that holds and drops requests: no edit lost, undone or duplicated.

Each test drives the tools through the real MCP protocol (the SDK's in-memory Client) against the
sandbox organization served on a loopback socket by `faulty_api`, which holds requests until the
test releases them or applies them and closes the connection without an answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import httpx2
import pytest
from conftest import Routes, group_json, make_settings, teams_json
from faulty_api import SECURITY, WS, FaultyAPI, served
from helpers import connect, text
from loopback import free_port
from pydantic import SecretStr

from focus_mcp.config import Settings
from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio


def outsiders(api: FaultyAPI, n: int) -> list[int]:
    """n users who are not in Security."""
    return [u for u in api.sandbox.users if u not in api.sandbox.groups[SECURITY].users][:n]


async def test_an_edit_waits_for_a_held_edit_of_the_same_group_and_neither_is_lost() -> None:
    async with served() as (api, client):
        x, y = outsiders(api, 2)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        results: dict[int, Any] = {}

        async def add(user: int) -> None:
            results[user] = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [user]})

        async with anyio.create_task_group() as tg:
            tg.start_soon(add, x)
            await held.arrived.wait()
            reads_before = api.count("GET", "teams")
            tg.start_soon(add, y)
            await anyio.wait_all_tasks_blocked()
            assert api.count("GET", "teams") == reads_before  # y's edit has not even read the group
            held.release.set()
        assert all(r.structured_content["outcome"] == "written" for r in results.values())
        assert {x, y} <= set(api.sandbox.groups[SECURITY].users)
        assert api.count("PUT") == 2


async def test_ten_parallel_adds_behind_a_held_first_put_are_all_present() -> None:
    async with served() as (api, client):
        users = outsiders(api, 10)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        results: list[Any] = []

        async def add(user: int) -> None:
            results.append(await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [user]}))

        async with anyio.create_task_group() as tg:
            for user in users:
                tg.start_soon(add, user)
            await held.arrived.wait()
            await anyio.wait_all_tasks_blocked()
            held.release.set()
        written = [r for r in results if r.structured_content["outcome"] == "written"]
        assert len(written) == 10, [text(r) for r in results]
        assert set(users) <= set(api.sandbox.groups[SECURITY].users)


async def test_a_put_whose_answer_is_lost_is_not_sent_again_and_a_read_confirms_it() -> None:
    async with served() as (api, client):
        (x,) = outsiders(api, 1)
        api.fault("PUT", f"groups/{SECURITY}", "apply_then_drop")
        result = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert not result.is_error, text(result)
        assert result.structured_content["outcome"] == "written"
        assert "answer was lost" in text(result) and "a fresh read shows it applied" in text(result)
        assert api.count("PUT") == 1


async def test_a_put_that_times_out_unapplied_is_reported_unknown_and_never_resent() -> None:
    async with served(write_timeout=0.2) as (api, client):
        (x,) = outsiders(api, 1)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")  # released only when the test ends
        result = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert result.is_error and result.structured_content["outcome"] == "unknown"
        says = text(result)
        assert "Outcome unknown" in says and "this still to do: members added" in says
        assert "do not repeat it blindly" in says and "try again" not in says.lower()
        assert api.count("PUT") == 1
        assert not held.done.is_set()


async def test_a_create_held_past_the_timeout_then_repeated_makes_one_group() -> None:
    async with served(write_timeout=0.2) as (api, client):
        held = api.fault("POST", "groups", "apply_then_hold")  # created, but the answer does not come
        first = await client.call_tool("create_group", {"name": "Night Shift"})
        assert first.structured_content["outcome"] == "written", text(first)
        assert "its answer was lost; a fresh read shows" in text(first) and "Night Shift" in text(first)
        again = await client.call_tool("create_group", {"name": "Night Shift"})
        assert again.is_error and "already exists" in text(again) and "allow_duplicate_name" in text(again)
        held.release.set()
        assert [g.name for g in api.sandbox.groups.values()].count("Night Shift") == 1
        assert api.count("POST") == 1


async def test_a_create_of_a_taken_name_is_refused_unless_allowed() -> None:
    async with served() as (api, client):
        refused = await client.call_tool("create_group", {"name": "security"})
        assert refused.is_error and f"#{SECURITY}" in text(refused) and api.count("POST") == 0
        allowed = await client.call_tool("create_group", {"name": "Security", "allow_duplicate_name": True})
        assert allowed.structured_content["outcome"] == "written"
        assert [g.name for g in api.sandbox.groups.values()].count("Security") == 2


async def test_a_delete_processed_then_dropped_is_reported_deleted() -> None:
    async with served() as (api, client):
        api.fault("DELETE", f"groups/{SECURITY}", "apply_then_drop")
        result = await client.call_tool("delete_group", {"group_id": SECURITY, "confirm": True})
        assert not result.is_error, text(result)
        assert result.structured_content["deleted"] is True and SECURITY not in api.sandbox.groups


async def test_a_refused_write_says_not_written() -> None:
    async with served() as (_, client):
        result = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [999_999]})
        assert result.is_error and "Not written: PUT groups/{group_id} failed with HTTP 400" in text(result)


async def test_a_member_role_whose_answer_is_lost_is_confirmed_by_a_read() -> None:
    async with served() as (api, client):
        member = api.sandbox.groups[SECURITY].users[0]
        role = 5 if api.sandbox.groups[SECURITY].roles.get(member) == 4 else 4
        api.fault("PUT", f"groups/{SECURITY}/user_role", "apply_then_drop")
        args = {"group_id": SECURITY, "organization_user_id": member, "focus_role_id": role}
        result = await client.call_tool("set_group_member_role", args)
        assert not result.is_error and result.structured_content["outcome"] == "written", text(result)
        assert api.sandbox.groups[SECURITY].roles[member] == role and api.count("PUT", "user_role") == 1


async def test_an_unreadable_2xx_is_written_only_when_a_fresh_read_shows_it(routes: Routes) -> None:
    teams = [teams_json(), teams_json(group_json(gid=7, name="QA"))]  # before the create, then after it
    routes.add("GET", "teams", lambda request: httpx2.Response(200, json=teams.pop(0) if len(teams) > 1 else teams[0]))
    routes.add("POST", "groups", httpx2.Response(201, text="Created"))
    routes.add("PUT", "groups/7", httpx2.Response(200, text="<html>ok</html>"))  # the rename never shows
    routes.add("GET", "users", [])
    async with connect(make_settings(write_settle=0.0), routes.transport()) as client:
        created = await client.call_tool("create_group", {"name": "QA"})
        updated = await client.call_tool("update_group", {"group_id": 7, "name": "QA Team"})
        again = await client.call_tool("update_group", {"group_id": 7, "emoji": "x"})
    assert again.is_error and f"change {updated.structured_content['change_id']}" in text(again)
    other = Routes().add("GET", "teams", teams_json(group_json(gid=8, name="QA")))  # 7 is held up by the update
    other.add("DELETE", "groups/8", httpx2.Response(200, text="deleted"))  # the group stays
    async with connect(make_settings(write_settle=0.0), other.transport()) as client:
        deleted = await client.call_tool("delete_group", {"group_id": 8, "confirm": True})
    assert created.structured_content["outcome"] == "written" and created.structured_content["group"]["id"] == 7
    assert "the API answered 2xx, but its answer did not confirm it; a fresh read shows 7" in text(created)
    assert updated.structured_content["outcome"] == "unknown", text(updated)
    assert "this still to do: renamed 'QA' -> 'QA Team'" in text(updated)
    assert deleted.structured_content is not None, text(deleted)
    assert deleted.structured_content["outcome"] == "unknown", text(deleted)
    assert deleted.structured_content["deleted"] is False
    assert [r.method for r in routes.requests].count("PUT") == 1


async def test_gateway_pages_in_place_of_the_api_are_never_reported_written() -> None:
    async with served() as (api, client):
        (x,) = outsiders(api, 1)
        api.fault("PUT", f"groups/{SECURITY}", "html_200")
        api.fault("POST", "groups", "empty_200")
        updated = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        created = await client.call_tool("create_group", {"name": "Night Shift"})
        assert updated.structured_content["outcome"] == "unknown", text(updated)
        assert created.structured_content["outcome"] == "unknown", text(created)
        assert "no new group named 'Night Shift'" in text(created)
        assert x not in api.sandbox.groups[SECURITY].users
        assert "Night Shift" not in [g.name for g in api.sandbox.groups.values()]


async def test_a_held_write_sends_progress_while_it_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    from focus_mcp.writes import pipeline as outcomes

    monkeypatch.setattr(outcomes, "HEARTBEAT_SECONDS", 0.01)
    async with served() as (api, client):
        (x,) = outsiders(api, 1)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        heard = anyio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            if message and "waiting for the API's answer" in message:
                heard.set()

        async def release_when_heard() -> None:
            await heard.wait()
            held.release.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(release_when_heard)
            args = {"group_id": SECURITY, "add_users": [x]}
            result = await client.call_tool("update_group", args, progress_callback=on_progress)
        assert result.structured_content["outcome"] == "written" and x in api.sandbox.groups[SECURITY].users


async def test_a_delete_settled_by_a_read_still_says_when_replicas_were_not_serialised() -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # a Redis that cannot be reached
    # The journal off: with the journal in that Redis, nothing could be journaled, so nothing is sent.
    async with served(redis_url=SecretStr(nobody), write_timeout=0.2, journal="off") as (api, client):
        for _ in range(3):  # every attempt is applied (the first deletes) and never answered
            api.fault("DELETE", f"groups/{SECURITY}", "apply_then_hold")
        result = await client.call_tool("delete_group", {"group_id": SECURITY, "confirm": True})
    said = text(result)
    assert result.structured_content["deleted"] is True and "a fresh read shows group" in said, said
    assert "Redis (TOGGL_FOCUS_REDIS_URL) is unreachable" in said and api.count("DELETE") == 3


async def test_an_edit_after_a_put_of_unknown_outcome_is_refused_until_that_put_is_seen() -> None:
    async with served(write_timeout=0.2) as (api, client):
        x, y = outsiders(api, 2)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")  # past the write timeout and the settle reads
        first = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert first.structured_content["outcome"] == "unknown", text(first)
        second = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [y]})
        said = text(second)
        assert second.is_error and f"change {first.structured_content['change_id']}" in said, said
        assert "members added: #" in said and "it has not landed" in said and api.count("PUT") == 1
        held.release.set()
        await held.done.wait()  # the late PUT lands now
        third = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [y]})
        assert third.structured_content["outcome"] == "written", text(third)
        assert {x, y} <= set(api.sandbox.groups[SECURITY].users)


async def test_a_create_after_a_create_of_unknown_outcome_of_that_name_is_refused() -> None:
    async with served(write_timeout=0.2) as (api, client):
        held = api.fault("POST", "groups", "hold")
        first = await client.call_tool("create_group", {"name": "Night Shift"})
        assert first.structured_content["outcome"] == "unknown", text(first)
        again = await client.call_tool("create_group", {"name": "night shift", "allow_duplicate_name": True})
        assert again.is_error and first.structured_content["change_id"] in text(again), text(again)
        held.release.set()
        await held.done.wait()
        assert [g.name for g in api.sandbox.groups.values()].count("Night Shift") == 1 and api.count("POST") == 1


async def test_a_delete_of_a_group_that_does_not_exist_is_never_sent() -> None:
    async with served() as (api, client):
        api.fault("DELETE", "groups/999", "drop")
        result = await client.call_tool("delete_group", {"group_id": 999, "confirm": True})
        assert result.is_error and "Not deleted" in text(result) and "deleted" not in str(result.structured_content)
        assert api.count("DELETE") == 0


async def test_an_unknown_write_not_seen_within_the_hold_is_settled_not_written() -> None:
    from datetime import timedelta

    from focus_mcp.journal import Change, open_journal
    from focus_mcp.writes.unsettled import UNSETTLED_HOLD_SECONDS

    async with served() as (api, client):
        (x,) = outsiders(api, 1)
        group = api.sandbox.groups[SECURITY]
        before = {"id": SECURITY, "name": group.name, "users": [], "workspaces": []}
        request = {"name": "Renamed long ago", "emoji": "", "organization_users": [], "workspaces": []}
        old = Change(
            id="oldwrite", at=datetime.now(UTC) - timedelta(seconds=UNSETTLED_HOLD_SECONDS + 1), tool="update_group",
            organization_id=seed.ORGANIZATION_ID, workspace_id=WS, group_id=SECURITY, group_name=group.name,
            arguments={}, before=before, request=request, after=None, outcome="pending", who="test",
        )  # fmt: skip
        journal = open_journal(Settings())  # the server's own journal file (conftest's TOGGL_FOCUS_JOURNAL)
        await journal.begin(old)
        await journal.settle(old.id, "unknown", note="no answer")
        result = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert result.structured_content["outcome"] == "written", text(result)
        settled = await journal.get(old.id)
        assert settled is not None and settled.outcome == "not_written" and "not seen after" in settled.note
        await journal.aclose()
