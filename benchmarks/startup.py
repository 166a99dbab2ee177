"""Cold start: spawn to the answer of tools/list, focus-mcp against a bare MCPServer with one tool.

Run from the repository root: .venv/bin/python -m benchmarks.startup [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import anyio

from benchmarks.latency import RawStdio

BARE_SERVER = """
from mcp.server.mcpserver import MCPServer
server = MCPServer("bare")
@server.tool()
async def ping() -> str:
    return "pong"
server.run()
"""


async def spawn_to_tools_list(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    async with await anyio.open_process(command, env=env, stderr=None) as process:
        rpc = RawStdio(process)
        await rpc.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
        )
        await rpc.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        tools = await rpc.request("tools/list", {})
        elapsed = time.perf_counter() - started
        assert tools["result"]["tools"]
        await process.stdin.aclose()  # type: ignore[union-attr]
    return elapsed


async def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--runs", type=int, default=15)
    runs = options.parse_args().runs
    env = {**os.environ, "TOGGL_FOCUS_API_KEY": "bench", "TOGGL_FOCUS_ORGANIZATION_ID": "1"}
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as bare:
        bare.write(BARE_SERVER)
    commands = {"bare MCPServer": [sys.executable, bare.name], "focus-mcp": [sys.executable, "-m", "focus_mcp"]}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so that drift hits both alike
        for name, command in commands.items():
            times[name].append(await spawn_to_tools_list(command, env))
    os.unlink(bare.name)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:<15} spawn to tools/list: median {median * 1000:6.1f} ms over {runs} runs")
    print(f"ratio focus-mcp / bare: {medians['focus-mcp'] / medians['bare MCPServer']:.2f}")


if __name__ == "__main__":
    anyio.run(main)
