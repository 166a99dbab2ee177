"""Check a built .mcpb the way a host uses it: unpack it, let uv install it as the manifest's `uv`
server type asks, run its command as its manifest says (on the embedded sandbox: CI reaches no API),
and let the MCP Inspector CLI (an independent client) list the tools and call one.

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

# The sandbox has ids of its own: the configured ones are ignored there (checked here on purpose).
USER_CONFIG = {
    "api_key": "bundle-check-key",
    "organization_id": "123456",
    "workspace_id": "654321",
    "read_only": "false",
}
EXPECTED_TOOLS = 10


def expand(value: str, root: Path) -> str:
    value = value.replace("${__dirname}", str(root))
    for key, setting in USER_CONFIG.items():
        value = value.replace("${user_config." + key + "}", setting)
    return value


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
        config = manifest["server"]["mcp_config"]
        command = [expand(config["command"], root), *(expand(a, root) for a in config.get("args", []))]
        env = {key: expand(value, root) for key, value in config.get("env", {}).items()} | {"TOGGL_FOCUS_SANDBOX": "1"}
        base = [inspector, "--cli", *(a for k, v in env.items() for a in ("-e", f"{k}={v}")), *command]
        listed = subprocess.run([*base, "--method", "tools/list"], capture_output=True, text=True, timeout=120)
        if listed.returncode != 0:
            print(listed.stdout, listed.stderr, file=sys.stderr)
            return 1
        names = sorted(tool["name"] for tool in json.loads(listed.stdout)["tools"])
        declared = sorted(tool["name"] for tool in manifest.get("tools", []))
        print(f"bundle serves {len(names)} tools: {', '.join(names)}")
        if len(names) != EXPECTED_TOOLS or names != declared:
            print(f"expected the {EXPECTED_TOOLS} tools the manifest declares: {declared}", file=sys.stderr)
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
