"""`focus-mcp desktop-config`: a ready-to-paste Claude Desktop entry for this very installation.

Desktop apps start servers without the user's shell PATH, so the entry names the command by its
absolute path. Secrets are never echoed: the key is a placeholder to replace, whatever is set.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from focus_mcp.config import Settings

CONFIG_FILES = {
    "macOS": "~/Library/Application Support/Claude/claude_desktop_config.json",
    "Windows": r"%APPDATA%\Claude\claude_desktop_config.json",
    "Linux": "~/.config/Claude/claude_desktop_config.json",
}
KEY_PLACEHOLDER = "toggl_sk_... (your API key, from your Toggl profile)"


def server_command() -> list[str]:
    """How this installation is started: the focus-mcp script that runs now, else this Python with -m."""
    running = Path(sys.argv[0])
    if running.stem == "focus-mcp" and running.exists():
        return [str(running.resolve())]
    found = shutil.which("focus-mcp")
    return [str(Path(found).resolve())] if found else [sys.executable, "-m", "focus_mcp"]


def desktop_entry(settings: Settings, sandbox: bool) -> dict[str, Any]:
    command, *args = server_command()
    if sandbox:
        return {"command": command, "args": [*args, "--sandbox"]}
    env = {
        "TOGGL_FOCUS_API_KEY": KEY_PLACEHOLDER,
        "TOGGL_FOCUS_ORGANIZATION_ID": str(settings.organization_id or "your organization id"),
        "TOGGL_FOCUS_WORKSPACE_ID": str(settings.workspace_id or "your workspace id"),
    }
    if settings.read_only:
        env["TOGGL_FOCUS_READ_ONLY"] = "1"
    entry: dict[str, Any] = {"command": command, "args": args, "env": env}
    if not args:
        del entry["args"]
    return entry


def desktop_config(settings: Settings, sandbox: bool) -> tuple[str, str]:
    """(the entry, as JSON for stdout; where to put it, for stderr)."""
    name = "toggl-focus-sandbox" if sandbox else "toggl-focus"  # both entries can live in one config
    entry = json.dumps({"mcpServers": {name: desktop_entry(settings, sandbox)}}, indent=2)
    where = "\n".join(f"  {system}: {path}" for system, path in CONFIG_FILES.items())
    note = (
        'Paste this into claude_desktop_config.json (merge it into an existing "mcpServers"), then restart '
        f"Claude Desktop:\n{where}"
        + (
            ""
            if sandbox
            else "\nReplace the placeholders with your own values (until then it starts, and each call says what to "
            "fill in)."
        )
    )
    return entry, note
