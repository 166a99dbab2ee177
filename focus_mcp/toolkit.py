"""What every tool shares: the common arguments, the defaults for ids, and how an answer is composed."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from focus_mcp.api.client import NO_CREDENTIALS
from focus_mcp.api.errors import human_duration
from focus_mcp.api.models import Id
from focus_mcp.registry import AppState, ToolArgs
from focus_mcp.trim import SANDBOX_BANNER, Record, fit, one_line

# Characters kept free in the response budget for the notes after the records: what was cut, quota.
NOTE_RESERVE = 450
# From this many requests left in the hour, every answer says so: on the free plan (30 an hour) a
# third of the budget, when an agent should start leaning on the cache.
LOW_QUOTA = 10
M = TypeVar("M", bound=BaseModel)


class OrgArgs(ToolArgs):
    organization_id: Id | None = Field(default=None, description="Default: the configured organization.")


class WorkspaceArgs(OrgArgs):
    workspace_id: Id | None = Field(default=None, description="Default: the configured workspace.")


class FreshArgs(ToolArgs):
    fresh: bool = Field(default=False, description="Skip the cache and read the API now.")


class ReadOrgArgs(FreshArgs, OrgArgs):
    pass


class ReadWorkspaceArgs(FreshArgs, WorkspaceArgs):
    pass


class Result(BaseModel):
    sandbox: bool | None = Field(default=None, description="true: invented demo data.")
    truncated: int | None = Field(default=None, description="Records left out to stay under the response budget.")
    quota_remaining: int | None = Field(default=None, description="API requests left this hour, given when few are.")


def app_state(ctx: Context) -> AppState:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    if not state.settings.has_credentials:
        raise ToolError(NO_CREDENTIALS)
    return state


def organization(args: OrgArgs, state: AppState) -> int:
    return _given_or_configured(
        args.organization_id,
        state.settings.organization_id,
        "No organization_id: pass organization_id, or set TOGGL_FOCUS_ORGANIZATION_ID in the "
        "server's environment. Ask the user for their Toggl Focus organization id.",
    )


def workspace(args: WorkspaceArgs, state: AppState) -> int:
    return _given_or_configured(
        args.workspace_id,
        state.settings.workspace_id,
        "No workspace_id: this endpoint needs one. Pass workspace_id, or set TOGGL_FOCUS_WORKSPACE_ID "
        "in the server's environment (list_users shows each user's workspaces with their ids).",
    )


def _given_or_configured(given: int | None, configured: int | None, missing: str) -> int:
    """The id the call gives, else the configured default, else a ToolError saying how to get one."""
    value = given or configured
    if value is None:
        raise ToolError(missing)
    return value


def narrowed(args: BaseModel, model: type[M]) -> M:
    """`model` from the arguments it shares with `args`; those not given are left to its defaults."""
    return model.model_validate(args.model_dump(include=_field_names(model), exclude_none=True))


@functools.cache
def _field_names(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def answer(state: AppState, lines: list[str], structured: dict[str, Any], error: bool = False) -> CallToolResult:
    """A small answer: the text lines and the structured content, marked when it is the sandbox,
    and saying so when few API requests are left this hour. `error` marks it a failed call."""
    if state.settings.sandbox:
        lines = [SANDBOX_BANNER, *lines]
        structured = {**structured, "sandbox": True}
    quota = state.client.quota
    left = quota.remaining
    if left is not None and left <= LOW_QUOTA:
        resets = quota.resets_in()
        when = f", the quota resets in {human_duration(resets)}" if resets else ""
        lines = [
            *lines,
            f"[quota: {left} Toggl Focus API requests left this hour{when}. Cached answers cost none: "
            "avoid fresh=true and all_pages unless needed.]",
        ]
        structured = {**structured, "quota_remaining": left}
    text = "\n".join(one_line(line) for line in lines)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured, is_error=error)


def listing(
    state: AppState,
    head: list[str],
    key: str,
    records: list[Record],
    render: Callable[[Record], str],
    extra: dict[str, Any],
    narrow: str,
    full: list[Any] | None = None,
) -> CallToolResult:
    """A list answer cut at a record boundary to fit TOGGL_FOCUS_MAX_RESPONSE_CHARS, saying how to narrow.

    With `full` (the API's own records, for detail=true) the text shows those as compact JSON lines.
    """
    lines = [one_line(compact_json(r)) for r in full] if full is not None else [one_line(render(r)) for r in records]
    banner = [SANDBOX_BANNER] if state.settings.sandbox else []
    kept = fit(banner + head, lines, state.settings.max_response_chars - NOTE_RESERVE)
    structured: dict[str, Any] = {key: records[:kept], **extra}
    if full is not None:
        structured["records"] = full[:kept]
    shown = head + lines[:kept]
    if kept < len(lines):
        dropped = len(lines) - kept
        structured["truncated"] = dropped
        shown.append(f"[cut: {dropped} more not shown, to stay under the response budget; {narrow}]")
    return answer(state, shown, structured)
