"""Two focus-mcp processes (stateless streamable HTTP) on one organization, with and without Redis.

Both serve the same sandbox API on a loopback port, as replicas behind a balancer serve the real one:
10 parallel add_users on one group, split across the two; one listing read through each; the quota
as the second replica sees it after the first spent it. Then delete_group through a per-request
round-robin balancer with a 2026-07-28 client whose user says yes, for each source of the
request-state key: how often the user was asked, whether the group went. Needs redis-server.
Run from the repository root: .venv/bin/python -m benchmarks.replicas
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
from contextlib import AsyncExitStack, ExitStack
from typing import Any

import anyio
import httpx2
import mcp_types as types
from anyio.streams.buffered import BufferedByteReceiveStream
from balancer import RoundRobin
from loopback import free_port, serving
from mcp import Client
from mcp.client.context import ClientRequestContext
from redis_server import redis_server

from benchmarks.load import TOKEN, Session, wait_until_up
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox import data as seed

SECURITY, OPERATIONS = 4500008, 4300004


async def replica(stack: AsyncExitStack, api_url: str, redis_url: str | None) -> Session:
    port = free_port()
    env = {
        **os.environ,
        "TOGGL_FOCUS_HTTP_TOKEN": TOKEN,
        "TOGGL_FOCUS_API_KEY": "bench",
        "TOGGL_FOCUS_BASE_URL": api_url,
        "TOGGL_FOCUS_ORGANIZATION_ID": str(seed.ORGANIZATION_ID),
        "TOGGL_FOCUS_WORKSPACE_ID": str(OPERATIONS),
    }
    if redis_url:
        env["TOGGL_FOCUS_REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "focus_mcp", "--transport", "streamable-http", "--stateless", "--port", str(port)]
    process = await stack.enter_async_context(await anyio.open_process(command, env=env, stdout=None, stderr=None))
    stack.callback(process.terminate)
    await wait_until_up(f"http://127.0.0.1:{port}")
    http = await stack.enter_async_context(httpx2.AsyncClient(timeout=120))
    session = Session(http, f"http://127.0.0.1:{port}/mcp")
    await session.open()
    return session


async def call(session: Session, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer = await session.request("tools/call", {"name": tool, "arguments": arguments})
    result: dict[str, Any] = answer["result"]
    return result


async def sitting(redis_url: str | None) -> None:
    api = SandboxAPI(quota=42)  # so that the sitting leaves 10 or fewer: answers then name the quota
    newcomers = [u for u in api.users if u not in api.groups[SECURITY].users][:10]
    with serving(api.app) as root:
        async with AsyncExitStack() as stack:
            a = await replica(stack, f"{root}/api", redis_url)
            b = await replica(stack, f"{root}/api", redis_url)
            outcomes: list[str] = []

            async def add(session: Session, user: int) -> None:
                result = await call(session, "update_group", {"group_id": SECURITY, "add_users": [user]})
                outcomes.append(result.get("structuredContent", {}).get("outcome", "error"))

            async with anyio.create_task_group() as tg:
                for n, user in enumerate(newcomers):
                    tg.start_soon(add, (a, b)[n % 2], user)
            present = len(set(newcomers) & set(api.groups[SECURITY].users))
            before = sum(1 for _, path in api.requests if "/teams" in path)
            await call(a, "list_teams", {"filter": "Finance"})
            await call(b, "list_teams", {"filter": "Finance"})
            listing = sum(1 for _, path in api.requests if "/teams" in path) - before
            asked = len(api.requests)
            answer = await call(b, "list_teams", {"filter": "Finance"})
            seen = answer.get("structuredContent", {}).get("quota_remaining")
    name = "with Redis" if redis_url else "without Redis"
    print(
        f"{name:<14} 10 parallel adds over 2 replicas: {present} of 10 present, {outcomes.count('written')} "
        f"reported written | one listing through A then B: {listing} upstream request(s) | quota as B sees it: "
        f"{seen} (the API's: {api.quota_left}; B asked the API {len(api.requests) - asked} time(s) for it)"
    )


async def stateless_replica(stack: AsyncExitStack, env: dict[str, str]) -> str:
    command = [sys.executable, "-m", "focus_mcp", "--transport", "streamable-http", "--stateless", "--port", "0"]
    process = await stack.enter_async_context(await anyio.open_process(command, env=env))
    stack.callback(process.terminate)
    assert process.stderr is not None
    said = BufferedByteReceiveStream(process.stderr)
    while "ready at" not in (line := (await said.receive_until(b"\n", 65536)).decode()):
        pass
    found = re.search(r"ready at (http://127\.0\.0\.1:\d+)/mcp", line)
    assert found, line
    return found.group(1)


async def confirmation(key_source: str, redis_url: str) -> None:
    """delete_group asked on one replica, answered yes on the other (the balancer alternates per request)."""
    api, asked = SandboxAPI(), []

    async def yes(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    group = 4500019
    with serving(api.app) as root:
        env = {
            "PATH": os.environ["PATH"],
            "TOGGL_FOCUS_API_KEY": "bench",
            "TOGGL_FOCUS_BASE_URL": f"{root}/api",
            "TOGGL_FOCUS_ORGANIZATION_ID": str(seed.ORGANIZATION_ID),
            "TOGGL_FOCUS_WORKSPACE_ID": str(next(iter(seed.WORKSPACES))),
            "TOGGL_FOCUS_JOURNAL": "off",
        }
        if key_source == "Redis ring":
            env["TOGGL_FOCUS_REDIS_URL"] = redis_url
        elif key_source == "shared setting":
            env["TOGGL_FOCUS_REQUEST_STATE_KEY"] = secrets.token_hex(32)
        async with AsyncExitStack() as stack:
            balancer = RoundRobin([await stateless_replica(stack, env), await stateless_replica(stack, env)])
            with serving(balancer) as front:
                async with Client(f"{front}/mcp", mode="2026-07-28", elicitation_callback=yes) as client:
                    started = time.perf_counter()
                    result = await client.call_tool("delete_group", {"group_id": group})
                    took = time.perf_counter() - started
    calls = [upstream for upstream, method in balancer.routed if method == "tools/call"]
    said = "".join(block.text for block in result.content if block.type == "text")
    print(
        f"delete_group, key from {key_source:<14}: asked {len(asked)} time(s); tools/call on replicas {calls}; "
        f"group deleted: {'yes' if group not in api.groups else 'no'}; {'refused' if result.is_error else 'done'} "
        f"in {took * 1000:.0f} ms" + (f": {said[:60]}..." if result.is_error else "")
    )


async def main() -> None:
    with ExitStack() as stack:
        url = stack.enter_context(redis_server())
        await sitting(url)
        await sitting(None)
        for key_source in ("Redis ring", "shared setting", "each process"):
            await confirmation(key_source, url)


if __name__ == "__main__":
    anyio.run(main)
