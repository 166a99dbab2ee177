"""Serving MCP over the network: streamable HTTP (/mcp) or SSE (/sse), behind a bearer token.

The server holds a Toggl credential, so whoever reaches its port acts as that user: without
TOGGL_FOCUS_HTTP_TOKEN it listens on loopback only, and the SDK's DNS-rebinding protection
refuses a foreign Host (421) or Origin (403) unless the deployment's names are allowed.
"""

from __future__ import annotations

import hmac
import json
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from focus_mcp.api.urls import is_loopback
from focus_mcp.config import Settings
from focus_mcp.request_state import replica_warning

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ANY_ADDRESS = ("0.0.0.0", "::", "")
HEALTH_PATH = "/healthz"
MIN_TOKEN_CHARS = 32  # beyond loopback: a token too long to guess


@dataclass(frozen=True)
class HttpOptions:
    transport: str = "streamable-http"  # or "sse"
    host: str = "127.0.0.1"
    port: int = 8000
    stateless: bool = False
    allowed_hosts: list[str] = field(default_factory=list)  # the deployment's own names, e.g. mcp.example.com
    allowed_origins: list[str] = field(default_factory=list)  # e.g. https://app.example.com


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
                await _respond(send, 401, _unauthorized(given), [(b"www-authenticate", _challenge(given))])
                return
        await self.app(scope, receive, send)


class OneResponse:
    """One response per request. The SDK's SSE endpoint returns an empty Response once its stream has
    ended, which Starlette then sends as a second response (modelcontextprotocol/python-sdk#883): uvicorn
    logs a traceback each time the server itself ends an open stream (a shutdown with SSE clients
    connected). A second response is dropped here, and the stream it followed is ended instead; so is a
    stream the app returns from unended (streamable HTTP's at shutdown), which uvicorn logs as an error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def send_once(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                if started:
                    if not finished:
                        finished = True
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                started = True
            elif message["type"] == "http.response.body":
                if finished:
                    return
                finished = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, send_once)
        if started and not finished:  # a stream the app let go of without ending it (its session shut down)
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _challenge(given: bytes) -> bytes:
    """RFC 6750's challenge: the scheme always; `invalid_token` when a bearer token was sent and is not it."""
    wrong = given[:7].lower() == b"bearer "
    return b'Bearer realm="focus-mcp"' + (b', error="invalid_token"' if wrong else b"")


def _unauthorized(given: bytes) -> bytes:
    """How to authenticate, in a sentence; never the token, neither the one expected nor the one sent."""
    if given[:7].lower() == b"bearer ":
        said = (
            "The bearer token sent is not this server's: send the value of TOGGL_FOCUS_HTTP_TOKEN, the one the "
            "server was started with, as 'Authorization: Bearer <token>'."
        )
    else:
        said = (
            "This server needs a token: send the header 'Authorization: Bearer <token>', where <token> is the "
            "value of TOGGL_FOCUS_HTTP_TOKEN the server was started with."
        )
    return json.dumps({"error": "unauthorized", "error_description": said}).encode()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def transport_security(options: HttpOptions) -> TransportSecuritySettings:
    """Allow the loopback names, the listening address and the configured names; refuse the rest."""
    listening = [] if options.host in ANY_ADDRESS else [options.host]
    hosts = [*LOOPBACK, *listening, *options.allowed_hosts]
    names = list(dict.fromkeys(f"[{h}]" if ":" in h and not h.startswith("[") else h for h in hosts))
    origins = [f"{scheme}://{n}{port}" for n in names for scheme in ("http", "https") for port in (":*", "")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*names, *(f"{n}:*" for n in names)],
        allowed_origins=[*origins, *options.allowed_origins],
    )


def http_app(server: MCPServer[Any], settings: Settings, options: HttpOptions) -> ASGIApp:
    """The ASGI app for the chosen transport, token-gated, with /healthz."""
    security = transport_security(options)
    if options.transport == "sse":
        app: ASGIApp = server.sse_app(transport_security=security, host=options.host)
    else:
        app = server.streamable_http_app(
            transport_security=security, host=options.host, stateless_http=options.stateless
        )
    token = settings.http_token.get_secret_value() if settings.http_token else None
    return TokenGate(OneResponse(app), token)


def exposure_problem(settings: Settings, host: str) -> str | None:
    """Why the server must not start on `host`, or None: beyond loopback it needs a token that cannot
    be guessed (MIN_TOKEN_CHARS or more)."""
    if is_loopback(host):
        return None
    where = host or "every address"
    if settings.http_token is None:
        return (
            f"refusing to listen on {where} without a token: anyone who reaches the port could act as your "
            "Toggl user. Set TOGGL_FOCUS_HTTP_TOKEN (clients then send 'Authorization: Bearer <token>'), "
            "or listen on 127.0.0.1."
        )
    if len(settings.http_token.get_secret_value()) < MIN_TOKEN_CHARS:
        return (
            f"refusing to listen on {where} with a TOGGL_FOCUS_HTTP_TOKEN of fewer than {MIN_TOKEN_CHARS} "
            "characters: it could be guessed, and whoever guesses it acts as your Toggl user. Set a longer "
            "one (e.g. `openssl rand -hex 32`), or listen on 127.0.0.1."
        )
    return None


def ready_line(settings: Settings, options: HttpOptions, port: int) -> str:
    """What a user needs once the socket listens: where, with a token or not, which mode."""
    host = f"[{options.host}]" if ":" in options.host else options.host or "0.0.0.0"
    endpoint = "/sse" if options.transport == "sse" else "/mcp"
    facts = [
        "SSE" if options.transport == "sse" else "streamable HTTP" + (", stateless" if options.stateless else ""),
        "token required (Authorization: Bearer <TOGGL_FOCUS_HTTP_TOKEN>)"
        if settings.http_token is not None
        else "no token, loopback only",
    ]
    if settings.read_only:
        facts.append("read-only")
    if settings.sandbox:
        facts.append("sandbox (invented demo data)")
    return f"focus-mcp: ready at http://{host}:{port}{endpoint}; {'; '.join(facts)}; health check {HEALTH_PATH}"


def serve_http(server: MCPServer[Any], settings: Settings, options: HttpOptions) -> None:
    """Run uvicorn until stopped; say on stderr where it listens once it does. The caller has checked
    `exposure_problem` first."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # the lifespan has run and the socket listens (port 0: the one chosen)
                port = self.servers[0].sockets[0].getsockname()[1] if self.servers else options.port
                print(ready_line(settings, options, port), file=sys.stderr, flush=True)

    if warning := replica_warning(settings, options.stateless):
        print(f"focus-mcp: warning: {warning}", file=sys.stderr, flush=True)
    app = http_app(server, settings, options)
    config = uvicorn.Config(
        app, host=options.host, port=options.port, log_level=settings.log_level.lower(), lifespan="on"
    )
    AnnouncingServer(config).run()
