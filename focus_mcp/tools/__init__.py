"""The MCP tools, one module per area: `users`, `teams`, `groups` (reads and writes), `roles_and_tags`.

Each module holds its tools' arguments, output models, renderers and handlers; `base` and
`render` what they share; `edits` and `outcomes` the logic of group writes; `registry` hands them
to the SDK and applies read-only mode.
"""
