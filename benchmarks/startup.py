"""Cold start: spawn, initialize, tools/list, exit; focus-mcp against a bare MCPServer with one tool.

Two figures per server, both medians of interleaved runs: spawn to the answer of tools/list (what a
host waits for before it shows the tools) and spawn to the process's exit once stdin closes (the
whole life of a one-question process). focus-mcp runs twice: `--sandbox` (the embedded organization,
what the README's first command and a try-out run) and configured for a real API (a key and an
organization id; nothing is sent before a tool is called).

Run from the repository root: .venv/bin/python -m benchmarks.startup [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

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

BARE = "bare MCPServer"
Timing = tuple[float, float]  # seconds from spawn to the tools/list answer, and to the exit


async def spawn_list_exit(command: list[str], env: dict[str, str]) -> Timing:
    """Seconds from spawn to the tools/list answer, and to the process's exit after stdin closes."""
    started = time.perf_counter()
    async with await anyio.open_process(command, env=env, stderr=None) as process:
        rpc = RawStdio(process)
        await rpc.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
        )
        await rpc.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        tools = await rpc.request("tools/list", {})
        listed = time.perf_counter() - started
        assert tools["result"]["tools"]
        await process.stdin.aclose()  # type: ignore[union-attr]
        await process.wait()
    return listed, time.perf_counter() - started


async def interleaved(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, list[Timing]]:
    times: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved, so that drift hits all alike
        for name, (command, environ) in commands.items():
            times[name].append(await spawn_list_exit(command, environ))
    return times


def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--runs", type=int, default=15)
    runs = options.parse_args().runs
    with tempfile.TemporaryDirectory() as scratch:
        bare = Path(scratch, "bare.py")
        bare.write_text(BARE_SERVER, encoding="utf-8")
        # Each journals into the scratch directory, never into the user's own state.
        env = {**os.environ, "TOGGL_FOCUS_JOURNAL": str(Path(scratch, "journal.sqlite"))}
        configured = {**env, "TOGGL_FOCUS_API_KEY": "bench", "TOGGL_FOCUS_ORGANIZATION_ID": "1"}
        commands = {
            BARE: ([sys.executable, str(bare)], env),
            "focus-mcp --sandbox": ([sys.executable, "-m", "focus_mcp", "--sandbox"], env),
            "focus-mcp, configured": ([sys.executable, "-m", "focus_mcp"], configured),
        }
        times = anyio.run(interleaved, commands, runs)
    listed = {name: statistics.median(t[0] for t in values) for name, values in times.items()}
    exited = {name: statistics.median(t[1] for t in values) for name, values in times.items()}
    print(f"medians over {runs} interleaved runs: spawn to tools/list | spawn to exit")
    for name in commands:
        line = f"{name:<22} {listed[name] * 1000:6.1f} ms | {exited[name] * 1000:6.1f} ms"
        if name != BARE:
            line += f"   ratio to bare: {listed[name] / listed[BARE]:.2f}x | {exited[name] / exited[BARE]:.2f}x"
        print(line)


if __name__ == "__main__":
    main()
