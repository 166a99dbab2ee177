"""One step of a change sent, and its outcome: written, not written, or unknown.

A step is written when its answer confirms it (the group for POST and PUT, an object of booleans none
false for DELETE and user_role) or a fresh read shows it; not written when it was certainly not
applied (refused, or never sent); unknown otherwise. Its answer lost, or a 2xx that does not confirm
it (an HTML page, an empty body), a fresh read settles it while the turn is still held: at once and
once more after TOGGL_FOCUS_WRITE_SETTLE. A 5xx the API answered in its own JSON error format ended
the request there: the read at once settles it (seen: written; not seen: not written), no long wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio

from focus_mcp.api.errors import FocusError, InvalidResponseError, WriteOutcomeUnknown
from focus_mcp.api.models import Group, GroupRequest, GroupUserRoleRequest
from focus_mcp.api.parse import confirms_success
from focus_mcp.journal.model import Outcome, Step
from focus_mcp.toolkit.advice import explain
from focus_mcp.toolkit.base import AppState
from focus_mcp.writes.reads import Look, look

UNCONFIRMED = "the API answered 2xx without the confirmation the spec documents"


@dataclass(frozen=True)
class Sent:
    """A step after sending: the step with its outcome, the group as the answer or a read showed it,
    and, when the answer did not settle it, what became of the answer and what a fresh read showed."""

    step: Step
    group: Group | None = None
    cause: str = ""  # what became of the answer, when it did not confirm the step
    answered: bool = False  # a 2xx came, but did not confirm it
    read: Look | None = None
    waited: float = 0.0
    refusal: str = ""  # not written: the API's words and the next step
    failure: Exception | None = None  # a fault of ours after sending (raised once the change is settled)

    @property
    def outcome(self) -> Outcome:
        return self.step.outcome

    @property
    def why(self) -> str:
        return "the API answered 2xx, but its answer did not confirm it" if self.answered else "its answer was lost"


async def send_step(state: AppState, org: int, step: Step, names: dict[int, str] | None = None) -> Sent:
    """Send `step`, and settle it (see the module docstring); `names`: members' names for what a read
    shows still to do."""
    try:
        result = await _request(state, org, step)
    except WriteOutcomeUnknown as exc:
        return await _settle(state, org, step, str(exc), answered=False, ended=exc.ended, names=names)
    except InvalidResponseError as exc:
        return await _settle(state, org, step, str(exc), answered=True, ended=False, names=names)
    except FocusError as exc:
        return Sent(_with(step, "not_written", f"refused: {exc}"), refusal=explain(exc))
    except Exception as exc:  # a fault of ours after sending: the API may have applied it
        return Sent(_with(step, "unknown", f"failed: {exc!r}"), failure=exc)
    if isinstance(result, Group):
        return Sent(_with(step, "written", "answer", result), result)
    if not confirms_success(result):
        return await _settle(state, org, step, UNCONFIRMED, answered=True, ended=False, names=names)
    return Sent(_with(step, "written", "answer"))


def _with(step: Step, outcome: Outcome, note: str, group: Group | None = None) -> Step:
    update: dict[str, Any] = {"outcome": outcome, "note": note}
    if group is not None and step.kind != "delete":
        update["after"] = group.model_dump(mode="json")
        update["group_id"], update["group_name"] = group.id, group.name
    return step.model_copy(update=update)


async def _request(state: AppState, org: int, step: Step) -> Group | dict[str, Any]:
    client, gid = state.client, step.group_id or 0
    if step.kind == "create":
        return await client.create_group(org, GroupRequest.model_validate(step.request))
    if step.kind == "put":
        return await client.update_group(org, gid, GroupRequest.model_validate(step.request))
    if step.kind == "role":
        return await client.set_group_member_role(org, gid, GroupUserRoleRequest.model_validate(step.request))
    return await client.delete_group(org, gid, step.workspace_id or 0)


async def _settle(
    state: AppState, org: int, step: Step, cause: str, answered: bool, ended: bool, names: dict[int, str] | None
) -> Sent:
    """The step whose answer did not confirm it, settled by reading (once when the API ended it)."""
    read, waited = Look(False, ""), 0.0
    for wait in (0.0,) if ended else (0.0, state.settings.write_settle):
        if wait:
            await anyio.sleep(wait)
            waited += wait
        read = await look(state, org, step, known=names)
        if read.seen:
            break
    if read.seen:
        outcome: Outcome = "written"
    else:
        outcome = "not_written" if ended else "unknown"
    note = f"fresh read: {'shows it' if read.seen else read.shows} ({cause})"
    settled = _with(step, outcome, note, read.group if read.seen else None)
    return Sent(settled, read.group, cause, answered, read, waited)
