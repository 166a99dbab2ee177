"""Check a built .mcpb the way a host would use it: unpack it, run its command as its manifest says,
and let the MCP Inspector CLI (an independent client) list the tools and call one.

Run from the repository root: .venv/bin/python scripts/check_bundle.py dist/focus-mcp-*.mcpb INSPECTOR
(INSPECTOR: the path of the `mcp-inspector` executable from @modelcontextprotocol/inspector).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

USER_CONFIG = {
    "api_key": "bundle-check-key",
    "organization_id": "4200001",
    "workspace_id": "4300001",
    "read_only": "false",
}
EXPECTED_TOOLS = 9


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
        config = manifest["server"]["mcp_config"]
        command = [expand(config["command"], root), *(expand(a, root) for a in config.get("args", []))]
        env = [arg for key, value in config.get("env", {}).items() for arg in ("-e", f"{key}={expand(value, root)}")]
        base = [inspector, "--cli", *env, *command]
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
            [*base, "--method", "tools/call", "--tool-name", "list_roles"], capture_output=True, text=True, timeout=120
        )
        # Offline, the real API cannot be reached: what counts is that the bundle's server answers the call.
        answer = json.loads(called.stdout)
        print(f"tools/call list_roles answered: {answer['content'][0]['text'][:120]!r}")
        return 0 if answer["content"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
