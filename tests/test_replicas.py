"""Replicas sharing one Redis: the edit lock, the cache and the quota view, against a real redis-server.

Each replica is a server of its own (its own FocusClient: its own in-process cache, quota and locks);
only Redis connects them. They share one sandbox API, as replicas share the real one.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from balancer import RoundRobin
from helpers import Gate, sandbox_settings, text, two_replicas
from loopback import serving
from mcp import Client
from mcp.client.context import ClientRequestContext
from pydantic import SecretStr
from redis.asyncio import Redis
from redis_server import redis_server

from focus_mcp.api.shared import SharedState
from focus_mcp.config import Settings
from focus_mcp.doctor import run_doctor
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox import data as seed
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


async def test_with_redis_stopped_reads_go_on_and_edits_are_refused_as_they_could_not_be_journaled() -> None:
    api = SandboxAPI()
    with redis_server() as url:
        settings = replica_settings(url)
        async with Client(build_server(settings, api.transport())) as a:
            assert not (await a.call_tool("list_roles", {})).is_error
    # The server is gone: the same replica keeps answering reads from its own state...
    async with Client(build_server(settings, api.transport())) as a:
        read = await a.call_tool("list_teams", {"filter": "Security"})
        refused = await a.call_tool("update_group", {"group_id": SECURITY, "name": "Sec"})
    assert not read.is_error and "Security" in text(read)
    # ...but an edit that no replica could list or undo is not sent (no silent journal in memory).
    assert refused.is_error and f"change journal in Redis at {url}" in text(refused), text(refused)
    assert api.groups[SECURITY].name == "Security"
    # With the journal off, an edit goes on, saying that it took turns with this replica's edits only.
    async with Client(build_server(settings.model_copy(update={"journal": "off"}), api.transport())) as a:
        edit = await a.call_tool("update_group", {"group_id": SECURITY, "name": "Sec"})
    assert edit.structured_content is not None and edit.structured_content["outcome"] == "written"
    assert "Redis (TOGGL_FOCUS_REDIS_URL) is unreachable" in text(edit)

    assert "[FAIL] redis: unreachable" in await doctor(settings, api.transport())


async def doctor(settings: Settings, transport: httpx2.AsyncBaseTransport) -> str:
    class Out:
        text = ""

        def write(self, chunk: str) -> None:
            self.text += chunk

    out = Out()
    assert await run_doctor(settings, transport, out) == 1  # type: ignore[arg-type]
    return out.text


class HoldPuts(httpx2.AsyncBaseTransport):
    """Holds every PUT until `go` is set; `arrived` says one is held."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner, self.arrived, self.go = inner, anyio.Event(), anyio.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "PUT":
            self.arrived.set()
            await self.go.wait()
        return await self.inner.handle_async_request(request)


async def test_an_edit_whose_lock_redis_lost_mid_write_says_so_and_doctor_counts_it(redis_url: str) -> None:
    api = SandboxAPI()
    held = HoldPuts(api.transport())
    settings = replica_settings(redis_url)
    first, second = [u for u in api.users if u not in api.groups[SECURITY].users][:2]
    answers: dict[str, Any] = {}
    async with (
        Client(build_server(settings, held)) as a,
        Client(build_server(settings, api.transport())) as b,
        Redis.from_url(redis_url) as redis,
    ):

        async def edit_through_a() -> None:
            answers["a"] = await a.call_tool("update_group", {"group_id": SECURITY, "add_users": [first]})

        async with anyio.create_task_group() as tg:
            tg.start_soon(edit_through_a)
            await held.arrived.wait()  # A holds the group's lock, its PUT is out
            await redis.flushall()  # Redis restarted empty: the lock is gone
            answers["b"] = await b.call_tool("update_group", {"group_id": SECURITY, "add_users": [second]})
            held.go.set()  # B was not kept waiting; now A's PUT, merged before B's, lands
    assert answers["a"].structured_content["outcome"] == "written"
    assert "lock in Redis (TOGGL_FOCUS_REDIS_URL) was lost while it ran" in text(answers["a"])
    assert second not in api.groups[SECURITY].users  # what the note warns of: B's edit was undone
    report = await doctor(settings, api.transport())
    assert "[FAIL] edit locks: 1 lost mid-edit" in report and "[ok  ] redis: reachable" in report
    assert "[ok  ] request-state key: shared through Redis" in report


async def test_an_edit_lock_is_extended_while_held_past_its_timeout(redis_url: str) -> None:
    shared = SharedState(redis_url, "test", lock_seconds=3.0)  # extended every second
    key = "focus-mcp:test:lock:g"
    async with Redis.from_url(redis_url) as watcher:
        await watcher.config_set("notify-keyspace-events", "Kg")  # a keyspace event at every (re)expire
        async with watcher.pubsub() as pubsub:
            await pubsub.subscribe(f"__keyspace@0__:{key}")
            assert (await pubsub.get_message(timeout=None))["type"] == "subscribe"
            async with shared.holding("g") as lock:
                expires = 0
                with anyio.fail_after(30):
                    while expires < 5:  # the acquisition's, then four extensions: past the 3 s timeout
                        message = await pubsub.get_message(timeout=None)
                        expires += message is not None and message["data"] == b"expire"
                assert not lock.lost and await watcher.pttl(key) > 0
            assert not lock.lost and not await watcher.exists(key)  # released by its holder
    await shared.aclose()


ONBOARDING, HQ = 4500019, 4300001


async def replica(stack: AsyncExitStack, env: dict[str, str]) -> tuple[str, str]:
    """A `focus-mcp --transport streamable-http --stateless` process: its URL and what it said before it was ready."""
    command = [sys.executable, "-m", "focus_mcp", "--transport", "streamable-http", "--stateless", "--port", "0"]
    process = await stack.enter_async_context(await anyio.open_process(command, env=env))
    stack.callback(process.terminate)
    assert process.stderr is not None
    said = BufferedByteReceiveStream(process.stderr)
    before: list[str] = []
    with anyio.fail_after(60):
        while "ready at" not in (line := (await said.receive_until(b"\n", 65536)).decode()):
            before.append(line)
    url = re.search(r"ready at (http://127\.0\.0\.1:\d+)/mcp", line)
    assert url, line
    return url.group(1), "\n".join(before)


@pytest.mark.parametrize("shared_key", ["redis", "setting", None])
async def test_a_yes_answered_on_the_other_replica_deletes_the_group(shared_key: str | None) -> None:
    """Two stateless replicas behind a per-request balancer, a 2026-07-28 client whose user says yes."""
    api = SandboxAPI()
    questions: list[str] = []

    async def yes(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        questions.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    with ExitStack() as sync, serving(api.app) as root:
        env = {
            "PATH": os.environ["PATH"],
            "TOGGL_FOCUS_API_KEY": "replica-test",
            "TOGGL_FOCUS_BASE_URL": f"{root}/api",
            "TOGGL_FOCUS_ORGANIZATION_ID": str(seed.ORGANIZATION_ID),
            "TOGGL_FOCUS_WORKSPACE_ID": str(HQ),
            "TOGGL_FOCUS_JOURNAL": "off",
        }
        if shared_key == "redis":
            env["TOGGL_FOCUS_REDIS_URL"] = sync.enter_context(redis_server())
        elif shared_key == "setting":
            env["TOGGL_FOCUS_REQUEST_STATE_KEY"] = secrets.token_hex(32)
        async with AsyncExitStack() as stack:
            started: dict[int, tuple[str, str]] = {}

            async def start(n: int) -> None:
                started[n] = await replica(stack, env)

            async with anyio.create_task_group() as tg:  # at once: with Redis, both race to create the key ring
                tg.start_soon(start, 0)
                tg.start_soon(start, 1)
            (a, said), (b, _) = started[0], started[1]
            balancer = RoundRobin([a, b])
            with serving(balancer) as front:
                async with Client(f"{front}/mcp", mode="2026-07-28", elicitation_callback=yes) as client:
                    result = await client.call_tool("delete_group", {"group_id": ONBOARDING})
    calls = [upstream for upstream, method in balancer.routed if method == "tools/call"]
    assert len(calls) == 2 and calls[0] != calls[1]  # asked through one replica, answered through the other
    assert len(questions) == 1 and "Onboarding" in questions[0]
    if shared_key is None:
        assert "--stateless without a shared request-state key" in said  # warned at the start, saying what to set
        assert "TOGGL_FOCUS_REDIS_URL" in said and "TOGGL_FOCUS_REQUEST_STATE_KEY" in said
        assert result.is_error and text(result).startswith("Nothing was deleted:"), text(result)
        assert ONBOARDING in api.groups
    else:
        assert "request-state key" not in said
        assert not result.is_error and "Deleted group 4500019" in text(result), text(result)
        assert ONBOARDING not in api.groups
