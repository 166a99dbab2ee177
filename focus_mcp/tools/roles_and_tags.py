"""list_roles and list_member_tags: the organization's roles with their permissions, and member tags."""

from __future__ import annotations

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import BaseModel, Field

from focus_mcp.api.models import MemberTag, Permission, Role
from focus_mcp.render.lines import answer, counted, dump, listing
from focus_mcp.toolkit.base import READ_ONLY, ReadOrgArgs, ReadWorkspaceArgs, Result, ToolSpec, app_state, organization
from focus_mcp.toolkit.base import workspace as workspace_id


class RoleSummary(BaseModel):
    id: int
    name: str
    code: str = ""
    type: str | None = None
    entity: str | None = None
    privilege_level: int | None = None
    require_group: bool = False
    permissions: list[str] = Field(default_factory=list)
    description: str | None = Field(default=None, description="describe=true: the API's description.")

    @classmethod
    def from_api(cls, role: Role, describe: bool = False) -> RoleSummary:
        return cls(
            description=role.description or None if describe else None,
            id=role.role_id,
            name=role.name,
            code=role.code,
            type=role.type,
            entity=role.entity,
            privilege_level=role.privilege_level,
            require_group=role.require_group,
            permissions=[p.name for p in role.permissions],
        )


class ListRolesArgs(ReadOrgArgs):
    describe: bool = Field(default=False, description="Also what each role and permission means.")


class PermissionMeaning(BaseModel):
    name: str
    description: str = ""
    entity: str | None = None

    @classmethod
    def from_api(cls, permission: Permission) -> PermissionMeaning:
        return cls(name=permission.name, description=permission.description, entity=permission.entity)


class RolesResult(Result):
    roles: list[RoleSummary]
    permissions: list[PermissionMeaning] | None = Field(default=None, description="describe=true: each once.")


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
    meaning = f" | {role.description}" if role.description else ""
    return f"{role.id} {role.name} ({', '.join(facts)}) perms: {perms}{meaning}"


def permission_line(permission: PermissionMeaning) -> str:
    where = f" ({permission.entity})" if permission.entity else ""
    return f"{permission.name}{where}: {permission.description or 'no description'}"


def tag_line(tag: Tag) -> str:
    return f"{tag.id} {tag.label} {tag.color}".rstrip()


async def list_roles(args: ListRolesArgs, ctx: Context) -> CallToolResult:
    """List the organization's roles: privilege level, permissions."""
    state = app_state(ctx)
    roles = await state.client.list_roles(organization(args, state), fresh=args.fresh)
    records = [RoleSummary.from_api(r, args.describe) for r in roles]
    heading = [f"{counted(len(records), 'role')}."]
    extra: dict[str, object] = {}
    if args.describe:  # each permission once, after the roles that name it
        meanings = {p.name: PermissionMeaning.from_api(p) for r in roles for p in r.permissions}
        extra["permissions"] = [dump(m) for m in meanings.values()]
        heading.append("Line: id name (facts) perms: names | the role's description. Permissions at the end.")
        lines = [role_line(r) for r in records] + ["Permissions:", *(permission_line(m) for m in meanings.values())]
        return answer(state, heading + lines, {"roles": [dump(r) for r in records], **extra})
    return listing(state, heading, "roles", records, role_line, extra, "")


async def list_member_tags(args: ReadWorkspaceArgs, ctx: Context) -> CallToolResult:
    """List a workspace's member tags, for list_users tag_ids."""
    state = app_state(ctx)
    org, ws = organization(args, state), workspace_id(args, state)
    tags = await state.client.list_member_tags(org, ws, fresh=args.fresh)
    records = [Tag.from_api(t) for t in tags]
    return listing(state, [f"{counted(len(records), 'member tag')}."], "tags", records, tag_line, {}, "")


TOOLS = [
    ToolSpec(list_roles, "List roles", ListRolesArgs, RolesResult, READ_ONLY),
    ToolSpec(list_member_tags, "List member tags", ReadWorkspaceArgs, TagsResult, READ_ONLY),
]
