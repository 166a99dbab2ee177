"""The Toggl Focus organization API: the only code that speaks HTTP. It knows nothing of MCP.

`client` (FocusClient), `sending` (one request, bounded answers), `retry` (when to send again),
`cache` (TTL cache, single-flight), `locks` (one edit of a group at a time), `errors` (one
hierarchy, one status table), `redaction` (no credential in any text), `models` (the wire).
"""
