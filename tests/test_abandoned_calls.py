"""A sent write belongs to the server, end to end: `focus-mcp` spawned as hosts run it, a real MCP
client that abandons an update_group while the loopback API holds its PUT (the stop button's
notifications/cancelled, the client's own request timeout, the HTTP or SSE connection dropped), then
a second edit of the same group. The second edit waits for the turn the first still holds and sends
nothing meanwhile; once the held PUT lands it goes on, so the final state is the second edit; the
journal shows the first edit's real outcome; the server logs no traceback and no secret, and serves
other clients meanwhile.

Events are ordered on what the API received (faulty_api) and on what the server says on stderr
(spawned.ServerLog), never by sleeping. The one clock is the client's own request timeout, which is
what that variant is about.
"""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from conftest import SECRET_KEY
from faulty_api import SECURITY, Fault, FaultyAPI, faulty_api
from helpers import text
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from spawned import (
    COMMAND,
    PREFIX,
    TOKEN,
    WAIT_SECONDS,
    Relay,
    ServerLog,
    http_client,
    http_server,
    server_env,
    stdio_server,
)

from focus_mcp.journal import SqliteJournal
from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio

FIRST = {"group_id": SECURITY, "name": "Alpha"}
SECOND = {"group_id": SECURITY, "name": "Beta"}
# What the server says when a call leaves after its write was sent, and when an edit waits its turn.
LEFT_AFTER_SENDING = "update_group: its caller stopped waiting after the write was sent; it runs to its outcome"
WAITS_ITS_TURN = f"edit of group {SECURITY} waits for the one under way"
# The client's request timeout: far longer than the server takes to send the PUT (a few ms), and the
# PUT is held until the test releases it, so the timeout falls while the PUT is out.
READ_TIMEOUT_SECONDS = 1.0


async def stopped(client: Client, arrived: anyio.Event) -> None:
    """The first edit, stopped once its PUT is at the API, as a host's stop button does (the SDK client
    then sends notifications/cancelled)."""
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, "update_group", FIRST)
            await arrived.wait()
            scope.cancel()


async def second_edit_behind(client: Client, log: ServerLog, api: FaultyAPI, held: Fault) -> CallToolResult:
    """The second edit, sent while the first's PUT is held: it waits for the group's turn (the server
    says so) and sends nothing meanwhile; the held PUT is released only then."""
    results: list[CallToolResult] = []
    received = list(api.seen)
    async with anyio.create_task_group() as tg:

        async def edit() -> None:
            results.append(await client.call_tool("update_group", SECOND))
            tg.cancel_scope.cancel()  # answered: if it did not wait its turn, stop waiting for the server to say so

        tg.start_soon(edit)
        await log.wait_for(re.escape(WAITS_ITS_TURN))
        assert api.seen == received  # it has not read the group: that read must show the first PUT's effect
        held.release.set()
    (result,) = results
    assert held.release.is_set(), f"answered while the first edit's PUT was still out: {text(result)}"
    return result


async def assert_second_edit_is_the_final_state(client: Client, api: FaultyAPI, second: CallToolResult) -> None:
    assert not second.is_error and second.structured_content is not None, text(second)
    assert second.structured_content["outcome"] == "written", text(second)
    assert "renamed 'Alpha' -> 'Beta'" in text(second)  # it read the group after the first PUT landed
    assert api.sandbox.groups[SECURITY].name == "Beta" and api.count("PUT") == 2
    listed = await client.call_tool("list_changes", {"group_id": SECURITY})
    assert listed.structured_content is not None, text(listed)
    latest, first = listed.structured_content["changes"]
    assert (first["did"], first["outcome"], first["note"]) == ('renamed "Security" to "Alpha"', "written", "answer")
    assert (latest["did"], latest["outcome"]) == ('renamed "Alpha" to "Beta"', "written")


def assert_quiet(log: ServerLog) -> None:
    """Nothing a user should not see in the server's log, at DEBUG."""
    assert "Traceback" not in log.text and " ERROR " not in log.text and "ERROR:" not in log.text, log.text
    assert SECRET_KEY not in log.text and TOKEN not in log.text


@pytest.mark.parametrize(("abandon", "mode"), [("stop", "auto"), ("stop", "legacy"), ("read_timeout", "auto")])
async def test_over_stdio_an_abandoned_edit_lands_before_the_next_edit_of_its_group(abandon: str, mode: str) -> None:
    async with faulty_api() as api:
        async with stdio_server(api, mode) as (client, log):
            assert not (await client.call_tool("list_roles", {})).is_error  # started, its connection open
            held = api.fault("PUT", f"groups/{SECURITY}", "hold")
            if abandon == "stop":
                await stopped(client, held.arrived)
            else:
                with pytest.raises(MCPError, match="timed out"):
                    await client.call_tool("update_group", FIRST, read_timeout_seconds=READ_TIMEOUT_SECONDS)
                assert held.arrived.is_set()  # the timeout fell while the PUT was out
            await log.wait_for(re.escape(LEFT_AFTER_SENDING))  # the cancel reached the server, which keeps the write
            second = await second_edit_behind(client, log, api, held)
            await assert_second_edit_is_the_final_state(client, api, second)
        assert_quiet(log)


async def unanswered(url: str, transport: str, mode: str) -> None:
    """The first edit, whose connection goes away under it: the client errors, whatever it makes of that."""
    try:
        async with http_client(url, transport, mode) as client:
            await client.call_tool("update_group", FIRST)
    except Exception:
        return
    raise AssertionError("the call was answered through a connection gone")


async def dropped(url: str, transport: str, mode: str, held: Fault, relay: Relay) -> None:
    """The first edit, its connection cut once its PUT is at the API."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(unanswered, url, transport, mode)
        await held.arrived.wait()
        await relay.cut()


async def timed_out(url: str, transport: str, mode: str, held: Fault) -> None:
    """The first edit, given up by the client's own request timeout while its PUT is out; then the client
    leaves (its session ended)."""
    async with http_client(url, transport, mode) as client:
        with pytest.raises(MCPError, match="timed out"):
            await client.call_tool("update_group", FIRST, read_timeout_seconds=READ_TIMEOUT_SECONDS)
        assert held.arrived.is_set()  # the timeout fell while the PUT was out


# (transport, --stateless, client mode, how the call is abandoned). "auto" speaks the 2026 protocol, where a
# request ends with its connection; "legacy" the 2025 one (most hosts), whose session outlives a dropped
# connection unless the server is stateless, so that there the call itself runs on.
VARIANTS = [
    ("streamable-http", False, "auto", "drop"),
    ("streamable-http", False, "legacy", "drop"),
    ("streamable-http", True, "legacy", "drop"),
    ("sse", False, "auto", "drop"),
    ("streamable-http", False, "auto", "read_timeout"),
]


@pytest.mark.parametrize(("transport", "stateless", "mode", "abandon"), VARIANTS)
async def test_over_http_an_abandoned_call_leaves_the_write_to_the_server(
    transport: str, stateless: bool, mode: str, abandon: str
) -> None:
    async with faulty_api() as api, http_server(api, transport, stateless) as server:
        url, log = server.url, server.log
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        if abandon == "read_timeout":
            await timed_out(url, transport, mode, held)
        else:
            async with anyio.create_task_group() as tg:
                relay = Relay(url)
                await tg.start(relay.run)
                await dropped(relay.url, transport, mode, held, relay)
        if (transport, stateless, mode, abandon) != ("streamable-http", False, "legacy", "drop"):
            await log.wait_for(re.escape(LEFT_AFTER_SENDING))  # the call ended: the server keeps the write
        async with http_client(url, transport, mode) as client:  # another client, served while the PUT is out
            roles = await client.call_tool("list_roles", {})
            assert not roles.is_error and "Owner" in text(roles), text(roles)
            second = await second_edit_behind(client, log, api, held)
            await assert_second_edit_is_the_final_state(client, api, second)
    assert_quiet(log)


@pytest.mark.parametrize(("transport", "mode"), [("streamable-http", "auto"), ("streamable-http", "legacy"),
                                                 ("sse", "auto")])  # fmt: skip
async def test_a_server_stopped_with_a_write_out_waits_for_it_and_logs_no_traceback(transport: str, mode: str) -> None:
    """SIGTERM (a deployment's stop) while a client's PUT is out: the server closes its connections, awaits
    the write it owns, journals it, exits 0, and logs no traceback (an SSE stream open at shutdown made
    the SDK's endpoint send a second response: http.OneResponse)."""
    async with faulty_api() as api, http_server(api, transport) as server:
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        async with anyio.create_task_group() as tg:
            tg.start_soon(unanswered, server.url, transport, mode)
            await held.arrived.wait()
            server.process.terminate()
            if (transport, mode) == ("streamable-http", "auto"):  # uvicorn waits for the request to be answered
                await server.log.wait_for(re.escape("Waiting for connections to close"))
            else:  # the session's streams are closed: the call ends with the server's stop, not its write
                await server.log.wait_for(re.escape(LEFT_AFTER_SENDING))
            assert server.process.returncode is None  # it waits for the write it owns
            held.release.set()
            with anyio.fail_after(WAIT_SECONDS):
                assert await server.process.wait() in (0, -signal.SIGTERM)  # uvicorn ends as the signal would
    journal = SqliteJournal(Path(os.environ["TOGGL_FOCUS_JOURNAL"]))
    (change,) = await journal.changes(seed.ORGANIZATION_ID, group_id=SECURITY)
    await journal.aclose()
    assert (change.outcome, change.note) == ("written", "answer") and api.sandbox.groups[SECURITY].name == "Alpha"
    assert_quiet(server.log)


@asynccontextmanager
async def quitting_host(api: FaultyAPI, held: Fault) -> AsyncIterator[tuple[Process, ServerLog]]:
    """A spawned server whose host closes stdin (it quits) once the first edit's PUT is at the API; yields
    once the server has stopped the call (not its write)."""
    initialize = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "update_group", "arguments": FIRST}},
    ]
    log = ServerLog()
    async with await anyio.open_process([COMMAND, *PREFIX], env=server_env(api)) as process:
        assert process.stdin is not None and process.stderr is not None
        async with anyio.create_task_group() as tg:
            tg.start_soon(log.pump, process.stderr)
            await process.stdin.send(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
            await held.arrived.wait()
            await process.stdin.aclose()
            await log.wait_for(re.escape(LEFT_AFTER_SENDING))
            assert process.returncode is None  # it waits for the write it owns
            yield process, log


async def test_stdin_closed_with_a_write_out_the_server_ends_once_the_write_has_landed() -> None:
    async with faulty_api() as api:
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        async with quitting_host(api, held) as (process, log):
            held.release.set()
            with anyio.fail_after(WAIT_SECONDS):
                assert await process.wait() == 0
    journal = SqliteJournal(Path(os.environ["TOGGL_FOCUS_JOURNAL"]))
    (change,) = await journal.changes(seed.ORGANIZATION_ID, group_id=SECURITY)
    await journal.aclose()
    assert (change.outcome, change.note) == ("written", "answer") and api.sandbox.groups[SECURITY].name == "Alpha"
    assert_quiet(log)


async def test_a_server_killed_with_a_write_out_leaves_it_to_the_next_servers_next_edit() -> None:
    """The host does not wait (the SDK's stdio client sends SIGTERM 2 s after closing stdin): the write's
    journal entry stays pending; the PUT lands late; the next server's edit of the group reads first,
    settles it written, and goes on from what the group now is."""
    async with faulty_api() as api:
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        async with quitting_host(api, held) as (process, log):
            process.terminate()
            with anyio.fail_after(WAIT_SECONDS):
                await process.wait()
        held.release.set()
        await held.done.wait()  # applied after its sender died: nobody hears the answer
        async with stdio_server(api) as (client, _):
            second = await client.call_tool("update_group", SECOND)
            assert second.structured_content is not None and second.structured_content["outcome"] == "written"
            listed = await client.call_tool("list_changes", {"group_id": SECURITY})
    assert api.sandbox.groups[SECURITY].name == "Beta" and "renamed 'Alpha' -> 'Beta'" in text(second)
    assert listed.structured_content is not None
    _, first = listed.structured_content["changes"]
    assert (first["outcome"], first["note"]) == ("written", "fresh read before the next edit: its effect is there")
    assert "Traceback" not in log.text and SECRET_KEY not in log.text
