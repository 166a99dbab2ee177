"""Raw API bytes vs the bytes the model reads, per list tool, on the sandbox; and the tool-list size.

Run from the repository root: .venv/bin/python -m benchmarks.tokens
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import anyio
import httpx2
from mcp import Client

from focus_mcp.cli import load_settings
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.server import build_server

CALLS = [
    ("list_users", {"per_page": 100}),
    ("list_teams", {}),
    ("list_roles", {}),
    ("list_member_tags", {}),
    ("list_my_groups", {}),
]


class Recording(httpx2.AsyncBaseTransport):
    """Passes requests to the sandbox and counts the raw response bytes."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner, self.raw = inner, 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.raw += len(body)
        return httpx2.Response(response.status_code, headers=response.headers, content=body)


async def main() -> None:
    settings, _ = load_settings(argparse.Namespace(sandbox=True))
    # Without the sandbox banner, and without the cache (list_teams reads the roles that list_roles would).
    settings = settings.model_copy(update={"sandbox": False, "cache_ttl": 0})
    recording = Recording(SandboxAPI().transport())
    print(f"{'tool':<18}{'raw JSON B':>12}{'text B':>10}{'ratio':>8}")
    async with Client(build_server(settings, recording)) as client:
        for name, args in CALLS:
            recording.raw = 0
            result = await client.call_tool(name, args)
            read = sum(len(b.text.encode()) for b in result.content if b.type == "text")
            print(f"{name:<18}{recording.raw:>12}{read:>10}{read / recording.raw:>8.1%}")
        await tool_list_figures(client)
        tools = (await client.list_tools()).tools
    defs = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    core = [
        len(json.dumps({k: d[k] for k in ("name", "description", "inputSchema")}, separators=(",", ":"))) for d in defs
    ]
    full = len(json.dumps(defs))
    average = sum(core) / len(core)
    print(f"tool list: {len(tools)} tools, {full} B in full; name+description+inputSchema avg {average:.0f} B")
    core_defs = [{k: d[k] for k in ("name", "description", "inputSchema")} for d in defs]
    printed = json.dumps(core_defs, indent=1, ensure_ascii=False)
    print(f"tool list as a host prints it (JSON, indent 1): {len(printed.encode())} B (target: at most 870 B a tool)")


def text_bytes(result: Any) -> int:
    return sum(len(b.text.encode()) for b in result.content if b.type == "text")


async def tool_list_figures(client: Client) -> None:
    """The figures the tool list's budget and the count answer are held to (docs/benchmarks.md)."""
    counts = await client.call_tool("list_users", {"count_only": True})
    print(f"list_users count_only (150 users): {text_bytes(counts)} B (target: under 1,500)")
    full = text_bytes(await client.call_tool("list_users", {"all_pages": True}))
    teams = text_bytes(await client.call_tool("list_users", {"all_pages": True, "fields": ["teams"]}))
    print(
        f"list_users all_pages, fields [teams] vs all columns: {teams} / {full} B = {teams / full:.2f} (target: <= 0.6)"
    )


if __name__ == "__main__":
    anyio.run(main)
