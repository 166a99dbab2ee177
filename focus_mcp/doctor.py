"""`focus-mcp doctor`: is the configuration complete, are the credentials good, is the API reachable,
do the ids work, how much of the hourly quota is left. Each failing check says what to fix."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

import httpx2

from focus_mcp import request_state
from focus_mcp.api.auth import credential
from focus_mcp.api.client import FocusClient
from focus_mcp.api.errors import AuthenticationError, FocusError, human_duration
from focus_mcp.api.models import TeamsQuery
from focus_mcp.api.urls import display_url
from focus_mcp.config import Settings
from focus_mcp.render.lines import counted

REJECTED = (
    "The credentials were rejected: the key is wrong, revoked or replaced (one active key per user). Make a "
    "new one on your Toggl profile page and set it as TOGGL_FOCUS_API_KEY (or fix TOGGL_FOCUS_EMAIL and "
    "TOGGL_FOCUS_PASSWORD), then run doctor again."
)

# The short form of request_state.NO_SHARED_KEY: doctor's line is read by one person setting up one process.
REPLICAS_NEED = "replicas need TOGGL_FOCUS_REDIS_URL or one TOGGL_FOCUS_REQUEST_STATE_KEY (docs/deploy.md)"


async def run_doctor(
    settings: Settings, transport: httpx2.AsyncBaseTransport | None = None, out: TextIO | None = None
) -> int:
    """Write one line per check to `out` (stdout); exit status 0 only when every check passed."""
    stream = out or sys.stdout

    def _line(ok: bool | None, what: str, detail: str) -> None:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[ok]
        stream.write(f"[{mark}] {what}: {detail}\n")

    failures = 0
    where = "the embedded sandbox" if settings.sandbox else display_url(settings.base_url)
    stream.write(f"focus-mcp doctor: checking {where}\n")
    if settings.sandbox:
        _line(True, "credentials", "none needed: the sandbox is invented data served in-process")
    elif settings.has_credentials:
        _line(True, "credentials", f"{settings.auth_method} is set (value not shown)")
    else:
        failures += 1
        missing = "none: set TOGGL_FOCUS_API_KEY (or TOGGL_FOCUS_EMAIL and TOGGL_FOCUS_PASSWORD)"
        _line(False, "credentials", settings.credentials_problem or missing)
    for name, value in (("organization", settings.organization_id), ("workspace", settings.workspace_id)):
        if value is None:
            failures += 1
            unfilled = settings.placeholder_id_problem(f"{name}_id")
            _line(
                False,
                f"{name} id",
                unfilled or f"not set: set TOGGL_FOCUS_{name.upper()}_ID (tools then need it per call)",
            )
        else:
            _line(True, f"{name} id", str(value))
    if settings.redis_url is not None:
        failures += not await _redis_line(settings, _line)
    elif (shared_key := request_state.source(settings)) is not None:
        _line(True, "request-state key", f"{shared_key}: every replica holding it accepts a user's answers")
    elif not settings.sandbox:  # the sandbox is one process: the key it seals questions with is its own
        _line(None, "request-state key", f"per process: fine for one; {REPLICAS_NEED}")
    if not settings.has_credentials or settings.organization_id is None:
        _line(None, "API", "not contacted until credentials and an organization id are set")
        return 1
    async with FocusClient(settings, transport=transport) as client:
        try:
            roles = await client.list_roles(settings.organization_id)
            _line(True, "API, credentials, organization", f"reachable; organization has {counted(len(roles), 'role')}")
        except AuthenticationError as exc:  # the tools' advice ends "`focus-mcp doctor` checks them": not here
            said = str(exc).removesuffix(exc.next_step()).strip()
            _line(False, "API, credentials, organization", f"{said} {REJECTED}")
            return 1
        except FocusError as exc:
            _line(False, "API, credentials, organization", str(exc))
            return 1
        if settings.workspace_id is not None:
            try:
                teams = await client.list_teams(settings.organization_id, settings.workspace_id, TeamsQuery(per_page=1))
                _line(True, "workspace", f"{settings.workspace_id} is visible, with {counted(teams.total, 'team')}")
            except FocusError as exc:
                failures += 1
                _line(False, "workspace", str(exc))
        quota = client.quota
        if quota.remaining is None:
            _line(None, "quota", "the API sent no quota headers")
        else:
            resets = quota.resets_in()
            when = f", resets in {human_duration(resets)}" if resets is not None else ""
            _line(quota.remaining > 0, "quota", f"{counted(quota.remaining, 'request')} left this hour{when}")
            failures += quota.remaining <= 0
    stream.write("all good\n" if failures == 0 else f"{failures} problem(s) found\n")
    return 0 if failures == 0 else 1


async def _redis_line(settings: Settings, line: Callable[[bool | None, str, str], None]) -> bool:
    """Is the replicas' Redis reachable? What a replica does without it, if not. Edit locks lost mid-edit."""
    from focus_mcp.api.shared import SharedState, identity  # redis: imported only when Redis is configured

    assert settings.redis_url is not None
    who = identity(settings.base_url.rstrip("/"), credential(settings))
    shared = SharedState(settings.redis_url.get_secret_value(), who)
    try:
        up = await shared.ping()
        lost, last = await shared.locks_lost() if up else (0, None)
        ring = request_state.parse_ring(await shared.read_value(request_state.RING)) if up else []
    finally:
        await shared.aclose()
    if up:
        line(True, "redis", "reachable: cache, quota view and edit locks are shared with the other replicas")
    else:
        line(
            False,
            "redis",
            "unreachable (TOGGL_FOCUS_REDIS_URL): reads go on without the shared cache, and edits take turns "
            "only within each replica until it is back",
        )
    if settings.request_state_key is not None:
        line(True, "request-state key", f"{request_state.source(settings)}; the ring in Redis is not used")
    elif ring:
        age, every = human_duration(time.time() - ring[0][1]), human_duration(request_state.ROTATE_AFTER)
        line(True, "request-state key", f"shared through Redis: sealing key {age} old, rotated at {every}")
    elif up:
        line(True, "request-state key", "shared through Redis: the first replica to serve creates it")
    if lost:
        ago = human_duration(time.time() - last) if last is not None else "an unknown time"
        line(
            False,
            "edit locks",
            f"{lost} lost mid-edit since Redis last started empty (the last {ago} ago): Redis restarted or was "
            "emptied while an edit held its lock, so those edits may not have been serialised with others; each "
            "answer said so. Keep Redis up, and check the groups they edited with list_teams fresh=true",
        )
    return up and not lost
