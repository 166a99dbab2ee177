"""build_server: the MCPServer with its tools, whose lifespan owns the one HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp.server.mcpserver import MCPServer

from focus_mcp import __version__, request_state
from focus_mcp.api.client import FocusClient
from focus_mcp.api.retry import RetryPolicy
from focus_mcp.config import Settings
from focus_mcp.journal import Journal, open_journal
from focus_mcp.prompts import add_prompts
from focus_mcp.registry import ToolServer, as_tool, tool_specs
from focus_mcp.resources import ServedState, add_resources
from focus_mcp.toolkit.base import AppState
from focus_mcp.writes.owned import owned_writes
from focus_mcp.writes.turns import Turns, turns_directory

INSTRUCTIONS = """\
Reads and edits a Toggl Focus organization: users (members), teams (groups), roles, member tags.
organization_id and workspace_id (create_group: workspaces) default to the configured ones;
reads answer from one read of the organization, its age said past a minute; fresh=true reads anew.
A text filter matches part of a name (or email), any case; several ids in one filter match any.
list_users with has_group=false finds people in no team; status finds invited or locked people.
Teams are listed per workspace: list_teams with all_workspaces=true lists every team once, with
its members' roles; list_workspaces names the workspaces.
Edits take ids or exact names: update_group with add_users/remove_users keeps everything else.
A write's answer says written, not_written or unknown; never repeat an unknown write blindly.
The API allows as few as 30 requests an hour: prefer one filtered call over many.
Deleting a group always needs the user's explicit yes."""

SANDBOX_INSTRUCTIONS = """
THIS IS THE SANDBOX: an invented demo organization, not the user's real data. Say so when you
report anything from it; changes last only until the server stops."""

# The audience of every sealed requestState: replicas behind one balancer must all carry this name.
SERVER_NAME = "focus-mcp"

READ_ONLY_INSTRUCTIONS = "\nRead-only mode: no tool here can change anything."


class SharedClient:
    """One FocusClient (one connection pool, cache and quota view) and one change journal for every
    session of the process.

    stdio and streamable HTTP enter the lifespan once; SSE enters it per connection, so the client
    is counted in and out and closed when the last session ends. The journal lives as long as the
    server: its in-memory store (TOGGL_FOCUS_JOURNAL=off) must outlive one SSE session.
    """

    def __init__(
        self, settings: Settings, transport: httpx2.AsyncBaseTransport | None, retry_policy: RetryPolicy | None
    ) -> None:
        self.settings, self.transport, self.retry_policy = settings, transport, retry_policy
        self.client: FocusClient | None = None
        self.turns: Turns | None = None
        self.journal: Journal = open_journal(settings)
        self.users = 0

    @asynccontextmanager
    async def use(self) -> AsyncIterator[FocusClient]:
        if self.client is None:
            self.client = FocusClient(self.settings, transport=self.transport, retry_policy=self.retry_policy)
            self.turns = Turns(self.client.shared, turns_directory(self.settings))
        client = self.client
        self.users += 1
        try:
            yield client
        finally:
            self.users -= 1
            if self.users == 0:
                self.client = None
                await client.aclose()
                await self.journal.aclose()  # closes connections only: the next session reopens them


def build_server(
    settings: Settings, transport: httpx2.AsyncBaseTransport | None = None, retry_policy: RetryPolicy | None = None
) -> MCPServer[AppState]:
    """The focus-mcp server. `transport` replaces the network (the sandbox, tests); `retry_policy` the
    timing of retries (tests pass a fast one)."""

    shared = SharedClient(settings, transport, retry_policy)
    sealing, ring = request_state.security(settings)
    served = ServedState()

    @asynccontextmanager
    async def lifespan(_: MCPServer[AppState]) -> AsyncIterator[AppState]:
        # Writes under way are awaited (owned_writes) before the client they use is closed.
        async with shared.use() as client, owned_writes(settings) as writes:
            if ring is not None and client.shared is not None:  # at the start: an unreachable Redis is said now
                await ring.refresh(client.shared)
            assert shared.turns is not None  # made with the client
            state = AppState(
                client=client, settings=settings, journal=shared.journal, writes=writes, turns=shared.turns
            )
            with served.serving(state):  # what the static resources read through
                yield state

    specs = tool_specs(settings)
    instructions = INSTRUCTIONS
    if settings.sandbox:
        instructions += SANDBOX_INSTRUCTIONS
    if settings.read_only:
        instructions += READ_ONLY_INSTRUCTIONS
    server = ToolServer(
        SERVER_NAME,
        title="Toggl Focus",
        instructions=instructions,
        version=__version__,
        tools=[as_tool(spec) for spec in specs],
        lifespan=lifespan,
        log_level=settings.log_level,
        request_state_security=sealing,
        settings=settings,
    )
    request_state.install(server, ring, settings.sandbox)
    add_prompts(server, settings)
    add_resources(server, settings, served)
    return server
