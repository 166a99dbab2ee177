"""The key that seals the 2026-07-28 protocol's requestState, shared by every replica.

On a 2026-07-28 connection a question to the user (delete_group's "Delete the group ...?") travels
in the call's result: the server answers with the question and a sealed `requestState`, and the
client sends the user's answer on a new tools/call that carries it back. The SDK seals it
(AES-256-GCM) and binds it to the same method, tool, arguments and server name ("focus-mcp"), for
TTL seconds. A balancer may send the answer to another replica, which can unseal it only with the
same key. Where the key comes from:

- TOGGL_FOCUS_REQUEST_STATE_KEY: the operator's secret; several, comma-separated, during a rotation
  (the first seals, every one unseals).
- else TOGGL_FOCUS_REDIS_URL: a ring kept in Redis, created once by the first replica (SET NX) and
  read by the others. The replica that first finds the sealing key older than ROTATE_AFTER rotates
  it (compare-and-set, so only one does); the retired key still unseals for one TTL after that,
  plus REFRESH for the replicas that have not looked yet. A replica re-reads the ring at most every
  REFRESH seconds, and again when a state fails to unseal (a key newer than its copy). The ring in
  Redis is the truth: deleted (a leaked key) or lost with Redis, the next replica makes a new one.
- else the SDK's per-process key: one process has nothing to share.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import RequestStateSecurity
from mcp.server.request_state import AESGCMRequestStateCodec, RequestStateBoundary
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent
from mcp_types.methods import INPUT_REQUIRED_METHODS

from focus_mcp.config import Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from focus_mcp.api.shared import SharedState

log = logging.getLogger(__name__)

TTL = 600.0  # seconds a question's answer is accepted (the SDK's default)
REFRESH = 30.0  # seconds a replica trusts its copy of the ring in Redis
ROTATE_AFTER = 7 * 86_400.0  # age of the sealing key at which the ring in Redis is rotated
RING = "request-state-ring"  # under the user's identity, beside the cache and the locks
REFUSED_REASON = "invalid_request_state"  # the SDK's `data.reason` when it refuses a requestState


def parse_ring(raw: bytes | None) -> list[tuple[str, float]]:
    """The ring as stored: newest first, (hex secret, when it began sealing). Unreadable: empty."""
    try:
        ring = [(str(k["secret"]), float(k["since"])) for k in json.loads(raw or b"null")["keys"]]
        if all(len(bytes.fromhex(secret)) >= 32 and math.isfinite(since) for secret, since in ring):
            return ring
    except (ValueError, KeyError, TypeError):
        pass
    return []


def dump_ring(ring: Sequence[tuple[str, float]]) -> str:
    return json.dumps({"keys": [{"secret": s, "since": since} for s, since in ring]})


def usable(ring: Sequence[tuple[str, float]], now: float) -> list[tuple[str, float]]:
    """The newest key, and each older one while its successor has sealed for less than TTL + REFRESH."""
    kept = list(ring[:1])
    for older, newer in zip(ring[1:], ring, strict=False):
        if now - newer[1] >= TTL + REFRESH:
            break
        kept.append(older)
    return kept


class SharedKeys:
    """A `RequestStateCodec` whose keys can change while the server runs (the ring in Redis).

    Until the shared ring is read (or while Redis cannot be had at the start) it seals with a key of
    its own, which it keeps unsealing afterwards, so that no question already asked is lost."""

    def __init__(self) -> None:
        self.own = secrets.token_bytes(32)
        self.ring: list[tuple[str, float]] = []
        self.read_at = -math.inf
        self.warned = False  # that Redis could not be had, once per outage
        self._codec = AESGCMRequestStateCodec([self.own])

    @property
    def shared(self) -> bool:
        return bool(self.ring)

    def seal(self, payload: bytes) -> str:
        return self._codec.seal(payload)

    def unseal(self, token: str) -> bytes:
        return self._codec.unseal(token)

    async def refresh(self, shared: SharedState, *, now: float | None = None, force: bool = False) -> bool:
        """Read the ring (create it if absent, rotate it if old); True when the keys changed."""
        now = time.time() if now is None else now
        if not force and now - self.read_at < REFRESH:
            return False
        self.read_at = now
        raw = await shared.read_value(RING)
        ring = parse_ring(raw)
        if not ring and shared.available:  # the first replica, or the ring was deleted (or Redis restarted empty)
            initial = dump_ring([(secrets.token_hex(32), now)])
            await (shared.create_value(RING, initial) if raw is None else shared.replace_value(RING, raw, initial))
            raw = await shared.read_value(RING)
            ring = parse_ring(raw)
        if ring and now - ring[0][1] >= ROTATE_AFTER:
            rotated = dump_ring([(secrets.token_hex(32), now), *usable(ring, now)])
            await shared.replace_value(RING, raw or b"", rotated)  # another replica may have been first
            ring = parse_ring(await shared.read_value(RING))
        if not ring:
            if not shared.available and not self.ring and not self.warned:
                self.warned = True
                log.warning(
                    "Redis unreachable: requestState is sealed with this replica's own key until it is back, so a "
                    "user's answer to a question (delete_group's) sent to another replica is refused"
                )
            return False
        self.warned = False
        ring = usable(ring, now)
        if ring == self.ring:
            return False
        self.ring = ring
        self._codec = AESGCMRequestStateCodec([*(bytes.fromhex(s) for s, _ in ring), self.own])
        return True


def security(settings: Settings) -> tuple[RequestStateSecurity | None, SharedKeys | None]:
    """The policy for MCPServer(request_state_security=...) (None: the SDK's per-process key), and the
    ring to keep current when it lives in Redis."""
    if settings.request_state_key is not None:
        keys = [k.strip() for k in settings.request_state_key.get_secret_value().split(",") if k.strip()]
        return RequestStateSecurity(keys=list(dict.fromkeys(keys)), ttl=TTL), None
    if settings.redis_url is not None:
        ring = SharedKeys()
        return RequestStateSecurity(codec=ring, ttl=TTL), ring
    return None, None


def source(settings: Settings) -> str | None:
    """Where every replica finds the same key, or None when each process makes its own."""
    if settings.request_state_key is not None:
        return "TOGGL_FOCUS_REQUEST_STATE_KEY (value not shown)"
    if settings.redis_url is not None:
        return "a key ring in Redis (TOGGL_FOCUS_REDIS_URL), created by the first replica"
    return None


NO_SHARED_KEY = (
    "each process seals the questions it asks users (delete_group's confirmation) with its own key, so behind "
    "a balancer a user's answer that reaches another replica is refused and nothing is deleted. Set "
    "TOGGL_FOCUS_REDIS_URL (the replicas then share a key ring) or the same TOGGL_FOCUS_REQUEST_STATE_KEY "
    "(`openssl rand -hex 32`) on every replica."
)


def replica_warning(settings: Settings, stateless: bool) -> str | None:
    """What to say at the start of an HTTP server that looks like one of several replicas without a shared key."""
    if stateless and source(settings) is None:
        return f"--stateless without a shared request-state key: {NO_SHARED_KEY}"
    return None


class RequestStateKeys:
    """Middleware just outside the SDK's requestState boundary: keeps the shared ring current, and answers a
    state the boundary refuses (expired, forged, sealed by a key this replica does not hold) with a sentence."""

    def __init__(self, ring: SharedKeys | None, sandbox: bool) -> None:
        self.ring, self.sandbox = ring, sandbox

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method not in INPUT_REQUIRED_METHODS:
            return await call_next(ctx)
        ring, shared = self.ring, self._shared(ctx)
        if ring is not None and shared is not None:
            await ring.refresh(shared)
        try:
            return await call_next(ctx)
        except MCPError as exc:
            if not refused(exc):
                raise
        if ring is not None and shared is not None and await ring.refresh(shared, force=True):
            try:  # the ring changed (rotated by another replica): the boundary refused before anything ran
                return await call_next(ctx)
            except MCPError as exc:
                if not refused(exc):
                    raise
        return self._refusal(ctx)

    def _shared(self, ctx: ServerRequestContext[Any, Any]) -> SharedState | None:
        client = getattr(ctx.lifespan_context, "client", None)
        return None if self.ring is None or client is None else client.shared

    def _refusal(self, ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
        tool = str((ctx.params or {}).get("name", ""))
        done = "Nothing was deleted" if tool == "delete_group" else "Nothing was done"
        text = (
            f"{done}: the user's answer arrived with a request state this server cannot accept (it expired after "
            f"{TTL / 60:g} minutes, or was sealed by a server that does not hold this one's request-state key). "
            f"Call {tool or 'it'} again to ask the user anew."
        )
        if ctx.method != "tools/call":
            raise MCPError(code=-32602, message=text, data={"reason": REFUSED_REASON})
        return CallToolResult(
            content=[TextContent(type="text", text=f"[SANDBOX] {text}" if self.sandbox else text)], is_error=True
        )


def refused(exc: MCPError) -> bool:
    data = exc.data
    return isinstance(data, dict) and data.get("reason") == REFUSED_REASON


def install(server: MCPServer[Any], ring: SharedKeys | None, sandbox: bool) -> None:
    """Put RequestStateKeys just outside the SDK's boundary (the user middleware runs inside it)."""
    chain = server.middleware
    at = next((i for i, m in enumerate(chain) if isinstance(m, RequestStateBoundary)), 0)
    chain.insert(at, RequestStateKeys(ring, sandbox))
