"""A sent write belongs to the server: a call abandoned by its client (the host's stop button, a read
timeout, a closed connection) does not cancel a write that may have reached the API, nor free the
group for the next edit before that write's outcome is known.

Through the real protocol (the SDK's in-memory Client) against the loopback API of faulty_api, which
holds a request until the test releases it. The cancel is the client's own: the call's scope is
cancelled, and the SDK sends notifications/cancelled.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from faulty_api import SECURITY, WS, faulty_api, served
from helpers import text
from mcp import Client
from pydantic import SecretStr
from test_writes import outsiders

from focus_mcp.config import Settings
from focus_mcp.sandbox import data as seed
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio


async def abandoned(client: Client, tool: str, arguments: dict[str, Any], arrived: anyio.Event) -> None:
    """Call `tool` and, once its write is at the API, cancel the call as a host's stop button does."""
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, tool, arguments)
            await arrived.wait()
            scope.cancel()


async def test_a_cancelled_edit_holds_the_group_until_its_put_lands_and_no_edit_is_lost() -> None:
    async with served() as (api, client):
        x, y = outsiders(api, 2)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        await abandoned(client, "update_group", {"group_id": SECURITY, "add_users": [x]}, held.arrived)
        results: list[Any] = []

        async def add_y() -> None:
            results.append(await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [y]}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(add_y)
            await anyio.wait_all_tasks_blocked()
            assert api.count("PUT") == 1 and not results  # y waits for the turn x's write still holds
            held.release.set()
        (second,) = results
        assert second.structured_content["outcome"] == "written", text(second)
        assert {x, y} <= set(api.sandbox.groups[SECURITY].users)  # every edit reported written is there


async def test_a_cancelled_create_then_the_same_create_makes_one_group() -> None:
    async with served() as (api, client):
        held = api.fault("POST", "groups", "hold")
        await abandoned(client, "create_group", {"name": "Night Shift"}, held.arrived)
        results: list[Any] = []

        async def create_again() -> None:
            results.append(await client.call_tool("create_group", {"name": "Night Shift"}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(create_again)
            await anyio.wait_all_tasks_blocked()
            assert api.count("POST") == 1 and not results
            held.release.set()
        (again,) = results
        assert again.is_error and "already exists" in text(again), text(again)
        assert [g.name for g in api.sandbox.groups.values()].count("Night Shift") == 1


async def test_a_call_cancelled_before_its_write_is_sent_sends_nothing() -> None:
    async with served() as (api, client):
        (x,) = outsiders(api, 1)
        read = api.fault("GET", "teams", "hold")  # the read under the turn, before any write
        await abandoned(client, "update_group", {"group_id": SECURITY, "add_users": [x]}, read.arrived)
        read.release.set()
        await anyio.wait_all_tasks_blocked()
        assert api.count("PUT") == 0 and x not in api.sandbox.groups[SECURITY].users
        after = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert after.structured_content["outcome"] == "written", text(after)  # the turn was released


async def test_shutdown_awaits_a_write_still_out() -> None:
    async with faulty_api() as api:
        settings = Settings(
            api_key=SecretStr("k"),
            base_url=api.base_url,
            organization_id=seed.ORGANIZATION_ID,
            workspace_id=WS,
            write_settle=0,
        )
        (x,) = outsiders(api, 1)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        closed = anyio.Event()

        async def session() -> None:
            async with Client(build_server(settings)) as client:
                await abandoned(client, "update_group", {"group_id": SECURITY, "add_users": [x]}, held.arrived)
            closed.set()  # the client is gone and the server's lifespan has ended

        async with anyio.create_task_group() as tg:
            tg.start_soon(session)
            await held.arrived.wait()
            await anyio.wait_all_tasks_blocked()
            assert not closed.is_set()  # the server waits for the write it owns
            held.release.set()
        assert x in api.sandbox.groups[SECURITY].users
