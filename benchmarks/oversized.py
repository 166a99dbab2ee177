"""Oversized answers: a loopback API that answers 1 GiB, an endless body, or a gzip body inflating to
1 GiB, and the peak memory of focus-mcp refusing each (TOGGL_FOCUS_MAX_RESPONSE_BYTES, 16 MiB).

Target: every one refused with an error naming the limit, peak RSS under 400 MB.
Run from the repository root: .venv/bin/python -m benchmarks.oversized
"""

from __future__ import annotations

import contextlib
import resource
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import anyio
import anyio.abc
import h11
from anyio.abc import SocketStream
from pydantic import SecretStr

from focus_mcp.api.client import FocusClient
from focus_mcp.api.errors import FocusError
from focus_mcp.config import Settings

Body = Literal["huge", "endless", "gzip_bomb"]
GIB = 1 << 30
CHUNK = bytes(1 << 20)  # 1 MiB of zeros


@dataclass
class OversizedAPI:
    """Answers every request with `status` and a `body` of `size` decoded bytes (endless: no end)."""

    body: Body
    status: int = 200
    size: int = GIB
    base_url: str = ""
    sent: int = 0  # decoded bytes put on the wire so far

    async def _handle(self, stream: SocketStream) -> None:
        with contextlib.suppress(
            anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream, h11.ProtocolError
        ):
            async with stream:
                await self._answer(stream)

    async def _answer(self, stream: SocketStream) -> None:
        conn = h11.Connection(h11.SERVER)
        while not isinstance(event := conn.next_event(), h11.EndOfMessage):
            if event is h11.NEED_DATA:
                conn.receive_data(await stream.receive())
        headers = [("content-type", "application/json")]
        if self.body == "huge":
            headers.append(("content-length", str(self.size)))
        else:
            headers.append(("transfer-encoding", "chunked"))
        if self.body == "gzip_bomb":
            headers.append(("content-encoding", "gzip"))
        await stream.send(conn.send(h11.Response(status_code=self.status, headers=headers)) or b"")
        gzip = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        while self.body == "endless" or self.sent < self.size:
            data = gzip.compress(CHUNK) if self.body == "gzip_bomb" else CHUNK
            self.sent += len(CHUNK)
            if data:
                await stream.send(conn.send(h11.Data(data=data)) or b"")
        if self.body == "gzip_bomb":
            await stream.send(conn.send(h11.Data(data=gzip.flush())) or b"")
        await stream.send(conn.send(h11.EndOfMessage()) or b"")


@asynccontextmanager
async def oversized_api(body: Body, status: int = 200, size: int = GIB) -> AsyncIterator[OversizedAPI]:
    """Serve an OversizedAPI on a free loopback port for the life of the block; `.base_url` is its API root."""
    api = OversizedAPI(body, status, size)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    api.base_url = f"http://127.0.0.1:{listener.extra(anyio.abc.SocketAttribute.local_port)}/api"
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, api._handle)
        try:
            yield api
        finally:
            tg.cancel_scope.cancel()


async def refuse(body: Body) -> tuple[str, float, int]:
    """(the error, seconds, decoded bytes the server had sent by then)."""
    async with oversized_api(body) as api:
        settings = Settings(api_key=SecretStr("toggl_sk_benchmark_key_0123456789"), base_url=api.base_url, deadline=600)
        started = time.perf_counter()
        async with FocusClient(settings) as client:
            try:
                await client.list_roles(1)
                said = "NOT REFUSED"
            except FocusError as exc:
                said = str(exc)
        return said, time.perf_counter() - started, api.sent


async def main() -> None:
    for body in ("huge", "endless", "gzip_bomb"):
        said, seconds, sent = await refuse(body)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(
            f"{body:10} refused in {seconds:.2f} s, server had sent {sent / 2**20:,.0f} MiB decoded; "
            f"peak RSS so far {peak:.0f} MB"
        )
        print(f"           {said[:160]}")


if __name__ == "__main__":
    anyio.run(main)
