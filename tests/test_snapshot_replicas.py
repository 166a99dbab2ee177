"""The organization snapshot shared by replicas through a real redis-server: one reads, the others
answer from what it published; a write through one shows through the other; nothing unreadable."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from helpers import Gate, sandbox_settings, text, two_replicas
from mcp import Client
from pydantic import SecretStr
from redis.asyncio import Redis
from redis_server import redis_server

from focus_mcp.config import Settings
from focus_mcp.org.shared import decode
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio
WS_HQ = 4_300_001


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def replica_settings(redis_url: str) -> Settings:
    settings, _ = sandbox_settings()
    return settings.model_copy(update={"redis_url": SecretStr(redis_url)})


def users_reads(api: SandboxAPI) -> int:
    return sum(1 for method, path in api.requests if method == "GET" and "/users" in path)


async def test_a_second_replica_answers_from_the_first_ones_snapshot_with_no_users_request(redis_url: str) -> None:
    api = SandboxAPI()
    settings = replica_settings(redis_url)
    async with two_replicas(settings, api.transport()) as (a, b):
        first = await a.call_tool("list_users", {"count_only": True})
        read = users_reads(api)
        second = await b.call_tool("list_users", {"count_only": True})
        teams = await b.call_tool("list_teams", {"all_workspaces": True})
    assert read == 2 and users_reads(api) == read
    assert first.structured_content["counts"] == second.structured_content["counts"]
    assert "20 teams across 4 workspaces" in text(teams)
    assert sum(1 for _, path in api.requests if "/teams" in path) == 4  # read once, by the first replica


async def test_replicas_asking_at_once_read_the_organization_once(redis_url: str) -> None:
    api = SandboxAPI()
    gate = Gate(api.transport())
    settings = replica_settings(redis_url)
    async with two_replicas(settings, gate) as (a, b), anyio.create_task_group() as tg:
        for client in (a, b, a, b):
            tg.start_soon(client.call_tool, "list_users", {"count_only": True})
        await anyio.wait_all_tasks_blocked()
        gate.opened.set()
    assert users_reads(api) == 2  # one read of the two pages, by whichever replica held the lock


async def test_a_write_through_one_replica_shows_through_the_other_without_a_read(redis_url: str) -> None:
    api = SandboxAPI()
    settings = replica_settings(redis_url)
    async with two_replicas(settings, api.transport()) as (a, b):
        await a.call_tool("list_users", {"count_only": True})
        await b.call_tool("list_users", {"count_only": True})
        made = await a.call_tool(
            "create_group", {"name": "Shared Club", "organization_users": [4_100_003], "workspaces": [WS_HQ]}
        )
        assert made.structured_content["outcome"] == "written", text(made)
        reads = users_reads(api)
        seen = await b.call_tool("list_users", {"org_user_ids": [4_100_003], "fields": ["teams"]})
    assert "Shared Club" in text(seen) and users_reads(api) == reads


async def test_the_shared_snapshot_is_compact_and_expires_with_its_max_age(redis_url: str) -> None:
    api = SandboxAPI()
    settings = replica_settings(redis_url).model_copy(update={"cache_ttl": 120})
    async with Client(build_server(settings, api.transport())) as a:
        await a.call_tool("list_users", {"count_only": True})
    redis = Redis.from_url(redis_url)
    try:
        keys = [k for k in await redis.keys("*") if isinstance(k, bytes)]
        (key,) = [k for k in keys if k.endswith(b":snapshot:4200001")]
        blob = await redis.get(key)
        ttl: int = await redis.pttl(key)
    finally:
        await redis.aclose()
    assert 0 < ttl <= 120_000
    assert isinstance(blob, bytes) and len(blob) < 12_000  # 150 members, 20 teams, 6 roles, zlib'd: about 8 KB
    snap = decode(blob)
    assert snap is not None and len(snap.members) == 150 and len(snap.teams) == 20


async def test_a_snapshot_dropped_from_redis_is_not_served_from_a_replicas_own_copy(redis_url: str) -> None:
    """A write of unknown outcome through one replica drops the shared snapshot: another replica's copy
    may predate that write, so it reads anew instead of answering from it."""
    api = SandboxAPI()
    settings = replica_settings(redis_url)
    async with two_replicas(settings, api.transport()) as (a, b):
        await a.call_tool("list_users", {"count_only": True})
        await b.call_tool("list_users", {"count_only": True})
        reads = users_reads(api)
        redis = Redis.from_url(redis_url)
        try:
            keys = [k for k in await redis.keys("*") if isinstance(k, bytes) and b":snapshot" in k]
            assert len(keys) == 2  # the snapshot and its version
            await redis.delete(*keys)  # as the replica whose write had no answer does
        finally:
            await redis.aclose()
        await b.call_tool("list_users", {"count_only": True})
    assert users_reads(api) == reads + 2
