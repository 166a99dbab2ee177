"""Serving MCP over the network: streamable HTTP (/mcp) or SSE (/sse), behind a bearer token.

The server holds a Toggl credential, so whoever reaches its port acts as that user: without
TOGGL_FOCUS_HTTP_TOKEN it listens on loopback only, and the SDK's DNS-rebinding protection
refuses foreign Host and Origin headers.
"""

from __future__ import annotations

import hmac
import logging
import sys
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from focus_mcp.config import Settings

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
HEALTH_PATH = "/healthz"


class TokenGate:
    """Every request but /healthz must carry `Authorization: Bearer <token>` when a token is set."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == HEALTH_PATH:
            await _respond(send, 200, b'{"status":"ok"}')
            return
        if self._expected is not None:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await _respond(send, 401, b'{"error":"unauthorized"}', [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def transport_security(host: str, extra_hosts: list[str] | None = None) -> TransportSecuritySettings:
    """Allow loopback names (and the listening address); refuse every other Host and Origin."""
    hosts = [*LOOPBACK, *([host] if host not in ("0.0.0.0", "::") else []), *(extra_hosts or [])]
    names = [f"[{h}]" if ":" in h else h for h in dict.fromkeys(hosts)]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{n}:*" for n in names] + names,
        allowed_origins=[f"{scheme}://{n}{port}" for n in names for scheme in ("http", "https") for port in (":*", "")],
    )


def http_app(server: MCPServer[Any], settings: Settings, transport: str, host: str) -> ASGIApp:
    """The ASGI app for `transport` ("streamable-http" or "sse"), token-gated."""
    security = transport_security(host)
    if transport == "sse":
        app: ASGIApp = server.sse_app(transport_security=security, host=host)
    else:
        app = server.streamable_http_app(transport_security=security, host=host)
    token = settings.http_token.get_secret_value() if settings.http_token else None
    return TokenGate(app, token)


def serve_http(server: MCPServer[Any], settings: Settings, transport: str, host: str, port: int) -> int:
    """Run uvicorn; refuse to expose an unauthenticated server beyond loopback."""
    if host not in LOOPBACK and settings.http_token is None:
        print(
            f"focus-mcp: refusing to listen on {host} without a token: anyone who reaches the port could act "
            "as your Toggl user. Set TOGGL_FOCUS_HTTP_TOKEN (clients then send 'Authorization: Bearer <token>'), "
            "or listen on 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    import uvicorn

    app = http_app(server, settings, transport, host)
    endpoint = "/sse" if transport == "sse" else "/mcp"
    log.warning("serving MCP over %s at http://%s:%d%s", transport, host, port, endpoint)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), lifespan="on")
    return 0
