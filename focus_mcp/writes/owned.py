"""Writes the server owns: once a write may reach the API, it runs to its outcome whatever becomes
of the call that asked for it.

A client may abandon a call at any moment (`notifications/cancelled`, its own read timeout, an SSE
client that disconnects, stdin closed), and the SDK then cancels the tool's handler. A write already
sent must not be cancelled with it: the API may still apply it, so its outcome must be settled (its
answer or a fresh read) and journaled, and the group's turn kept until then, or the next edit would
read the group before the late write lands and be undone by it. So each write tool runs its turn
(read, plan, journal, send, settle) as a job in a task group of the server's lifespan:

- until the job commits (`Commitment.commit`, just before it journals and sends), abandoning the call
  cancels the job: nothing was sent, nothing is left behind;
- after that, abandoning the call only stops the caller waiting (it gets nothing, as MCP says); the
  job finishes, releases the turn, and the next caller in line sees its outcome.

On shutdown, committed jobs are awaited up to their bound (the write's own deadline, its settle
waits and reads), so that no write is dropped silently; one still out after that is logged, and its
journal entry stays unsettled for the next edit of the group to find.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskGroup
from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# Beyond the write's own limits: the journal's writes (a local file or Redis) and scheduling.
SHUTDOWN_MARGIN_SECONDS = 5.0


def write_bound(settings: Settings) -> float:
    """The longest a committed write can take: the request with retries, then the settle reads."""
    reads = 2 * settings.deadline  # the fresh read at once and after write_settle
    return settings.deadline + settings.write_timeout + settings.write_settle + reads + SHUTDOWN_MARGIN_SECONDS


class Commitment:
    """A job's point of no return; `what` names the write for the log."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.scope = anyio.CancelScope()  # the job runs in it: cancelled only while uncommitted
        self.committed = False

    def commit(self) -> None:
        """From here the job runs to its outcome, whatever becomes of the caller."""
        self.committed = True

    def abandon(self) -> None:
        if not self.committed:
            self.scope.cancel()


class _Result(Generic[T]):
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: T | None = None
        self.failure: Exception | None = None
        self.finished = False


class OwnedWrites:
    """Runs write jobs in the server's task group (see the module docstring)."""

    def __init__(self, task_group: TaskGroup) -> None:
        self._tg = task_group
        self._jobs: set[Commitment] = set()
        self._idle = anyio.Event()
        self._idle.set()
        self.closing = False

    @property
    def committed(self) -> list[str]:
        return sorted(c.what for c in self._jobs if c.committed)

    async def run(self, what: str, job: Callable[[Commitment], Awaitable[T]]) -> T:
        """`job`'s result, the job running in the server's task group; an exception it raises is raised here."""
        if self.closing:
            raise ToolError(f"Not written: the server is shutting down, so {what} was not sent.")
        commitment, result = Commitment(what), _Result[T]()
        self._jobs.add(commitment)
        self._idle = anyio.Event()
        self._tg.start_soon(self._owned, commitment, job, result)
        try:
            await result.done.wait()
        except anyio.get_cancelled_exc_class():
            if commitment.committed:
                log.info("%s: its caller stopped waiting after the write was sent; it runs to its outcome", what)
            commitment.abandon()  # a committed job carries on; an uncommitted one stops
            raise
        if result.failure is not None:
            raise result.failure
        if not result.finished:
            raise ToolError(f"Not written: {what} was stopped before it was sent (the server is shutting down).")
        return result.value  # type: ignore[return-value]  # set whenever finished

    async def _owned(
        self, commitment: Commitment, job: Callable[[Commitment], Awaitable[T]], result: _Result[T]
    ) -> None:
        try:
            with commitment.scope:
                try:
                    result.value = await job(commitment)
                    result.finished = True
                except Exception as exc:  # handed to the caller, as itself
                    result.failure = exc
        finally:
            self._jobs.discard(commitment)
            if not self._jobs:
                self._idle.set()
            result.done.set()

    async def close(self, bound: float) -> None:
        """Stop the jobs not yet committed; await the committed ones up to `bound` seconds."""
        self.closing = True
        for commitment in list(self._jobs):
            commitment.abandon()
        with anyio.move_on_after(bound, shield=True):
            await self._idle.wait()
        for what in self.committed:
            log.warning(
                "shutting down with %s still out after %g s: its outcome is unknown and stays unsettled in the "
                "journal; the next edit of the group reads it again",
                what,
                bound,
            )


@asynccontextmanager
async def owned_writes(settings: Settings) -> AsyncIterator[OwnedWrites]:
    """The server's write jobs, for the life of its lifespan."""
    async with anyio.create_task_group() as tg:
        writes = OwnedWrites(tg)
        try:
            yield writes
        finally:
            await writes.close(write_bound(settings))
            tg.cancel_scope.cancel()
