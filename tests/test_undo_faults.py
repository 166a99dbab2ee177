"""undo_change against the loopback API that holds and drops requests: a change of unknown outcome is
settled by a read before it is undone (or the undo is refused), and an undo whose answer is lost is
settled like any write, never sent twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from conftest import FAST_RETRIES
from faulty_api import FaultyAPI, faulty_api
from helpers import text
from mcp import Client

from focus_mcp.config import Settings
from focus_mcp.sandbox import data as seed
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio

WS = 4300004  # Operations
SECURITY = 4500008  # a team of Operations


@asynccontextmanager
async def served(**settings: Any) -> AsyncIterator[tuple[FaultyAPI, Client]]:
    async with faulty_api() as api:
        values: dict[str, Any] = {
            "api_key": "k",
            "base_url": api.base_url,
            "organization_id": seed.ORGANIZATION_ID,
            "workspace_id": WS,
            "write_settle": 0.0,
            **settings,
        }
        async with Client(build_server(Settings(**values), retry_policy=FAST_RETRIES)) as client:
            yield api, client


def outsider(api: FaultyAPI) -> int:
    return next(u for u in api.sandbox.users if u not in api.sandbox.groups[SECURITY].users)


async def test_a_change_of_unknown_outcome_is_undone_only_once_a_read_shows_it() -> None:
    async with served(write_timeout=0.2) as (api, client):
        x = outsider(api)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        edit = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert edit.structured_content["outcome"] == "unknown", text(edit)
        change_id = edit.structured_content["change_id"]
        refused = await client.call_tool("undo_change", {"change_id": change_id})
        assert refused.is_error and "still out" in text(refused) and api.count("PUT") == 1
        held.release.set()
        await held.done.wait()  # the late PUT lands now
        undone = await client.call_tool("undo_change", {"change_id": change_id})
        assert not undone.is_error and undone.structured_content["outcome"] == "written", text(undone)
    assert x not in api.sandbox.groups[SECURITY].users and api.count("PUT") == 2


async def test_an_undo_whose_answer_is_lost_is_settled_by_a_read_and_not_sent_again() -> None:
    async with served() as (api, client):
        x = outsider(api)
        edit = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        api.fault("PUT", f"groups/{SECURITY}", "apply_then_drop")
        undone = await client.call_tool("undo_change", {"change_id": edit.structured_content["change_id"]})
        assert undone.structured_content["outcome"] == "written", text(undone)
        assert "answer was lost" in text(undone)
        listed = await client.call_tool("list_changes", {})
    assert x not in api.sandbox.groups[SECURITY].users and api.count("PUT") == 2
    assert f"UNDONE by {undone.structured_content['change_id']}" in text(listed)
