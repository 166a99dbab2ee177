"""Request economy: the GET cache, its invalidation, fresh reads and single-flight."""

from __future__ import annotations

import json

import anyio
import httpx2
import pytest
from conftest import FAST_RETRIES, ORG, WS, Routes, group_json, make_settings, teams_json
from helpers import connect, text

from benchmarks.session import NAIVE_REQUESTS, SCRIPT, run_session
from focus_mcp.api.cache import SingleFlight, TTLCache, cache_key
from focus_mcp.api.client import FocusClient
from focus_mcp.api.models import TeamsQuery

pytestmark = pytest.mark.anyio


def test_ttl_cache_expires_evicts_and_drops() -> None:
    now = [0.0]
    cache = TTLCache(max_entries=2, clock=lambda: now[0])
    a, b, c = cache_key("x/roles", {}), cache_key("x/teams", {"w": "1"}), cache_key("x/users", None)
    cache.put(a, 1, ttl=10)
    cache.put(b, 2, ttl=1)
    assert cache.get(a) == 1 and cache.get(b) == 2
    now[0] = 5
    assert cache.get(b) is None and cache.get(a) == 1
    cache.put(b, 2, ttl=10)
    cache.put(c, 3, ttl=10)  # over the limit: the least recently used (a) goes
    assert cache.get(a) is None and len(cache) == 2
    assert cache.drop(lambda path: path.endswith("teams")) == 1 and cache.get(b) is None
    cache.put(a, 1, ttl=0)
    assert cache.get(a) is None


async def test_single_flight_shares_one_execution_and_its_error() -> None:
    flights: SingleFlight[int] = SingleFlight()
    runs = []
    release = anyio.Event()

    async def fetch() -> int:
        runs.append(1)
        await release.wait()
        return 7

    results: list[int] = []

    async def call() -> None:
        results.append(await flights.run(cache_key("k", None), fetch))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(call)
        await anyio.wait_all_tasks_blocked()  # all five wait on one execution
        release.set()
    assert results == [7] * 5 and len(runs) == 1

    fail = anyio.Event()

    async def broken() -> int:
        await fail.wait()
        raise ValueError("boom")

    errors = []

    async def failing() -> None:
        try:
            await flights.run(cache_key("k2", None), broken)
        except ValueError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(failing)
        await anyio.wait_all_tasks_blocked()
        fail.set()
    assert len(errors) == 3


async def test_single_flight_forget_lets_later_callers_start_their_own() -> None:
    flights: SingleFlight[int] = SingleFlight()
    key, runs, results = cache_key("x/teams", None), [], {}
    old_done, new_done, instant = anyio.Event(), anyio.Event(), anyio.Event()
    instant.set()

    async def call(name: str, n: int, done: anyio.Event) -> None:
        async def fetch() -> int:
            runs.append(n)
            await done.wait()
            return n

        results[name] = await flights.run(key, fetch)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "old", 1, old_done)
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(call, "joins old", 2, instant)
        await anyio.wait_all_tasks_blocked()
        flights.forget(lambda path: path.endswith("teams"))
        tg.start_soon(call, "new", 3, new_done)
        await anyio.wait_all_tasks_blocked()
        old_done.set()  # the old one ends meanwhile, and must leave the new one in place
        await anyio.wait_all_tasks_blocked()
        tg.start_soon(call, "joins new", 4, instant)
        await anyio.wait_all_tasks_blocked()
        new_done.set()
    assert results == {"old": 1, "joins old": 1, "new": 3, "joins new": 3} and runs == [1, 3]


async def test_five_identical_concurrent_calls_cost_one_request(routes: Routes) -> None:
    release = anyio.Event()

    async def slow_roles(request: httpx2.Request) -> httpx2.Response:
        await release.wait()
        return httpx2.Response(200, json=[{"role_id": 1, "name": "Owner"}])

    routes.add("GET", "roles", slow_roles)
    answers = []
    async with connect(make_settings(cache_ttl=0), routes.transport()) as client:

        async def call() -> None:
            answers.append(text(await client.call_tool("list_roles", {})))

        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(call)
            await anyio.wait_all_tasks_blocked()  # five calls, one request under way
            release.set()
    assert len(routes.requests) == 1 and len(answers) == 5 and all("Owner" in a for a in answers)


async def test_a_fresh_read_does_not_share_a_request_that_left_before_it(routes: Routes) -> None:
    # The read before a write must see every write made before it; a request already under way
    # may have left before the last one landed.
    first_held = anyio.Event()

    async def slow_teams(request: httpx2.Request) -> httpx2.Response:
        if len(routes.requests) == 1:  # the first GET is held until the fresh read has its answer
            await first_held.wait()
        return httpx2.Response(200, json=teams_json(group_json()))

    routes.add("GET", "teams", slow_teams)
    async with (
        FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(c.list_teams, ORG, WS, TeamsQuery(group_ids=[5]))
        await anyio.wait_all_tasks_blocked()
        assert await c.get_group(ORG, 5, WS) is not None  # the same GET, read fresh
        first_held.set()
    assert len(routes.requests) == 2 and routes.query(0) == routes.query(1)


async def test_a_read_that_left_before_a_write_is_neither_cached_nor_shared_after_it(routes: Routes) -> None:
    # list_teams is under way when a rename lands: its answer (the old name) must not be cached,
    # and a listing asked for after the rename must not share it.
    name, listings_asked = ["Design"], []
    first_listing = anyio.Event()

    async def teams(request: httpx2.Request) -> httpx2.Response:
        seen = name[0]  # the state when the request arrives
        if "group_ids" not in request.url.params:
            listings_asked.append(seen)
            if len(listings_asked) == 1:  # the first listing answers last
                await first_listing.wait()
        return httpx2.Response(200, json=teams_json(group_json(gid=5, name=seen)))

    def put(request: httpx2.Request) -> httpx2.Response:
        name[0] = json.loads(request.content)["name"]
        return httpx2.Response(200, json=group_json(gid=5, name=name[0]))

    routes.add("GET", "teams", teams)
    routes.add("PUT", "groups/5", put)
    async with connect(make_settings(), routes.transport()) as client:
        listings = []

        async def listing() -> None:
            listings.append(text(await client.call_tool("list_teams", {})))

        async with anyio.create_task_group() as tg:
            tg.start_soon(listing)  # leaves before the rename, answers after it
            await anyio.wait_all_tasks_blocked()
            renamed = await client.call_tool("update_group", {"group_id": 5, "name": "Studio"})
            tg.start_soon(listing)  # asked for after the rename
            await anyio.wait_all_tasks_blocked()
            first_listing.set()
        listings.append(text(await client.call_tool("list_teams", {})))  # after both
    assert not renamed.is_error, text(renamed)
    assert "Studio" in listings[0] and "Design" in listings[1] and "Studio" in listings[2]
    assert listings_asked == ["Design", "Studio"]  # the last one came from the cache, kept from the second


async def test_repeated_reads_come_from_the_cache_unless_fresh(routes: Routes) -> None:
    routes.add("GET", "roles", [])
    routes.add("GET", "users", [])
    async with connect(make_settings(), routes.transport()) as client:
        for _ in range(3):
            await client.call_tool("list_roles", {})
        await client.call_tool("list_users", {"filter": "a"})
        await client.call_tool("list_users", {"filter": "a"})
        await client.call_tool("list_users", {"filter": "b"})  # another filter: the same snapshot answers
        await client.call_tool("list_roles", {"fresh": True})
    assert [r.url.path.rsplit("/", 1)[1] for r in routes.requests] == ["roles", "users", "roles"]


async def test_cache_ttl_zero_disables_the_cache(routes: Routes) -> None:
    routes.add("GET", "roles", [])
    async with connect(make_settings(cache_ttl=0), routes.transport()) as client:
        await client.call_tool("list_roles", {})
        await client.call_tool("list_roles", {})
    assert len(routes.requests) == 2


async def test_a_group_write_invalidates_my_groups_updates_the_snapshot_and_reads_the_group_fresh(
    routes: Routes,
) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5)))
    routes.add("GET", "users", [])
    routes.add("GET", "groups/me", [])
    routes.add("GET", "roles", [])
    routes.add("PUT", "groups/5", group_json(gid=5, name="Studio"))
    async with connect(make_settings(), routes.transport()) as client:
        for tool in ("list_teams", "list_users", "list_my_groups", "list_roles"):
            await client.call_tool(tool, {})
        await client.call_tool("update_group", {"group_id": 5, "name": "Studio"})
        after = {
            tool: text(await client.call_tool(tool, {})) for tool in ("list_teams", "list_users", "list_my_groups")
        }
        await client.call_tool("list_roles", {})
    endpoints = [f"{r.method} {r.url.path.split('/', 4)[4]}" for r in routes.requests]
    assert endpoints == [
        "GET teams",  # one workspace's teams, no snapshot yet
        "GET users", "GET roles",  # the organization snapshot (its users have no workspace: no teams to read)
        "GET groups/me",
        "GET teams", "PUT groups/5",  # the read before the write is never from the cache
        "GET groups/me",  # dropped by the write; teams and users answer from the snapshot the PUT's answer updated
    ]  # fmt: skip
    assert "Studio" in after["list_teams"] and "Design" not in after["list_teams"]


async def test_scripted_agent_session_costs_at_most_thirteen_requests() -> None:
    """One read of the organization (2 users pages, 4 workspaces' teams) answers every users question and
    the listings after the rename; the rest: roles, my groups (twice: the rename drops them), member
    tags, the first listing of one workspace's teams (no snapshot yet), and the rename's read and write.
    Each repeated read is answered from the cache or the snapshot."""
    spent, answers = await run_session()
    assert NAIVE_REQUESTS == 17 and len(SCRIPT) == 16
    assert spent <= 6 + 7
    after_rename = answers[[tool for tool, _ in SCRIPT].index("update_group") + 1]
    assert "Design Studio" in after_rename


async def test_answers_say_when_few_requests_are_left_this_hour(routes: Routes) -> None:
    def quota(left: int) -> dict[str, str]:
        return {"X-Toggl-Quota-Remaining": str(left), "X-Toggl-Quota-Resets-In": "720"}

    routes.add("GET", "roles", httpx2.Response(200, json=[], headers=quota(200)))
    routes.add("GET", "member-tags", httpx2.Response(200, json=[], headers=quota(7)))
    routes.add("GET", "teams", teams_json(group_json()))  # no quota headers: one more request spent
    async with connect(make_settings(), routes.transport()) as client:
        plenty = await client.call_tool("list_roles", {})
        few = await client.call_tool("list_member_tags", {})
        fewer = await client.call_tool("list_teams", {})
    assert "quota" not in text(plenty) and "quota_remaining" not in plenty.structured_content
    assert "[quota: 7 Toggl Focus API requests left this hour, the quota resets in 12 min." in text(few)
    assert few.structured_content["quota_remaining"] == 7
    assert "[quota: 6 Toggl Focus API requests left" in text(fewer)
    assert fewer.structured_content["quota_remaining"] == 6
