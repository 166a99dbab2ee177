"""`focus-mcp` spawned against the loopback API of faulty_api, as a host runs it: over stdio (the SDK's
stdio client) or over streamable HTTP / SSE on a free port, its stderr read as it is written, and a
relay whose TCP connections the test can cut (a host gone, a dropped network).

Tests order events on what the server says on stderr (`ServerLog.wait_for`) and on what the API
received (faulty_api), never by sleeping.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx2
from anyio.abc import ByteReceiveStream, Process, SocketAttribute, SocketStream, TaskStatus
from conftest import SECRET_KEY
from faulty_api import WS, FaultyAPI
from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from focus_mcp.sandbox import data as seed

COMMAND = shutil.which("focus-mcp") or sys.executable
PREFIX = [] if shutil.which("focus-mcp") else ["-m", "focus_mcp"]
TOKEN = "http-token-0123456789abcdef0123456789"
WAIT_SECONDS = 30  # a bound for a failing test only: events are awaited, never slept for


def server_env(api: FaultyAPI) -> dict[str, str]:
    """The environment of a server on the loopback API: none of the developer's TOGGL_FOCUS_ settings,
    the test's own journal (conftest), everything logged, so that the test sees what a log would show."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGGL_FOCUS_")}
    env.update(
        TOGGL_FOCUS_API_KEY=SECRET_KEY,
        TOGGL_FOCUS_BASE_URL=api.base_url,
        TOGGL_FOCUS_ORGANIZATION_ID=str(seed.ORGANIZATION_ID),
        TOGGL_FOCUS_WORKSPACE_ID=str(WS),
        TOGGL_FOCUS_WRITE_SETTLE="0",
        TOGGL_FOCUS_LOG_LEVEL="DEBUG",
        TOGGL_FOCUS_HTTP_TOKEN=TOKEN,
        TOGGL_FOCUS_JOURNAL=os.environ["TOGGL_FOCUS_JOURNAL"],
    )
    return env


class ServerLog:
    """The server's stderr so far; `wait_for` returns once a pattern shows up in it."""

    def __init__(self) -> None:
        self.text = ""
        self.ended = anyio.Event()
        self._grew = anyio.Event()

    def _add(self, chunk: bytes) -> None:
        self.text += chunk.decode(errors="replace")
        self._grew.set()
        self._grew = anyio.Event()

    async def pump(self, stream: ByteReceiveStream) -> None:
        async for chunk in stream:
            self._add(chunk)
        self.ended.set()

    async def pump_fd(self, fd: int) -> None:
        os.set_blocking(fd, False)
        with contextlib.closing(os.fdopen(fd, "rb", buffering=0)) as pipe:
            while True:
                await anyio.wait_readable(pipe)
                chunk = pipe.read(1 << 16)
                if chunk is None:  # woken, nothing to read yet
                    continue
                if not chunk:
                    break
                self._add(chunk)
        self.ended.set()

    async def wait_for(self, pattern: str) -> re.Match[str]:
        with anyio.fail_after(WAIT_SECONDS):
            while (found := re.search(pattern, self.text)) is None:
                await self._grew.wait()
        return found


@asynccontextmanager
async def stdio_server(api: FaultyAPI, mode: str = "auto") -> AsyncIterator[tuple[Client, ServerLog]]:
    """`focus-mcp` spawned by the SDK's stdio client, as a desktop host runs it (`mode`: see http_client)."""
    log = ServerLog()
    read_end, write_end = os.pipe()
    params = StdioServerParameters(command=COMMAND, args=PREFIX, env=server_env(api))
    async with anyio.create_task_group() as tg:
        tg.start_soon(log.pump_fd, read_end)
        with os.fdopen(write_end, "w") as errlog:  # a pipe's end: nothing blocks
            async with Client(stdio_client(params, errlog=errlog), mode=mode) as client:
                errlog.close()  # the server holds the only write end now: the pipe ends when the server does
                yield client, log
        with anyio.fail_after(WAIT_SECONDS):
            await log.ended.wait()


@dataclass
class HttpServer:
    url: str  # http://127.0.0.1:<port>
    log: ServerLog
    process: Process


@asynccontextmanager
async def http_server(api: FaultyAPI, transport: str, stateless: bool = False) -> AsyncIterator[HttpServer]:
    """`focus-mcp --transport <transport> --port 0` spawned; yields once it listens. Stopped (SIGTERM)
    at the end of the block unless stopped already."""
    log = ServerLog()
    command = [COMMAND, *PREFIX, "--transport", transport, "--port", "0", *(["--stateless"] if stateless else [])]
    async with await anyio.open_process(command, env=server_env(api)) as process, anyio.create_task_group() as tg:
        assert process.stderr is not None
        tg.start_soon(log.pump, process.stderr)
        try:
            ready = await log.wait_for(r"ready at (http://127\.0\.0\.1:\d+)/")
            yield HttpServer(ready.group(1), log, process)
        finally:
            if process.returncode is None:
                process.terminate()
            with anyio.fail_after(WAIT_SECONDS):
                await log.ended.wait()


@asynccontextmanager
async def http_client(url: str, transport: str, mode: str = "auto") -> AsyncIterator[Client]:
    """The SDK's client of that transport, with the token; `mode` "legacy" speaks the 2025 protocol
    (the initialize handshake, a session), as most hosts still do."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if transport == "sse":
        async with Client(sse_client(f"{url}/sse", headers=headers), mode=mode) as client:
            yield client
        return
    async with (
        httpx2.AsyncClient(headers=headers, timeout=WAIT_SECONDS) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode) as client,
    ):
        yield client


class Relay:
    """A TCP relay on a free loopback port to `target` (an http://host:port URL); `cut` closes every
    connection through it and stops listening, as when a host is killed or the network drops."""

    def __init__(self, target: str) -> None:
        self.target_port = int(target.rsplit(":", 1)[1])
        self.url = ""
        self._scope = anyio.CancelScope()
        self._closed = anyio.Event()

    async def run(self, *, task_status: TaskStatus[None]) -> None:
        with self._scope:
            async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
                self.url = f"http://127.0.0.1:{listener.extra(SocketAttribute.local_port)}"
                task_status.started()
                await listener.serve(self._relay)
        self._closed.set()

    async def cut(self) -> None:
        self._scope.cancel()
        await self._closed.wait()

    async def _relay(self, down: SocketStream) -> None:
        async with down, await anyio.connect_tcp("127.0.0.1", self.target_port) as up, anyio.create_task_group() as tg:
            tg.start_soon(_pipe, down, up, tg.cancel_scope)
            tg.start_soon(_pipe, up, down, tg.cancel_scope)


async def _pipe(source: SocketStream, sink: SocketStream, both: anyio.CancelScope) -> None:
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        async for chunk in source:
            await sink.send(chunk)
    both.cancel()  # one side ended: the connection is over
