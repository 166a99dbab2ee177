"""The MCP tools, one module per area: `users`, `teams`, `groups` (reads and writes), `roles_and_tags`.

Each module holds its tools' arguments, output models, renderers and handlers; `base` and
`render` what they share; the write tools hand what they want changed to the write pipeline
(`focus_mcp.writes`); `registry` hands them to the SDK and applies read-only mode.
"""
