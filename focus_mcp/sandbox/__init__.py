"""The embedded sandbox organization: an invented company served as an in-process ASGI app.

`app` (SandboxAPI, the endpoints), `query` (reading requests as the API does), `data` (the seed),
`state` (the file one-shot `--sandbox call`s share).
"""

from focus_mcp.sandbox.app import SANDBOX_API_KEY, SANDBOX_BASE_URL, SandboxAPI

__all__ = ["SANDBOX_API_KEY", "SANDBOX_BASE_URL", "SandboxAPI"]
