"""stdio served from the event loop, with no thread or task hop per message.

The SDK's stdio transport reads and writes through `anyio.wrap_file`, which hands every line
read, every write and every flush to a worker thread, and passes each message through a reader
task and a writer task. When stdin and stdout are pipes or sockets (as when a host spawns the
server), this serves the SDK's server loop from non-blocking pipes instead, through the SDK's own
`ReadStream`/`WriteStream` protocols: a message is parsed by whoever receives it and written by
whoever sends it. Like the SDK, it keeps stray writes off the wire: while serving, fd 1 points at
stderr and fd 0 at the null device. Anything else (a file, a terminal, Windows) falls back to the
SDK's own transport.

One more difference: at the end of stdin the SDK cancels requests still in flight, so `printf
'...requests...' | focus-mcp` may lose the last answers. Here the end of stdin is passed on only
once every request read has been answered, and the server stops once every answer has left for
the pipe, even for a client that reads slowly (each wait is bounded by END_GRACE seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from mcp_types import (
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)

LINE_LIMIT = 1 << 26  # bytes in one JSON-RPC message; the SDK's own reader has no limit either
END_GRACE = 60.0  # seconds to wait, at the end of stdin, for answers still being worked on


class _Pending:
    """Ids of requests read and not yet answered."""

    def __init__(self) -> None:
        self.ids: set[RequestId] = set()
        self.changed = asyncio.Event()

    def read(self, message: JSONRPCMessage) -> None:
        if isinstance(message, JSONRPCRequest):
            self.ids.add(message.id)
        elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            # A cancelled request gets no answer.
            request_id = (message.params or {}).get("requestId")
            if isinstance(request_id, str | int):
                self.ids.discard(request_id)
                self.changed.set()

    def written(self, message: JSONRPCMessage) -> None:
        if isinstance(message, JSONRPCResponse | JSONRPCError) and message.id is not None:
            self.ids.discard(message.id)
            self.changed.set()

    async def drained(self) -> None:
        while self.ids:
            self.changed.clear()
            await self.changed.wait()


class _Closable:
    async def aclose(self) -> None:
        """The pipes are closed by `_event_loop_pipes`, after the server loop has let go of them."""

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _Messages(_Closable):
    """The SDK's `ReadStream`: stdin's lines as messages, parsed as the SDK's stdio reader parses them."""

    def __init__(self, reader: asyncio.StreamReader, pending: _Pending) -> None:
        self._reader = reader
        self._pending = pending

    async def receive(self) -> SessionMessage | Exception:
        raw = await self._reader.readline()
        if not raw:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pending.drained(), END_GRACE)
            raise anyio.EndOfStream
        try:
            message = jsonrpc_message_adapter.validate_json(raw.decode("utf-8", errors="replace"), by_name=False)
        except Exception as exc:  # the SDK answers it as a parse error, as from its own reader
            return exc
        self._pending.read(message)
        return SessionMessage(message)

    def __aiter__(self) -> _Messages:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None


class _Answers(_Closable):
    """The SDK's `WriteStream`: each message written to stdout as one line, by the task that sends it."""

    def __init__(self, writer: asyncio.StreamWriter, pending: _Pending) -> None:
        self._writer = writer
        self._pending = pending

    async def send(self, item: SessionMessage, /) -> None:
        line = item.message.model_dump_json(by_alias=True, exclude_unset=True)
        self._writer.write(line.encode("utf-8") + b"\n")
        self._pending.written(item.message)
        await self._writer.drain()

    async def aclose(self) -> None:
        """Wait (up to END_GRACE) until every answer has left for the pipe: the process may exit next.

        `drain()` returns once the buffer is below its high-water mark (64 KiB), so without this a
        client that reads slowly could lose the last answers when stdin ends.
        """
        transport = self._writer.transport
        if transport.is_closing():
            return
        transport.set_write_buffer_limits(high=0)  # now drain() returns only once the buffer is empty
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(self._writer.drain(), END_GRACE)


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@asynccontextmanager
async def _event_loop_pipes() -> AsyncIterator[tuple[_Messages, _Answers]]:
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
        yield _Messages(reader, pending), _Answers(writer, pending)
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
    async with _event_loop_pipes() as (read, write):
        await lowlevel.run(read, write, lowlevel.create_initialization_options())
