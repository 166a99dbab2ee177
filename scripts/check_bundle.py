"""Check a built .mcpb the way a host uses it: unpack it, let uv install it as the manifest's `uv`
server type asks, run its command as its manifest says (on the embedded sandbox: CI reaches no API),
and let the MCP Inspector CLI (an independent client) list the tools and call one. The bundle is
configured as a user without a Toggl account would: the Sandbox option on, nothing else filled in.

Run from the repository root: python scripts/check_bundle.py dist/focus-mcp-*.mcpb INSPECTOR
(INSPECTOR: the path of the `mcp-inspector` executable from @modelcontextprotocol/inspector; `uv`
must be on PATH, as it is for the host).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

# What a user without an account fills in: the Sandbox option, nothing else. As Claude Desktop does
# (the MCPB reference implementation's replaceVariables), a setting left empty without a default
# stays the literal `${user_config.KEY}`, which the server takes as unset; a boolean's default is
# "true"/"false".
USER_CONFIG = {"sandbox": "true"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def expand(value: str, root: Path, manifest: dict[str, Any]) -> str:
    value = value.replace("${__dirname}", str(root))
    for key, option in manifest.get("user_config", {}).items():
        setting = USER_CONFIG.get(key, option.get("default"))
        if setting is not None:
            setting = str(setting).lower() if isinstance(setting, bool) else str(setting)
            value = value.replace("${user_config." + key + "}", setting)
    return value


def icon_problem(root: Path, manifest: dict[str, Any]) -> str | None:
    """Hosts list extensions by icon: the manifest names one, and the bundle carries it as a PNG."""
    if "icon" not in manifest:
        return "the manifest names no icon"
    icon = root / manifest["icon"]
    if not icon.is_file() or not icon.read_bytes().startswith(PNG_SIGNATURE):
        return f"the bundle has no PNG at {manifest['icon']}"
    return None


def main(bundle: str, inspector: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        zipfile.ZipFile(bundle).extractall(root)
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if manifest["server"]["type"] != "uv":
            print("the bundle's server type is not uv", file=sys.stderr)
            return 1
        # What the host does first: an environment for the bundle, from its pyproject.toml.
        subprocess.run(["uv", "sync", "--directory", str(root), "--no-dev", "--quiet"], check=True, timeout=600)
        problem = icon_problem(root, manifest)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        required = [key for key, option in manifest.get("user_config", {}).items() if option.get("required")]
        if required:
            print(f"the extension cannot start on the sandbox alone: {required} are required", file=sys.stderr)
            return 1
        config = manifest["server"]["mcp_config"]
        command = [expand(config["command"], root, manifest), *(expand(a, root, manifest) for a in config["args"])]
        env = {key: expand(value, root, manifest) for key, value in config.get("env", {}).items()}
        base = [inspector, "--cli", *(a for k, v in env.items() for a in ("-e", f"{k}={v}")), *command]
        listed = subprocess.run([*base, "--method", "tools/list"], capture_output=True, text=True, timeout=120)
        if listed.returncode != 0:
            print(listed.stdout, listed.stderr, file=sys.stderr)
            return 1
        names = sorted(tool["name"] for tool in json.loads(listed.stdout)["tools"])
        declared = sorted(tool["name"] for tool in manifest.get("tools", []))
        print(f"bundle serves {len(names)} tools: {', '.join(names)}")
        if not names or names != declared:  # the manifest's tools are the inventory's (scripts/sync_tools.py)
            print(f"expected the tools the manifest declares: {declared}", file=sys.stderr)
            return 1
        called = subprocess.run(
            [*base, "--method", "tools/call", "--tool-name", "list_teams", "--tool-arg", "filter=Design"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        answer = json.loads(called.stdout)
        said = answer["content"][0]["text"]
        print(f"tools/call list_teams answered: {said[:120]!r}")
        return 0 if not answer.get("isError") and "Design" in said else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
