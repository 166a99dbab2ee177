"""A write's outcome words, and the job that runs it owned by the server with progress for its caller.

A write is written when its answer confirms it (or a fresh read shows it), not written when it was
certainly not applied (refused, or never sent), and unknown otherwise. A write whose answer is lost,
or whose 2xx body cannot be read or does not confirm it (an HTML maintenance page, an empty body),
is settled with a fresh read, at once and once more after TOGGL_FOCUS_WRITE_SETTLE seconds, while
the group's turn is still held, so that a write landing late cannot undo an edit made after it. The
answer says what the read shows and never advises a blind retry.

(The sequence itself is pipeline.py; one step's send and settle, send.py.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context

from focus_mcp.tools.base import AppState
from focus_mcp.writes.owned import Commitment

log = logging.getLogger(__name__)

T = TypeVar("T")
Outcome = Literal["written", "not_written", "unknown"]
# While a write waits for its answer (up to TOGGL_FOCUS_WRITE_TIMEOUT), the client hears progress this
# often, so that a client whose request timeout restarts on progress does not give up on a held write.
HEARTBEAT_SECONDS = 2.0
OUTCOME = "written: the API (or a fresh read) confirmed it; not_written: certainly not applied; unknown."


def change_line(change_id: str) -> str:
    """Where the answer names the write's journal entry."""
    return f"Journaled as change {change_id}."


def confirms_success(answer: dict[str, Any]) -> bool:
    """The documented answer of DELETE and PUT user_role: an object of booleans, none false."""
    return bool(answer) and all(value is not False for value in answer.values())


async def await_with_progress(ctx: Context, work: Awaitable[T], what: str) -> T:
    """`work`'s result, with a progress notification every HEARTBEAT_SECONDS while it is awaited
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
            result = await work
        except Exception as exc:  # raised below, outside the task group, as itself
            failure = exc
        finally:
            answered.set()
    if failure is not None:
        raise failure
    return result


async def run_owned(state: AppState, ctx: Context, what: str, job: Callable[[Commitment], Awaitable[T]]) -> T:
    """`job` run by the server (see owned_writes), its caller hearing progress while it waits."""
    return await await_with_progress(ctx, state.writes.run(what, job), what)
