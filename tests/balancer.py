"""A per-request round-robin balancer on loopback, as operators put in front of `--stateless` replicas:
each HTTP request goes to the next upstream in turn, whatever session or conversation it belongs to.

It reads each answer whole before relaying it (a stateless answer ends with its request), refuses
bodies over MAX_BODY, gives each upstream TIMEOUT seconds, and stops with the `serving` block that
runs it. `routed` records, per request, which upstream took it and the JSON-RPC method it carried.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import httpx2
from starlette.types import Receive, Scope, Send

MAX_BODY = 4 * 1024 * 1024
TIMEOUT = 60.0
HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"content-length", b"host", b"te", b"upgrade",
              b"content-encoding"}  # fmt: skip


class RoundRobin:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self._next = count()
        self.routed: list[tuple[int, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # nothing to set up or tear down
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await _send(send, 413, [], b"request too large")
                return
        which = next(self._next) % len(self.upstreams)
        self.routed.append((which, _method(body)))
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        url = (
            self.upstreams[which]
            + scope["path"]
            + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        )
        async with httpx2.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.request(scope["method"], url, headers=headers, content=body)
        relayed = [(k.lower(), v) for k, v in answer.headers.raw if k.lower() not in HOP_BY_HOP]
        await _send(send, answer.status_code, relayed, answer.content)


def _method(body: bytes) -> str:
    try:
        message: Any = json.loads(body)
    except ValueError:
        return ""
    return str(message.get("method", "")) if isinstance(message, dict) else ""


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
