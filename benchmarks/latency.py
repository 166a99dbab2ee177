"""Server-added latency of a tool call over stdio, paired call by call with the same request made
directly to the same upstream (a sandbox API on a loopback port), cache off.

The stdio side is a minimal JSON-RPC client (one line out, one line in, parsed), so the figure is
what the server adds: framing, validation, the upstream request through its client, trimming,
rendering. Both sides read the JSON they receive, as any caller would, and each side goes first in
every other pair.

A bare MCPServer (the SDK's own stdio transport) whose tools forward the request and return the
raw body is measured in the same sitting, its calls interleaved with focus-mcp's, each with its
own direct pair: the floor the SDK sets on this machine at that moment. (This machine's load
changes from minute to minute, so figures from different runs do not compare well.)
Where /proc tells it, each server's CPU time per call is printed too (it includes the HTTP
client's own work, which the direct side does as well).

Clients that validate structuredContent against the output schema (the Python SDK's ClientSession
does, with jsonschema) add their own time on top; `--sdk` measures focus-mcp through ClientSession
instead.

Run from the repository root: .venv/bin/python -m benchmarks.latency [--rounds N] [--sdk]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import anyio
import httpx2
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from loopback import serving
from mcp import ClientSession, StdioServerParameters, stdio_client

from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox import data as seed

CALLS = [("list_roles", {}, "roles", {}), ("list_users", {"per_page": 20}, "users", {"per_page": "20"})]
WARM_UP = 20
BARE_SERVER = """
import logging, os, httpx2
from mcp.server.mcpserver import MCPServer
base_url = os.environ["TOGGL_FOCUS_BASE_URL"] + "/"
client = httpx2.AsyncClient(base_url=base_url, headers={"Authorization": "Bearer bench"})
org = os.environ["TOGGL_FOCUS_ORGANIZATION_ID"]
server = MCPServer("bare", log_level="WARNING")
@server.tool()
async def list_roles() -> str:
    return (await client.get(f"organizations/{org}/roles")).text
@server.tool()
async def list_users(per_page: int = 20) -> str:
    return (await client.get(f"organizations/{org}/users", params={"per_page": per_page})).text
logging.getLogger("httpx2").setLevel(logging.WARNING)
server.run()
"""
SERVERS = {"focus-mcp": [sys.executable, "-m", "focus_mcp"], "bare MCPServer": [sys.executable, "-c", BARE_SERVER]}


class RawStdio:
    """JSON-RPC over a spawned server's stdin/stdout, nothing else."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.lines = TextReceiveStream(process.stdout)  # type: ignore[arg-type]
        self.buffer = ""
        self.next_id = 0

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        await self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            message = await self.read()
            if message.get("id") == self.next_id:
                return message

    async def send(self, message: dict[str, Any]) -> None:
        await self.process.stdin.send((json.dumps(message) + "\n").encode())  # type: ignore[union-attr]

    async def read(self) -> dict[str, Any]:
        while "\n" not in self.buffer:
            self.buffer += await self.lines.receive()
        line, self.buffer = self.buffer.split("\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message


Call = Callable[[], Awaitable[None]]


async def took(call: Call) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def paired(direct: Call, servers: list[Call], rounds: int) -> list[tuple[list[float], list[float]]]:
    """For each server, (direct times, via-server times): one pair per server per round.

    The servers take turns going first in a round, and within a pair each side goes first in
    every other round, so that no one always runs right after another.
    """
    times: list[tuple[list[float], list[float]]] = [([], []) for _ in servers]
    for i in range(rounds + WARM_UP):
        order = list(enumerate(servers))
        if i % 2:
            order.reverse()
        for n, via in order:
            if (i // 2) % 2:
                took_via, took_direct = await took(via), await took(direct)
            else:
                took_direct, took_via = await took(direct), await took(via)
            if i >= WARM_UP:
                times[n][0].append(took_direct)
                times[n][1].append(took_via)
    return times


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used so far, where /proc tells it (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(tool: str, server: str, directs: list[float], vias: list[float], cpu_per_call: float | None = None) -> None:
    added = [v - d for v, d in zip(vias, directs, strict=True)]
    ms = 1000
    cpu = f", server CPU {cpu_per_call * ms:4.2f} ms a call" if cpu_per_call is not None else ""
    print(
        f"{tool:<11} {server:<14} direct {statistics.median(directs) * ms:5.2f} ms | via server "
        f"{statistics.median(vias) * ms:5.2f} ms | server-added median {statistics.median(added) * ms:5.2f} ms, "
        f"p90 {statistics.quantiles(added, n=10)[-1] * ms:5.2f} ms ({len(added)} pairs{cpu})"
    )


async def raw_session(command: list[str], env: dict[str, str], stack: AsyncExitStack) -> tuple[Process, RawStdio]:
    process = await stack.enter_async_context(await anyio.open_process(command, env=env, stderr=None))
    rpc = RawStdio(process)
    hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}
    await rpc.request("initialize", hello)
    await rpc.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return process, rpc


def direct_caller(direct: httpx2.AsyncClient, path: str, query: dict[str, str]) -> Call:
    async def call() -> None:
        response = await direct.get(path, params=query)
        response.raise_for_status()
        response.json()  # a direct caller reads the JSON too, as the stdio side does

    return call


async def measure_raw(direct: httpx2.AsyncClient, env: dict[str, str], rounds: int) -> None:
    """focus-mcp and the bare MCPServer in one sitting, over the minimal JSON-RPC client."""
    async with AsyncExitStack() as stack:
        sessions = [await raw_session(command, env, stack) for command in SERVERS.values()]
        for tool, arguments, endpoint, query in CALLS:

            def caller(rpc: RawStdio, tool: str = tool, arguments: dict[str, Any] = arguments) -> Call:
                async def call() -> None:
                    answer = await rpc.request("tools/call", {"name": tool, "arguments": arguments})
                    assert not answer["result"].get("isError"), answer

                return call

            path = f"organizations/{seed.ORGANIZATION_ID}/{endpoint}"
            before = [cpu_seconds(process.pid) for process, _ in sessions]
            results = await paired(direct_caller(direct, path, query), [caller(rpc) for _, rpc in sessions], rounds)
            for name, (process, _), start, (directs, vias) in zip(SERVERS, sessions, before, results, strict=True):
                end = cpu_seconds(process.pid)
                # A server only works for the calls sent to it, so its CPU time is theirs.
                per_call = (end - start) / (rounds + WARM_UP) if start is not None and end is not None else None
                report(tool, name, directs, vias, per_call)
        for process, _ in sessions:
            await process.stdin.aclose()  # type: ignore[union-attr]


async def measure_sdk(direct: httpx2.AsyncClient, env: dict[str, str], rounds: int) -> None:
    """focus-mcp through the SDK's ClientSession, which also validates each result against its schema."""
    command = SERVERS["focus-mcp"]
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        for tool, arguments, endpoint, query in CALLS:

            async def call(tool: str = tool, arguments: dict[str, Any] = arguments) -> None:
                assert not (await session.call_tool(tool, arguments)).is_error

            path = f"organizations/{seed.ORGANIZATION_ID}/{endpoint}"
            [(directs, vias)] = await paired(direct_caller(direct, path, query), [call], rounds)
            report(tool, "focus-mcp/SDK", directs, vias)


async def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--rounds", type=int, default=300)
    options.add_argument("--sdk", action="store_true", help="measure focus-mcp through the SDK's ClientSession")
    args = options.parse_args()
    with serving(SandboxAPI(quota=1_000_000).app) as root:
        base_url = f"{root}/api"
        env = {
            **os.environ,
            "TOGGL_FOCUS_API_KEY": "bench",
            "TOGGL_FOCUS_BASE_URL": base_url,
            "TOGGL_FOCUS_ORGANIZATION_ID": str(seed.ORGANIZATION_ID),
            "TOGGL_FOCUS_WORKSPACE_ID": str(next(iter(seed.WORKSPACES))),
            "TOGGL_FOCUS_CACHE_TTL": "0",
        }
        async with httpx2.AsyncClient(base_url=base_url + "/", headers={"Authorization": "Bearer bench"}) as direct:
            await (measure_sdk if args.sdk else measure_raw)(direct, env, args.rounds)


if __name__ == "__main__":
    anyio.run(main)
