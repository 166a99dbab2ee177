"""stdio without a thread hop per message.

The SDK's stdio transport reads and writes through `anyio.wrap_file`, which hands every line
read, every write and every flush to a worker thread. When stdin and stdout are pipes or sockets
(as when a host spawns the server), this serves the same SDK transport from non-blocking pipes on
the event loop instead. Like the SDK, it keeps stray writes off the wire: while serving, fd 1
points at stderr and fd 0 at the null device. Anything else (a file, a terminal, Windows) falls
back to the SDK's own transport.

One more difference: at the end of stdin the SDK cancels requests still in flight, so `printf
'...requests...' | focus-mcp` may lose the last answers. Here the end of stdin is passed on only
once every request read has been answered (or after END_GRACE seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

LINE_LIMIT = 1 << 26  # bytes in one JSON-RPC message; the SDK's own reader has no limit either
END_GRACE = 60.0  # seconds to wait, at the end of stdin, for answers still being worked on
# How the SDK serializes an answer: `{"jsonrpc":"2.0","id":<id>,"result"|"error":...}`.
ANSWER = re.compile(r'^\{"jsonrpc":"2\.0","id":("(?:[^"\\]|\\.)*"|-?\d+),"(?:result|error)"')


class _Pending:
    """Ids of requests read and not yet answered."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.changed = asyncio.Event()

    def read(self, line: str) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "method" in message and "id" in message:
            self.ids.add(json.dumps(message["id"]))
        elif message.get("method") == "notifications/cancelled":  # a cancelled request gets no answer
            params = message.get("params")
            if isinstance(params, dict) and "requestId" in params:
                self.ids.discard(json.dumps(params["requestId"]))
                self.changed.set()

    def written(self, text: str) -> None:
        answer = ANSWER.match(text)
        if answer is not None:
            self.ids.discard(json.dumps(json.loads(answer.group(1))))
            self.changed.set()

    async def drained(self) -> None:
        while self.ids:
            self.changed.clear()
            await self.changed.wait()


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _Lines:
    """`async for line in stdin`, as the SDK's transport reads it."""

    def __init__(self, reader: asyncio.StreamReader, pending: _Pending) -> None:
        self._reader = reader
        self._pending = pending

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        raw = await self._reader.readline()
        if not raw:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pending.drained(), END_GRACE)
            raise StopAsyncIteration
        line = raw.decode("utf-8", errors="replace")
        self._pending.read(line)
        return line


class _Writer:
    """`await stdout.write(text)` and `await stdout.flush()`, as the SDK's transport writes."""

    def __init__(self, writer: asyncio.StreamWriter, pending: _Pending) -> None:
        self._writer = writer
        self._pending = pending

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))
        self._pending.written(text)

    async def flush(self) -> None:
        await self._writer.drain()


@asynccontextmanager
async def _event_loop_pipes() -> AsyncIterator[tuple[_Lines, _Writer]]:
    loop = asyncio.get_running_loop()
    wire_in, wire_out = os.dup(0), os.dup(1)
    saved_in, saved_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    sys.stdout.flush()
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # print() and child processes now write to stderr, not the protocol
    os.close(devnull)
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
    )
    write_transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
    pending = _Pending()
    try:
        yield _Lines(reader, pending), _Writer(writer, pending)
    finally:
        read_transport.close()
        write_transport.close()
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.close(saved_in)
        os.close(saved_out)


async def serve_stdio(server: MCPServer[Any]) -> None:
    """Serve `server` over stdin/stdout until stdin closes."""
    if sys.platform == "win32" or not (_is_pipe_or_socket(0) and _is_pipe_or_socket(1)):
        await server.run_stdio_async()
        return
    lowlevel = server._lowlevel_server  # what MCPServer.run_stdio_async runs, fed from our streams
    async with _event_loop_pipes() as (lines, out), stdio_server(lines, out) as (read, write):  # type: ignore[arg-type]
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
