"""The upstream requests of a scripted agent session on the sandbox: focus-mcp vs a naive pass-through.

16 tool calls that a naive pass-through serves with 17 upstream requests (the rename reads, then
writes). Run from the repository root: .venv/bin/python -m benchmarks.session
"""

from __future__ import annotations

import argparse
from typing import Any

import anyio
from mcp import Client

from focus_mcp.cli import load_settings
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.server import build_server

DESIGN = 4_500_001
SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("list_roles", {}),
    ("list_teams", {}),
    ("list_my_groups", {}),
    ("list_users", {"has_group": False}),
    ("list_member_tags", {}),
    ("list_roles", {}),
    ("list_teams", {}),
    ("list_users", {"has_group": False}),
    ("list_roles", {}),
    ("list_teams", {}),
    ("update_group", {"group_id": DESIGN, "name": "Design Studio"}),
    ("list_teams", {}),
    ("list_my_groups", {}),
    ("list_member_tags", {}),
    ("list_roles", {}),
    ("list_teams", {}),
]
NAIVE_REQUESTS = len(SCRIPT) + 1  # every call one request, the rename two (read, then write)


async def run_session(cache_ttl: float = 60.0) -> tuple[int, list[str]]:
    """Upstream requests spent on SCRIPT, and the text of every answer."""
    settings, _ = load_settings(argparse.Namespace(sandbox=True))
    settings = settings.model_copy(update={"cache_ttl": cache_ttl})
    sandbox = SandboxAPI()
    answers = []
    async with Client(build_server(settings, sandbox.transport())) as client:
        for tool, args in SCRIPT:
            result = await client.call_tool(tool, args)
            assert not result.is_error, result
            answers.append("\n".join(b.text for b in result.content if b.type == "text"))
    return len(sandbox.requests), answers


async def main() -> None:
    cached, _ = await run_session()
    uncached, _ = await run_session(cache_ttl=0)
    print(f"scripted session of {len(SCRIPT)} calls: naive pass-through {NAIVE_REQUESTS} requests")
    print(f"  focus-mcp, cache off (TOGGL_FOCUS_CACHE_TTL=0): {uncached} upstream requests")
    print(f"  focus-mcp, cache on (default):                 {cached} upstream requests")


if __name__ == "__main__":
    anyio.run(main)
