"""list_roles and list_member_tags: the organization's roles with their permissions, and member tags."""

from __future__ import annotations

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import MemberTag, Role
from focus_mcp.tools.base import READ_ONLY, ReadOrgArgs, ReadWorkspaceArgs, Result, ToolSpec, app_state, organization
from focus_mcp.tools.base import workspace as workspace_id
from focus_mcp.tools.render import listing


class RoleSummary(BaseModel):
    id: int
    name: str
    code: str = ""
    type: str | None = None
    entity: str | None = None
    privilege_level: int | None = None
    require_group: bool = False
    permissions: list[str] = Field(default_factory=list)

    @classmethod
    def from_api(cls, role: Role) -> RoleSummary:
        return cls(
            id=role.role_id,
            name=role.name,
            code=role.code,
            type=role.type,
            entity=role.entity,
            privilege_level=role.privilege_level,
            require_group=role.require_group,
            permissions=[p.name for p in role.permissions],
        )


class RolesResult(Result):
    roles: list[RoleSummary]


class Tag(BaseModel):
    id: int
    label: str
    color: str = ""

    @classmethod
    def from_api(cls, tag: MemberTag) -> Tag:
        return cls(id=tag.id, label=tag.label, color=tag.color)


class TagsResult(Result):
    tags: list[Tag]


def role_line(role: RoleSummary) -> str:
    facts = [
        f"{key} {value}" for key, value in (("code", role.code), ("type", role.type), ("entity", role.entity)) if value
    ]
    if role.privilege_level is not None:
        facts.append(f"level {role.privilege_level}")
    if role.require_group:
        facts.append("only via a team")
    perms = ", ".join(role.permissions) or "none"
    return f"{role.id} {role.name} ({', '.join(facts)}) perms: {perms}"


def tag_line(tag: Tag) -> str:
    return f"{tag.id} {tag.label} {tag.color}".rstrip()


async def list_roles(args: ReadOrgArgs, ctx: Context) -> CallToolResult:
    """List the organization's roles: id, name, code, type, entity, privilege level, permission names."""
    state = app_state(ctx)
    roles = await state.client.list_roles(organization(args, state), fresh=args.fresh)
    records = [RoleSummary.from_api(r) for r in roles]
    return listing(state, [f"{len(records)} roles."], "roles", records, role_line, {}, "")


async def list_member_tags(args: ReadWorkspaceArgs, ctx: Context) -> CallToolResult:
    """List the organization's member tags (id, label, color); use the ids as list_users tag_ids."""
    state = app_state(ctx)
    org, ws = organization(args, state), workspace_id(args, state)
    tags = await state.client.list_member_tags(org, ws, fresh=args.fresh)
    records = [Tag.from_api(t) for t in tags]
    return listing(state, [f"{len(records)} member tags."], "tags", records, tag_line, {}, "")


TOOLS = [
    ToolSpec(list_roles, "List roles", ReadOrgArgs, RolesResult, READ_ONLY),
    ToolSpec(list_member_tags, "List member tags", ReadWorkspaceArgs, TagsResult, READ_ONLY),
]
