"""The outcome of a write: written, not written, or unknown, and how unknown is settled.

A write is written when the API confirmed it (or a fresh read shows it), not written when it was
certainly not applied (refused, or never sent), and unknown when it was sent and no answer came.
Unknown is settled with a fresh read, at once and once more after TOGGL_FOCUS_WRITE_SETTLE
seconds, while the caller still holds the group's turn, so that a write landing late cannot undo
an edit made after it. The answer says what the read shows and never advises a blind retry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult

from focus_mcp.api.client import EditLock
from focus_mcp.api.errors import FocusError, InvalidResponseError, WriteOutcomeUnknown
from focus_mcp.tools.advice import explain
from focus_mcp.tools.base import AppState
from focus_mcp.tools.render import answer

T = TypeVar("T")
Outcome = Literal["written", "not_written", "unknown"]
# While a write waits for its answer (up to TOGGL_FOCUS_WRITE_TIMEOUT), the client hears progress this
# often, so that a client whose request timeout restarts on progress does not give up on a held write.
HEARTBEAT_SECONDS = 2.0
OUTCOME = "written: the API (or a fresh read) confirmed it; not_written: certainly not applied; unknown."

# Reads the group now: (the write's effect is there, what the read shows).
ReadBack = Callable[[], Awaitable[tuple[bool, str]]]


async def settle_by_reading(state: AppState, read_back: ReadBack) -> tuple[bool, str, float]:
    """(confirmed, what the last read shows, seconds waited): `read_back` now, then after write_settle."""
    shows, waited = "", 0.0
    for wait in (0.0, state.settings.write_settle):
        if wait:
            await anyio.sleep(wait)
            waited += wait
        try:
            confirmed, shows = await read_back()
        except FocusError as exc:
            confirmed, shows = False, f"nothing: the read failed too ({exc})"
        if confirmed:
            return True, shows, waited
    return False, shows, waited


@dataclass(frozen=True)
class NoReadableAnswer:
    """A write with no readable answer, and what a fresh read then showed."""

    cause: WriteOutcomeUnknown | InvalidResponseError  # no answer, or a 2xx whose body cannot be read
    confirmed: bool  # the read shows the write's effect
    shows: str
    waited: float

    @property
    def written(self) -> bool:
        """A 2xx is written, whatever its body; a lost answer only when the read shows it."""
        return self.confirmed or isinstance(self.cause, InvalidResponseError)

    @property
    def why(self) -> str:
        if isinstance(self.cause, InvalidResponseError):
            return "the API confirmed it, but its answer could not be read"
        return "its answer was lost"


async def write(
    state: AppState, ctx: Context, request: Awaitable[T], what: str, read_back: ReadBack, refused: str = "Not written"
) -> T | NoReadableAnswer:
    """The write's answer; or, when there is none to read, what `read_back` shows (see settle_by_reading); a refusal,
    or a write that never left, raises the ToolError that says it was not written."""
    try:
        return await await_with_progress(ctx, request, what)
    except (WriteOutcomeUnknown, InvalidResponseError) as exc:
        return NoReadableAnswer(exc, *await settle_by_reading(state, read_back))
    except FocusError as exc:
        raise ToolError(f"{refused}: {explain(exc)}") from None


def unknown(state: AppState, unread: NoReadableAnswer, structured: dict[str, object]) -> CallToolResult:
    """The answer for a write that neither the API nor a fresh read confirmed."""
    when = f"{unread.waited:g} s later" if unread.waited else "at once"
    lines = [
        f"Outcome unknown: {unread.cause}. A fresh read {when} shows {unread.shows}. The write may still "
        "land: do not repeat it blindly; read again with fresh=true in a minute and decide from what it shows."
    ]
    return answer(state, lines, {**structured, "outcome": "unknown"}, error=True)


def turn_notes(turn: EditLock) -> list[str]:
    """What the answer must say when replicas could not take turns through Redis."""
    if turn.across_replicas is False:
        return [
            "Note: Redis (TOGGL_FOCUS_REDIS_URL) is unreachable, so this edit took turns with this server's own "
            "edits only: edits of the group through other replicas were not serialised with it until Redis is back."
        ]
    if turn.lost:
        return [
            "Note: this edit's lock in Redis (TOGGL_FOCUS_REDIS_URL) was lost while it ran (Redis restarted or was "
            "emptied), so edits of the group through other replicas may not have been serialised with it: read the "
            "group with fresh=true to check that every edit made meanwhile is there."
        ]
    return []


async def await_with_progress(ctx: Context, write: Awaitable[T], what: str) -> T:
    """`write`'s result, with a progress notification every HEARTBEAT_SECONDS while it is await_with_progress
    (none reach a client that asked for no progress)."""
    answered = anyio.Event()

    async def beat() -> None:
        beats = 0
        while not answered.is_set():
            with anyio.move_on_after(HEARTBEAT_SECONDS):
                await answered.wait()
            if not answered.is_set():
                beats += 1
                await ctx.report_progress(beats, None, f"{what}: waiting for the API's answer")

    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(beat)
        try:
            result = await write
        except Exception as exc:  # raised below, outside the task group, as itself
            failure = exc
        finally:
            answered.set()
    if failure is not None:
        raise failure
    return result
