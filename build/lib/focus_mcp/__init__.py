"""focus-mcp: the Toggl Focus organization API as MCP tools."""

# A literal, not importlib.metadata: reading package metadata costs ~40 ms of every cold start.
__version__ = "0.1.0"

__all__ = ["__version__"]
