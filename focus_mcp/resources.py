"""MCP resources: the organization's roles, its workspaces and each workspace's member tags, as text a
host can attach to a conversation.

Each resource reads as its tool does (the cached client calls; the workspaces, the organization
snapshot) and reads as that tool's answer does (in the sandbox, under the same banner), so that a
resource costs no request a tool call would not, and says no more or less. Errors read as the
tool's would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.mcpserver.resources import FunctionResource
from mcp_types import CallToolResult

from focus_mcp.api.client import NO_CREDENTIALS
from focus_mcp.api.errors import FocusError
from focus_mcp.config import Settings
from focus_mcp.render.lines import counted, listing
from focus_mcp.toolkit.base import AppState, ReadOrgArgs, organization
from focus_mcp.tools.roles_and_tags import RoleSummary, Tag, role_line, tag_line
from focus_mcp.tools.workspaces import find_workspaces, workspace_line, workspaces_heading

ROLES_URI = "focus://roles"
WORKSPACES_URI = "focus://workspaces"
TAGS_TEMPLATE = "focus://workspaces/{workspace_id}/member-tags"
MAX_ID = 2**53 - 1


class ServedState:
    """The AppState of the sessions being served.

    The SDK gives a Context (and through it the lifespan's AppState) to resource templates only, not to
    static resources: the server's lifespan registers its state here, and static resources read it.
    Every session's state holds the same client, cache and quota view, so any current one serves.
    """

    def __init__(self) -> None:
        self._states: list[AppState] = []

    @contextmanager
    def serving(self, state: AppState) -> Iterator[None]:
        self._states.append(state)
        try:
            yield
        finally:
            self._states.remove(state)

    def current(self) -> AppState:
        if not self._states:
            raise ResourceError("The server has no session open: resources are read within one.")
        return self._states[-1]


def _usable(state: AppState) -> AppState:
    if not state.settings.has_credentials:
        raise ResourceError(state.settings.credentials_problem or NO_CREDENTIALS)
    return state


async def _text(read: Callable[[], Awaitable[CallToolResult]]) -> str:
    """The answer's text, as the tool would give it; a failure as a ResourceError saying what to do."""
    try:
        result = await read()
    except (FocusError, ToolError) as exc:
        raise ResourceError(str(exc)) from None
    text = "\n".join(block.text for block in result.content if block.type == "text")
    if result.is_error:
        raise ResourceError(text)
    return text


async def roles_text(state: AppState) -> str:
    async def read() -> CallToolResult:
        roles = await state.client.list_roles(organization(ReadOrgArgs(), state))
        records = [RoleSummary.from_api(role) for role in roles]
        return listing(state, [f"{counted(len(records), 'role')}."], "roles", records, role_line, {}, "")

    return await _text(read)


async def workspaces_text(state: AppState) -> str:
    async def read() -> CallToolResult:
        found = await find_workspaces(state, organization(ReadOrgArgs(), state), None)
        heading = [workspaces_heading(found)]
        return listing(state, heading, "workspaces", found.workspaces, workspace_line, {}, "")

    return await _text(read)


async def tags_text(state: AppState, workspace_id: int) -> str:
    async def read() -> CallToolResult:
        tags = await state.client.list_member_tags(organization(ReadOrgArgs(), state), workspace_id)
        records = [Tag.from_api(tag) for tag in tags]
        return listing(state, [f"{len(records)} member tags."], "tags", records, tag_line, {}, "")

    return await _text(read)


def add_resources(server: MCPServer[AppState], settings: Settings, served: ServedState) -> None:
    """Register the roles, the workspaces, the configured workspace's member tags, and any workspace's
    member tags (a template)."""
    sandbox = " (SANDBOX: invented demo data)" if settings.sandbox else ""
    meta = {"sandbox": True} if settings.sandbox else None

    async def roles() -> str:
        return await roles_text(_usable(served.current()))

    async def workspaces() -> str:
        return await workspaces_text(_usable(served.current()))

    server.add_resource(
        FunctionResource.from_function(
            roles,
            uri=ROLES_URI,
            name="roles",
            title="Roles" + sandbox,
            description="The organization's roles: id, name, code, type, privilege level, permission names"
            + sandbox
            + ".",
            mime_type="text/plain",
            meta=meta,
        )
    )
    server.add_resource(
        FunctionResource.from_function(
            workspaces,
            uri=WORKSPACES_URI,
            name="workspaces",
            title="Workspaces" + sandbox,
            description="The organization's workspaces: id, name, member count (read from the users listing)"
            + sandbox
            + ".",
            mime_type="text/plain",
            meta=meta,
        )
    )

    if settings.workspace_id is not None:
        configured = settings.workspace_id

        async def configured_tags() -> str:
            return await tags_text(_usable(served.current()), configured)

        server.add_resource(
            FunctionResource.from_function(
                configured_tags,
                uri=TAGS_TEMPLATE.format(workspace_id=configured),
                name="member-tags",
                title="Member tags" + sandbox,
                description=f"The member tags of the configured workspace {configured}: id, label, color (the "
                "ids are list_users tag_ids)" + sandbox + ".",
                mime_type="text/plain",
                meta=meta,
            )
        )

    @server.resource(
        TAGS_TEMPLATE,
        name="member-tags",
        title="Member tags of a workspace" + sandbox,
        description="A workspace's member tags: id, label, color (the ids are list_users tag_ids)" + sandbox + ".",
        mime_type="text/plain",
        meta=meta,
    )
    async def member_tags(workspace_id: str, ctx: Context) -> str:
        if not (workspace_id.isascii() and workspace_id.isdigit() and 1 <= int(workspace_id) <= MAX_ID):
            raise ResourceError(
                f"{workspace_id!r} is not a workspace id (a whole number); {WORKSPACES_URI} lists the workspaces."
            )
        state = ctx.request_context.lifespan_context
        assert isinstance(state, AppState)
        return await tags_text(_usable(state), int(workspace_id))
