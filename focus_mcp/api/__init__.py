"""The Toggl Focus organization API: the only code that speaks HTTP. It knows nothing of MCP.

`client` (FocusClient), `retry` (when to send again), `cache` (TTL cache, single-flight), `locks`
(one edit of a group at a time), `errors` (one hierarchy, one status table), `models` (the wire).
"""
