"""Replicas sharing one Redis: the edit lock, the cache and the quota view, against a real redis-server.

Each replica is a server of its own (its own FocusClient: its own in-process cache, quota and locks);
only Redis connects them. They share one sandbox API, as replicas share the real one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from helpers import Gate, sandbox_settings, text
from mcp import Client
from pydantic import SecretStr
from redis_server import redis_server

from focus_mcp.config import Settings
from focus_mcp.doctor import run_doctor
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio
SECURITY, OPERATIONS = 4500008, 4300004


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def replica_settings(redis_url: str, **extra: Any) -> Settings:
    settings, _ = sandbox_settings()
    return settings.model_copy(update={"redis_url": SecretStr(redis_url), "workspace_id": OPERATIONS, **extra})


@asynccontextmanager
async def two_replicas(
    settings: Settings, transport: httpx2.AsyncBaseTransport
) -> AsyncIterator[tuple[Client, Client]]:
    async with Client(build_server(settings, transport)) as a, Client(build_server(settings, transport)) as b:
        yield a, b


async def test_ten_parallel_adds_split_across_two_replicas_all_stay(redis_url: str) -> None:
    api = SandboxAPI()
    gate = Gate(api.transport())
    settings = replica_settings(redis_url)
    newcomers = [u for u in api.users if u not in api.groups[SECURITY].users][:10]
    results: list[Any] = []
    async with two_replicas(settings, gate) as (a, b):

        async def add(client: Client, user: int) -> None:
            results.append(await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [user]}))

        async with anyio.create_task_group() as tg:
            for n, user in enumerate(newcomers):
                tg.start_soon(add, (a, b)[n % 2], user)
            await anyio.wait_all_tasks_blocked()  # all ten asked; the first holds the group
            gate.opened.set()
    assert [r.structured_content["outcome"] for r in results] == ["written"] * 10, [text(r) for r in results]
    assert set(newcomers) <= set(api.groups[SECURITY].users)


async def test_a_listing_read_through_one_replica_costs_the_other_nothing(redis_url: str) -> None:
    api = SandboxAPI()
    settings = replica_settings(redis_url)
    async with (
        Client(build_server(settings, api.transport())) as a,
        Client(build_server(settings, api.transport())) as b,
    ):
        first = await a.call_tool("list_teams", {"filter": "Security"})
        second = await b.call_tool("list_teams", {"filter": "Security"})
        assert text(first) == text(second)
        assert sum(1 for _, path in api.requests if "/teams" in path) == 1
        await a.call_tool("update_group", {"group_id": SECURITY, "name": "Security & Safety"})
        after = await b.call_tool("list_teams", {"filter": "Security"})  # the write made the shared copy stale
    assert "Security & Safety" in text(after)


async def test_a_quota_spent_through_one_replica_is_known_to_the_other(redis_url: str) -> None:
    api = SandboxAPI(quota=12)
    settings = replica_settings(redis_url)
    async with (
        Client(build_server(settings, api.transport())) as a,
        Client(build_server(settings, api.transport())) as b,
    ):
        for filter_ in ("Security", "Finance", "People"):
            await a.call_tool("list_teams", {"filter": filter_})
        asked = len(api.requests)
        answer = await b.call_tool("list_teams", {"filter": "Security"})  # from the shared cache
    assert len(api.requests) == asked  # B did not ask the API
    assert answer.structured_content["quota_remaining"] == api.quota_left <= 10
    assert "requests left this hour" in text(answer)


async def test_with_redis_stopped_reads_go_on_and_edits_say_they_were_not_serialised() -> None:
    api = SandboxAPI()
    with redis_server() as url:
        settings = replica_settings(url)
        async with Client(build_server(settings, api.transport())) as a:
            assert not (await a.call_tool("list_roles", {})).is_error
    # The server is gone: the same replica keeps answering from its own state.
    async with Client(build_server(settings, api.transport())) as a:
        read = await a.call_tool("list_teams", {"filter": "Security"})
        edit = await a.call_tool("update_group", {"group_id": SECURITY, "name": "Sec"})
    assert not read.is_error and "Security" in text(read)
    assert edit.structured_content["outcome"] == "written" and "Redis (TOGGL_FOCUS_REDIS_URL) is unreachable" in text(
        edit
    )

    class Out:
        text = ""

        def write(self, chunk: str) -> None:
            self.text += chunk

    out = Out()
    assert await run_doctor(settings, api.transport(), out) == 1  # type: ignore[arg-type]
    assert "[FAIL] redis: unreachable" in out.text
