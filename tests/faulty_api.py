"""A Toggl Focus stand-in on a real loopback socket that holds requests and drops connections.

It serves the sandbox organization over HTTP/1.1 (parsed with h11) and applies faults that a mock
transport cannot: a request held open until the test releases it (applied before or after the
hold), applied and then answered by closing the connection, or answered 200 by a "gateway" (an
HTML page or an empty body) without reaching the API. Tests order events through the
`Fault.arrived` and `Fault.release` events, never by sleeping.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import h11
import httpx2
from anyio.abc import SocketStream
from conftest import FAST_RETRIES
from mcp import Client

from focus_mcp.config import Settings
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox import data as seed
from focus_mcp.server import build_server

Action = Literal[
    "hold", "apply_then_hold", "apply_then_drop", "drop", "html_200", "empty_200", "api_503", "gateway_502"
]
# Answers a gateway may give in the API's place, the request never reaching it: (content type, body).
GATEWAY_BODIES = {
    "html_200": ("text/html", b"<html><body>Down for maintenance</body></html>"),
    "empty_200": ("application/json", b""),
}
# Errors answered without applying the request: the API's own (its JSON error format: the request ended
# there), or a gateway's page (the request may still reach the API): (status, content type, body).
ERROR_ANSWERS = {
    "api_503": (503, "application/json", b'{"error": "unavailable", "error_description": "Service unavailable"}'),
    "gateway_502": (502, "text/html", b"<html><body>502 Bad Gateway</body></html>"),
}


@dataclass
class Fault:
    """What to do to the next request of `method` whose path ends with `path_suffix`."""

    method: str
    path_suffix: str
    action: Action
    arrived: anyio.Event = field(default_factory=anyio.Event)
    release: anyio.Event = field(default_factory=anyio.Event)
    done: anyio.Event = field(default_factory=anyio.Event)

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and path.split("?", 1)[0].endswith(self.path_suffix)


@dataclass
class FaultyAPI:
    sandbox: SandboxAPI = field(default_factory=SandboxAPI)
    faults: list[Fault] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path?query) as received
    base_url: str = ""

    def fault(self, method: str, path_suffix: str, action: Action) -> Fault:
        fault = Fault(method, path_suffix, action)
        self.faults.append(fault)
        return fault

    def count(self, method: str, path_suffix: str = "") -> int:
        return sum(1 for m, p in self.seen if m == method and p.split("?", 1)[0].endswith(path_suffix))

    async def _handle(self, stream: SocketStream) -> None:
        # The client went away: as a real server would, stop serving that connection.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, h11.ProtocolError):
            await self._serve(stream)

    async def _serve(self, stream: SocketStream) -> None:
        async with stream, httpx2.AsyncClient(transport=self.sandbox.transport()) as inner:
            conn = h11.Connection(h11.SERVER)
            while True:
                request, body = await _read_request(conn, stream)
                if request is None:
                    return
                method, target = request.method.decode(), request.target.decode()
                self.seen.append((method, target))
                fault = next((f for f in self.faults if f.matches(method, target)), None)
                if fault is not None:
                    self.faults.remove(fault)
                    fault.arrived.set()
                if fault is not None and fault.action == "drop":
                    fault.done.set()
                    return
                if fault is not None and fault.action == "hold":
                    await fault.release.wait()
                if fault is not None and (fault.action in GATEWAY_BODIES or fault.action in ERROR_ANSWERS):
                    fault.done.set()
                    status, kind, content = ERROR_ANSWERS.get(fault.action) or (200, *GATEWAY_BODIES[fault.action])
                    headers = [("content-type", kind), ("content-length", str(len(content)))]
                    await stream.send(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
                    await stream.send(conn.send(h11.Data(data=content)) or b"")
                    await stream.send(conn.send(h11.EndOfMessage()) or b"")
                    conn.start_next_cycle()
                    continue
                headers = [(k.decode(), v.decode()) for k, v in request.headers if k.lower() != b"host"]
                answer = await inner.request(
                    method, f"http://sandbox.focus.invalid{target}", headers=headers, content=body
                )
                if fault is not None and fault.action == "apply_then_hold":
                    await fault.release.wait()
                if fault is not None:
                    fault.done.set()
                    if fault.action == "apply_then_drop":
                        return
                out = [(k, v) for k, v in answer.headers.items() if k.lower() not in ("content-length", "connection")]
                out.append(("content-length", str(len(answer.content))))
                await stream.send(conn.send(h11.Response(status_code=answer.status_code, headers=out)) or b"")
                await stream.send(conn.send(h11.Data(data=answer.content)) or b"")
                await stream.send(conn.send(h11.EndOfMessage()) or b"")
                conn.start_next_cycle()


async def _read_request(conn: h11.Connection, stream: SocketStream) -> tuple[h11.Request | None, bytes]:
    request: h11.Request | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            try:
                data = await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
                return None, b""
            conn.receive_data(data)
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return request, body
        else:  # ConnectionClosed, or anything unexpected
            return None, b""


@asynccontextmanager
async def faulty_api(sandbox: SandboxAPI | None = None) -> AsyncIterator[FaultyAPI]:
    """Serve a FaultyAPI on a free loopback port for the life of the block; `.base_url` is its API root."""
    api = FaultyAPI(sandbox=sandbox or SandboxAPI())
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    api.base_url = f"http://127.0.0.1:{port}/api"
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, api._handle)
        try:
            yield api
        finally:
            for fault in api.faults:
                fault.release.set()
            tg.cancel_scope.cancel()


WS = 4300004  # Operations
SECURITY = 4500008  # a team of Operations


@asynccontextmanager
async def served(**settings: Any) -> AsyncIterator[tuple[FaultyAPI, Client]]:
    """The server, through the real protocol, against the sandbox behind a faulty loopback API."""
    async with faulty_api() as api:
        values: dict[str, Any] = {
            "api_key": "k",
            "base_url": api.base_url,
            "organization_id": seed.ORGANIZATION_ID,
            "workspace_id": WS,
            "write_settle": 0.0,
            **settings,
        }
        async with Client(build_server(Settings(**values), retry_policy=FAST_RETRIES)) as client:
            yield api, client
