"""The outcome of a write: written, not written, or unknown, how unknown is settled, and its journal entry.

A write is written when its answer confirms it (or a fresh read shows it), not written when it was
certainly not applied (refused, or never sent), and unknown otherwise. A write whose answer is lost,
or whose 2xx body cannot be read or does not confirm it (an HTML maintenance page, an empty body),
is settled with a fresh read, at once and once more after TOGGL_FOCUS_WRITE_SETTLE seconds, while
the group's turn is still held, so that a write landing late cannot undo an edit made after it. The
answer says what the read shows and never advises a blind retry.

Every write is journaled: begun ("pending") just before it is sent, settled when its outcome is known.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from focus_mcp.api.client import EditLock
from focus_mcp.api.errors import FocusError, InvalidResponseError, WriteOutcomeUnknown
from focus_mcp.api.models import Group
from focus_mcp.journal import Change, fingerprint, new_change_id, now
from focus_mcp.tools.advice import explain
from focus_mcp.tools.base import AppState
from focus_mcp.tools.owned_writes import Commitment
from focus_mcp.tools.render import answer

log = logging.getLogger(__name__)

T = TypeVar("T")
Outcome = Literal["written", "not_written", "unknown"]
# While a write waits for its answer (up to TOGGL_FOCUS_WRITE_TIMEOUT), the client hears progress this
# often, so that a client whose request timeout restarts on progress does not give up on a held write.
HEARTBEAT_SECONDS = 2.0
OUTCOME = "written: the API (or a fresh read) confirmed it; not_written: certainly not applied; unknown."


@dataclass(frozen=True)
class ReadResult:
    """A fresh read after a write: whether it shows the write's effect, what it shows, the group seen."""

    confirmed: bool
    shows: str
    group: Group | None = None


# Reads the group now, to tell whether a write's effect is there.
ReadBack = Callable[[], Awaitable[ReadResult]]


async def settle_by_reading(state: AppState, read_back: ReadBack) -> tuple[ReadResult, float]:
    """(the last read, seconds waited): `read_back` now, then after write_settle."""
    read, waited = ReadResult(False, ""), 0.0
    for wait in (0.0, state.settings.write_settle):
        if wait:
            await anyio.sleep(wait)
            waited += wait
        try:
            read = await read_back()
        except FocusError as exc:
            read = ReadResult(False, f"nothing: the read failed too ({exc})")
        if read.confirmed:
            break
    return read, waited


@dataclass(frozen=True)
class NoReadableAnswer:
    """A write whose answer did not say it was applied, and what a fresh read then showed."""

    cause: str  # what became of the answer
    answered: bool  # a 2xx came, but its body could not be read or did not confirm the write
    read: ReadResult
    waited: float
    change_id: str

    @property
    def written(self) -> bool:
        """Only a fresh read that shows the effect makes it written: an unreadable 2xx proves nothing."""
        return self.read.confirmed

    @property
    def shows(self) -> str:
        return self.read.shows

    @property
    def why(self) -> str:
        if self.answered:
            return "the API answered 2xx, but its answer did not confirm it"
        return "its answer was lost"


def begin_change(
    state: AppState,
    ctx: Context,
    tool: str,
    organization_id: int,
    workspace_id: int | None,
    arguments: dict[str, Any],
    *,
    before: Group | None,
    request: dict[str, Any] | None,
    group_id: int | None = None,
    group_name: str | None = None,
    undoes: str | None = None,
) -> Change:
    """The journal entry of a write about to be sent (stored by `write`)."""
    return Change(
        id=new_change_id(),
        at=now(),
        tool=tool,
        organization_id=organization_id,
        workspace_id=workspace_id,
        group_id=group_id if group_id is not None else (before.id if before else None),
        group_name=group_name if group_name is not None else (before.name if before else None),
        arguments=arguments,
        before=before.model_dump(mode="json") if before else None,
        request=request,
        after=None,
        outcome="pending",
        who=fingerprint(state.settings),
        client=client_name(ctx),
        undoes=undoes,
    )


def client_name(ctx: Context) -> str | None:
    """The MCP client's own name, from its initialize info (the SDK's public session API)."""
    params = ctx.session.client_params
    return params.client_info.name if params is not None else None


async def write(
    state: AppState,
    commitment: Commitment,
    change: Change,
    request: Callable[[], Awaitable[T]],
    read_back: ReadBack,
    *,
    refused: str = "Not written",
    confirms: Callable[[T], bool] = lambda _: True,
    after: Callable[[T], Group | None] = lambda _: None,
) -> T | NoReadableAnswer:
    """Journal `change`, send `request()`, settle and journal its outcome.

    The answer when it confirms the write; otherwise (lost, unreadable, not confirming) what a fresh
    read shows (see settle_by_reading). A refusal, or a write that never left, raises the ToolError
    that says it was not written. From the commit on, this runs to its end whatever becomes of the
    caller (see owned_writes)."""
    commitment.commit()
    await _journal(state, "begin", state.journal.begin(change))
    try:
        result = await request()
    except (WriteOutcomeUnknown, InvalidResponseError) as exc:
        return await _settle_unanswered(state, change, str(exc), isinstance(exc, InvalidResponseError), read_back)
    except FocusError as exc:
        await _journal(state, "settle", state.journal.settle(change.id, "not_written", note=f"refused: {exc}"))
        raise ToolError(f"{refused}: {explain(exc)}") from None
    except Exception as exc:  # a fault of ours after sending: the API may have applied it
        await _journal(state, "settle", state.journal.settle(change.id, "unknown", note=f"failed: {exc!r}"))
        raise
    if not confirms(result):
        cause = "the API answered 2xx without the confirmation the spec documents"
        return await _settle_unanswered(state, change, cause, True, read_back)
    group = after(result)
    settled = state.journal.settle(
        change.id,
        "written",
        group_id=group.id if group else None,
        group_name=group.name if group else None,
        after=group.model_dump(mode="json") if group else None,
        note="answer",
    )
    await _journal(state, "settle", settled)
    return result


async def _settle_unanswered(
    state: AppState, change: Change, cause: str, answered: bool, read_back: ReadBack
) -> NoReadableAnswer:
    read, waited = await settle_by_reading(state, read_back)
    outcome = NoReadableAnswer(cause, answered, read, waited, change.id)
    group = read.group
    settled = state.journal.settle(
        change.id,
        "written" if read.confirmed else "unknown",
        group_id=group.id if group else None,
        group_name=group.name if group else None,
        after=group.model_dump(mode="json") if group else None,
        note=f"fresh read: {'shows it' if read.confirmed else read.shows} ({cause})",
    )
    await _journal(state, "settle", settled)
    return outcome


async def _journal(state: AppState, what: str, call: Awaitable[None]) -> None:
    """A journal that cannot be written does not stop a write: it is logged (the entry may be missing)."""
    try:
        await call
    except Exception as exc:
        log.warning("the change journal could not %s an entry: %s", what, exc)


def change_line(change_id: str) -> str:
    """Where the answer names the write's journal entry."""
    return f"Journaled as change {change_id}."


def confirms_success(answer: dict[str, Any]) -> bool:
    """The documented answer of DELETE and PUT user_role: an object of booleans, none false."""
    return bool(answer) and all(value is not False for value in answer.values())


def unknown(state: AppState, unread: NoReadableAnswer, structured: BaseModel) -> CallToolResult:
    """The answer for a write that neither the API nor a fresh read confirmed."""
    when = f"{unread.waited:g} s later" if unread.waited else "at once"
    lines = [
        f"Outcome unknown (change {unread.change_id}): {unread.cause}. A fresh read {when} shows {unread.shows}. "
        "The write may still land: do not repeat it blindly; the next edit of this group first checks whether "
        "it landed. Read again with fresh=true in a minute and decide from what it shows."
    ]
    return answer(
        state, lines, structured.model_copy(update={"outcome": "unknown", "change_id": unread.change_id}), error=True
    )


def turn_notes(lock: EditLock) -> list[str]:
    """What the answer must say when replicas could not take turns through Redis."""
    if lock.across_replicas is False:
        return [
            "Note: Redis (TOGGL_FOCUS_REDIS_URL) is unreachable, so this edit took turns with this server's own "
            "edits only: edits of the group through other replicas were not serialised with it until Redis is back."
        ]
    if lock.lost:
        return [
            "Note: this edit's lock in Redis (TOGGL_FOCUS_REDIS_URL) was lost while it ran (Redis restarted or was "
            "emptied), so edits of the group through other replicas may not have been serialised with it: read the "
            "group with fresh=true to check that every edit made meanwhile is there."
        ]
    return []


def after_release(result: CallToolResult, lock: EditLock) -> CallToolResult:
    """`result` with the lock notes known only once the lock is released (a Redis lock found gone then)."""
    first = result.content[0] if result.content else None
    if not isinstance(first, TextContent):
        return result
    missing = [note for note in turn_notes(lock) if note not in first.text]
    if not missing:
        return result
    text = "\n".join([first.text, *missing])
    return result.model_copy(update={"content": [first.model_copy(update={"text": text}), *result.content[1:]]})


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
