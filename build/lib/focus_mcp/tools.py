"""The tool list: one tool per Toggl Focus organization endpoint, in the order clients show them.

Each tool validates its arguments (pydantic, before any request), fills organization and workspace
ids from the configured defaults, calls `FocusClient`, and answers with compact text plus typed
`structuredContent`. A tool's docstring is its description: what the model reads.
"""

from __future__ import annotations

from mcp.server.mcpserver.tools import Tool

from focus_mcp import read_tools as read
from focus_mcp import write_tools as write
from focus_mcp.registry import ADDITIVE, DESTRUCTIVE, READ_ONLY, make_tool
from focus_mcp.toolkit import ReadOrgArgs, ReadWorkspaceArgs


def all_tools() -> list[Tool]:
    """Every tool, reads first."""
    return [
        make_tool(read.list_users, title="List users", args=read.ListUsersArgs, output=read.UsersResult,
                  annotations=READ_ONLY),
        make_tool(read.list_teams, title="List teams", args=read.ListTeamsArgs, output=read.TeamsResult,
                  annotations=READ_ONLY),
        make_tool(read.list_my_groups, title="List my groups", args=ReadOrgArgs, output=read.MyGroupsResult,
                  annotations=READ_ONLY),
        make_tool(read.list_roles, title="List roles", args=ReadOrgArgs, output=read.RolesResult,
                  annotations=READ_ONLY),
        make_tool(read.list_member_tags, title="List member tags", args=ReadWorkspaceArgs, output=read.TagsResult,
                  annotations=READ_ONLY),
        make_tool(write.create_group, title="Create group", args=write.CreateGroupArgs,
                  output=write.GroupWriteResult, annotations=ADDITIVE),
        make_tool(write.update_group, title="Update group", args=write.UpdateGroupArgs,
                  output=write.GroupWriteResult, annotations=DESTRUCTIVE),
        make_tool(write.delete_group, title="Delete group", args=write.DeleteGroupArgs, output=write.DeleteResult,
                  annotations=DESTRUCTIVE),
        make_tool(write.set_group_member_role, title="Set group member role", args=write.SetGroupMemberRoleArgs,
                  output=write.RoleSetResult, annotations=DESTRUCTIVE),
    ]  # fmt: skip
