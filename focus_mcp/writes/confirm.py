"""A human's yes before a delete (delete_group, and undo_change of a create, which deletes a group).

When the client can show a question, the server asks the user (the SDK's Resolve/Elicit, so that
2025-era and 2026-07-28 clients are both asked); otherwise the call is refused until the model has
asked the user itself and calls again with confirm=true.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.mcpserver import AcceptedElicitation, Context, Elicit, ElicitationResult
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from focus_mcp.api.errors import FocusError
from focus_mcp.api.models import Group
from focus_mcp.render.lines import compact_json, counted, name
from focus_mcp.toolkit.advice import explain
from focus_mcp.toolkit.arguments import Refusal


def can_ask(ctx: Context) -> bool:
    """Whether the client can show the user a question now: 2026-07-28 clients are asked through the
    call's result; older ones need a back-channel, which a stateless HTTP request does not have."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return False
    version = ctx.protocol_version
    return (version is not None and is_version_at_least(version, "2026-07-28")) or ctx.session.can_send_request


class ConfirmDelete(BaseModel):
    confirm: bool = Field(description="Yes, delete this group.")


class CannotAsk(BaseModel):
    """The client cannot show the user a question; the model must ask and pass confirm=true."""


Question = Elicit[ConfirmDelete] | CannotAsk | Refusal


async def question(find: Callable[[], Awaitable[str | CannotAsk | Refusal]]) -> Question:
    """The question `find` words (or its CannotAsk/Refusal), a failure handed to the tool as a Refusal:
    raised in a resolver, the SDK would prefix it with "Error executing tool"."""
    try:
        found = await find()
    except FocusError as exc:
        return Refusal(explain(exc))
    except ToolError as exc:
        return Refusal(str(exc))
    return Elicit(found, ConfirmDelete) if isinstance(found, str) else found


def group_named(group: Group) -> str:
    """The group as the user is asked about it: name#id, its workspaces by name, its size."""
    spaces = ", ".join(name(w.name) if w.name else f"workspace#{w.workspace_id}" for w in group.workspaces)
    size = f"{counted(len(group.users), 'member')}, {counted(len(group.ghosts), 'ghost')}"
    return f"{name(group.name)}#{group.id} ({spaces or 'no workspace'}), {size}"  # names are data: escaped, bounded


def yes_needed(doing: str, gid: int, group: Group | None, tool: str, again: dict[str, Any]) -> str:
    """The refusal of a delete without the user's yes, naming the group (None: unreadable, named by
    id) so that the question can be put to the user without a look-up, and the call after a yes."""
    named = group_named(group) if group else f"group {gid}"
    call = ", ".join(f"{key}={compact_json(value)}" for key, value in {**again, "confirm": True}.items())
    return (
        f"Not deleted: {doing} the user's explicit yes. Ask them: delete {named}? Only if they agree, "
        f"call {tool} again with {call}."
    )


async def human_yes(
    decision: ElicitationResult[ConfirmDelete], confirm: bool, gid: int, refused: Callable[[], Awaitable[str]]
) -> str | None:
    """None when a human agreed to delete group `gid` (asked by the server, or confirm=true when the
    client cannot be asked); otherwise the answer's line, or the error `refused` words (see yes_needed)."""
    if isinstance(decision, AcceptedElicitation) and isinstance(decision.data, CannotAsk):
        if not confirm:
            raise ToolError(await refused())
        return None
    if isinstance(decision, AcceptedElicitation) and decision.data.confirm:
        return None
    verdict = "cancelled" if decision.action == "cancel" else "declined"
    return f"Not deleted: the user {verdict}. Group {gid} is unchanged."
