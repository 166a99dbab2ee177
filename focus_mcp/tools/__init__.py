"""The MCP tools, one module per area (users, teams, workspaces, groups, member_roles, memberships,
roles_and_tags, changes, deletion, undo), and nothing else: no module here imports another.

Each module holds its tools' arguments, output models and handlers, and lists them in `TOOLS`;
what they share is below them (`focus_mcp.toolkit`: spec, state, the argument check;
`focus_mcp.render`: records into lines; `focus_mcp.org`: the snapshot and names; `focus_mcp.writes`:
the write pipeline, to which a write tool hands what it wants changed). `focus_mcp.registry`, above
them, collects the areas and hands the tools to the SDK.
"""
