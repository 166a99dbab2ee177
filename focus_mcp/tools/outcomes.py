"""The outcome of a write: written, not written, or unknown, and how unknown is settled.

A write is written when the API confirmed it (or a fresh read shows it), not written when it was
certainly not applied (refused, or never sent), and unknown when it was sent and no answer came.
Unknown is settled with a fresh read, at once and once more after TOGGL_FOCUS_WRITE_SETTLE
seconds, while the caller still holds the group's turn, so that a write landing late cannot undo
an edit made after it. The answer says what the read shows and never advises a blind retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult

from focus_mcp.api.client import Turn
from focus_mcp.api.errors import FocusError, WriteOutcomeUnknown
from focus_mcp.tools.base import AppState
from focus_mcp.tools.render import answer

Outcome = Literal["written", "not_written", "unknown"]
OUTCOME = "written: the API (or a fresh read) confirmed it; not_written: certainly not applied; unknown."

# Reads the group now: (the write's effect is there, what the read shows).
Check = Callable[[], Awaitable[tuple[bool, str]]]


async def settle(state: AppState, check: Check) -> tuple[bool, str, float]:
    """(confirmed, what the last read shows, seconds waited): `check` now, then after write_settle."""
    shows, waited = "", 0.0
    for wait in (0.0, state.settings.write_settle):
        if wait:
            await anyio.sleep(wait)
            waited += wait
        try:
            confirmed, shows = await check()
        except FocusError as exc:
            confirmed, shows = False, f"nothing: the read failed too ({exc})"
        if confirmed:
            return True, shows, waited
    return False, shows, waited


def unknown(
    state: AppState, exc: WriteOutcomeUnknown, shows: str, waited: float, structured: dict[str, object]
) -> CallToolResult:
    """The answer for a write that neither the API nor a fresh read confirmed."""
    when = f"{waited:g} s later" if waited else "at once"
    lines = [
        f"Outcome unknown: {exc}. A fresh read {when} shows {shows}. The write may still land: do not repeat "
        "it blindly; read again with fresh=true in a minute and decide from what it shows."
    ]
    return answer(state, lines, {**structured, "outcome": "unknown"}, error=True)


def not_written(exc: FocusError, verb: str = "Not written") -> ToolError:
    """The error for a write the API refused, or that never left."""
    return ToolError(f"{verb}: {exc}")


def turn_notes(turn: Turn) -> list[str]:
    """What the answer must say when replicas could not take turns through Redis."""
    if turn.shared is False:
        return [
            "Note: Redis (TOGGL_FOCUS_REDIS_URL) is unreachable, so this edit took turns with this server's own "
            "edits only: edits of the group through other replicas were not serialised with it until Redis is back."
        ]
    return []
