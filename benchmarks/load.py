"""Many concurrent MCP clients over streamable HTTP against `focus-mcp --sandbox`, spawned as a process.

Each client is a plain JSON-RPC session over HTTP (initialize, then tools/call after tools/call with
its Mcp-Session-Id), so that the figures measure the server, not a client's own schema validation.
Prints throughput and per-call latency (p50, p95). Run from the repository root:
.venv/bin/python -m benchmarks.load [--clients 20] [--calls 25] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import anyio
import httpx2
from loopback import free_port

TOKEN = "load-test-token"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-06-18",
}


def _message(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC answer, from a JSON body or from the data line of an SSE body."""
    response.raise_for_status()
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = next(line[5:] for line in response.text.splitlines() if line.startswith("data:"))
        answer: dict[str, Any] = json.loads(data)
        return answer
    body: dict[str, Any] = response.json()
    return body


class Session:
    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http, self.url, self.headers, self.next_id = http, url, dict(HEADERS), 0

    async def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        response = await self.http.post(self.url, json=body, headers=self.headers)
        if "mcp-session-id" in response.headers:
            self.headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
        return _message(response)

    async def open(self) -> None:
        info = {"name": "load", "version": "1"}
        await self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": info})
        notice = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        (await self.http.post(self.url, json=notice, headers=self.headers)).raise_for_status()


async def wait_until_up(url: str) -> None:
    with anyio.fail_after(30):
        while True:
            try:
                if httpx2.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            await anyio.sleep(0.1)


async def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--clients", type=int, default=20)
    options.add_argument("--calls", type=int, default=25)
    options.add_argument("--fresh", action="store_true", help="skip the cache: every call reaches the sandbox API")
    args = options.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TOGGL_FOCUS_HTTP_TOKEN": TOKEN}
    command = [sys.executable, "-m", "focus_mcp", "--sandbox", "--transport", "streamable-http", "--port", str(port)]
    latencies: list[float] = []
    async with await anyio.open_process(command, env=env, stdout=None, stderr=None) as process:
        await wait_until_up(url)

        async def client(n: int) -> None:
            async with httpx2.AsyncClient(timeout=60) as http:
                session = Session(http, f"{url}/mcp")
                await session.open()
                for i in range(args.calls):
                    arguments = {"per_page": 20, "page": 1 + (n + i) % 8, "fresh": args.fresh}
                    started = time.perf_counter()
                    answer = await session.request("tools/call", {"name": "list_users", "arguments": arguments})
                    latencies.append(time.perf_counter() - started)
                    assert not answer["result"].get("isError"), answer

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for n in range(args.clients):
                tg.start_soon(client, n)
        elapsed = time.perf_counter() - started
        process.terminate()
    total = args.clients * args.calls
    q = statistics.quantiles(latencies, n=20)
    print(
        f"{args.clients} clients x {args.calls} list_users calls ({'fresh' if args.fresh else 'cached'}): "
        f"{total / elapsed:.0f} calls/s, p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {q[18] * 1000:.1f} ms, {total} calls in {elapsed:.1f} s, all succeeded"
    )


if __name__ == "__main__":
    anyio.run(main)
