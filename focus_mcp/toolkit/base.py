"""What every tool shares: its state, the common arguments, the defaults for ids, its annotations."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from focus_mcp.api.client import NO_CREDENTIALS, FocusClient
from focus_mcp.api.models import Id
from focus_mcp.config import Settings

if TYPE_CHECKING:  # the state holds them; the journal and the pipeline build on this module, not it on them
    from focus_mcp.journal import Journal
    from focus_mcp.writes.owned import OwnedWrites
    from focus_mcp.writes.turns import Turns

M = TypeVar("M", bound=BaseModel)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
ADDITIVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)


@dataclass
class AppState:
    """What every tool call needs; the server's lifespan owns it."""

    client: FocusClient
    settings: Settings
    journal: Journal  # every write made through this server (focus_mcp.journal)
    writes: OwnedWrites  # the writes under way, owned by the server, not by the calls (writes/owned.py)
    turns: Turns  # one change of a group (or name) at a time: this process, the journal's file, Redis


def _json_true_or_false(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError('must be the JSON boolean true or false (not "true" or 1)')
    return value


# A yes that matters (confirm): only the JSON boolean, so that "true", 1 or "false" never counts as one.
JsonBool = Annotated[bool, PlainValidator(_json_true_or_false, json_schema_input_type=bool)]


class ToolArgs(BaseModel):
    """Base of every tool's arguments: the schema the model reads and the check of every call."""

    model_config = ConfigDict(extra="forbid")


# organization_id, workspace_id and fresh carry no description: the server's instructions say once
# what they default to and mean (the tool list's byte budget: docs/architecture.md).
class OrgArgs(ToolArgs):
    organization_id: Id | None = None


class WorkspaceArgs(OrgArgs):
    workspace_id: Id | None = None


class FreshArgs(ToolArgs):
    fresh: bool = False


class ReadOrgArgs(FreshArgs, OrgArgs):
    pass


class ReadWorkspaceArgs(FreshArgs, WorkspaceArgs):
    pass


class Ref(BaseModel):
    """Something named, by id."""

    id: int
    name: str


class Result(BaseModel):
    sandbox: bool | None = Field(default=None, description="true: invented demo data.")
    truncated: int | None = Field(default=None, description="Records left out to stay under the response budget.")
    quota_remaining: int | None = Field(default=None, description="API requests left this hour, given when few are.")


Handler = Callable[..., Awaitable[CallToolResult]]


@dataclass(frozen=True)
class ToolSpec:
    """One tool: `handler(args, ctx, **resolved)`, whose docstring is the description the model reads."""

    handler: Handler
    title: str
    args: type[ToolArgs]
    output: type[BaseModel]
    annotations: ToolAnnotations

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def writes(self) -> bool:
        """Read-only mode keeps a tool only when its annotations say it reads."""
        return not self.annotations.read_only_hint


def app_state(ctx: Context) -> AppState:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    if not state.settings.has_credentials:
        # Everything left unfilled (the key, the ids of a pasted config) is said at once.
        problem = state.settings.unfilled or state.settings.credentials_problem
        raise ToolError(
            f"No usable Toggl Focus credentials in the server's environment: {problem}; then restart the server."
            if problem
            else NO_CREDENTIALS
        )
    return state


def organization(args: OrgArgs, state: AppState) -> int:
    return given_or_configured(
        args.organization_id,
        state.settings.organization_id,
        state.settings.placeholder_id_problem("organization_id")
        or "No organization_id: pass organization_id, or set TOGGL_FOCUS_ORGANIZATION_ID in the "
        "server's environment. Ask the user for their Toggl Focus organization id.",
    )


def workspace(args: WorkspaceArgs, state: AppState) -> int:
    return given_or_configured(
        args.workspace_id,
        state.settings.workspace_id,
        state.settings.placeholder_id_problem("workspace_id")
        or "No workspace_id: this endpoint needs one. Pass workspace_id, or set TOGGL_FOCUS_WORKSPACE_ID "
        "in the server's environment (list_users shows each user's workspaces with their ids).",
    )


def given_or_configured(given: int | None, configured: int | None, missing: str) -> int:
    """The id the call gives, else the configured default, else a ToolError saying how to get one."""
    value = given or configured
    if value is None:
        raise ToolError(missing)
    return value


def common_fields_as(args: BaseModel, model: type[M]) -> M:
    """`model` (an API query, an edit) made of the fields it has in common with the tool's `args`;
    those not given are left to its defaults."""
    return model.model_validate(args.model_dump(include=_field_names(model), exclude_none=True))


@functools.cache
def _field_names(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)
