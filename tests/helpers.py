"""Connecting MCP clients to a server under test."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from conftest import FAST_RETRIES, ORG, WS, group_json, make_settings
from mcp import Client

from focus_mcp.cli import load_settings
from focus_mcp.config import Settings
from focus_mcp.journal import Change, fingerprint, new_change_id, now
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.server import build_server


@asynccontextmanager
async def connect(settings: Settings, transport: httpx2.AsyncBaseTransport, **client: Any) -> AsyncIterator[Client]:
    async with Client(build_server(settings, transport, FAST_RETRIES), **client) as c:
        yield c


@asynccontextmanager
async def two_replicas(
    settings: Settings, transport: httpx2.AsyncBaseTransport
) -> AsyncIterator[tuple[Client, Client]]:
    """Two servers of one configuration (two replicas when it names a Redis), each with a client."""
    async with Client(build_server(settings, transport)) as a, Client(build_server(settings, transport)) as b:
        yield a, b


def sandbox_settings(**flags: Any) -> tuple[Settings, SandboxAPI]:
    """Settings as `--sandbox` makes them, with a SandboxAPI whose requests the test can inspect."""
    settings, _ = load_settings(argparse.Namespace(sandbox=True, **flags))
    return settings, SandboxAPI()


class Gate(httpx2.AsyncBaseTransport):
    """Another transport that holds every request until `opened` is set, so that concurrent calls overlap."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner, self.opened = inner, anyio.Event()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await self.opened.wait()
        return await self.inner.handle_async_request(request)


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if block.type == "text")


def outside(api: SandboxAPI, gid: int) -> list[int]:
    """Joined users of the sandbox not in group `gid`."""
    return [u.id for u in api.users.values() if u.joined and u.id not in api.groups[gid].users]


def writes(api: SandboxAPI) -> list[tuple[str, str]]:
    """The sandbox's requests that were not reads: (method, path)."""
    return [r for r in api.requests if r[0] != "GET"]


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    """The tool's result, asserted not an error."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, text(result)
    return result


def make_change(**fields: Any) -> Change:
    """A journal entry: by default the caller's own pending edit of group 5 "Design" (members 101, 102)."""
    values: dict[str, Any] = {
        "id": new_change_id(),
        "at": now(),
        "tool": "update_group",
        "organization_id": ORG,
        "workspace_id": WS,
        "group_id": 5,
        "group_name": "Design",
        "arguments": {"group_id": "Design"},
        "before": group_json(5, "Design", (101, 102)),
        "request": None,
        "after": None,
        "outcome": "pending",
        "who": fingerprint(make_settings()),  # the caller's own key
    }
    values.update(fields)
    return Change(**values)
