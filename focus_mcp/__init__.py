"""focus-mcp: the Toggl Focus organization API as MCP tools."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("focus-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
