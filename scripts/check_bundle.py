"""Check a built .mcpb the way a host uses it: unpack it, let uv install it as the manifest's `uv`
server type asks, run its command as its manifest says (on the embedded sandbox: CI reaches no API),
and let the MCP Inspector CLI (an independent client) list the tools and call one. The bundle is
configured as a user without a Toggl account would: the Sandbox option on, nothing else filled in.

The bundle must carry uv.lock, and the environment uv makes from it must hold exactly the locked
versions (the manifest runs `uv run --frozen`): two users get the same server.

Run from the repository root: python scripts/check_bundle.py dist/focus-mcp-*.mcpb INSPECTOR
(INSPECTOR: the path of the `mcp-inspector` executable from @modelcontextprotocol/inspector; `uv`
must be on PATH, as it is for the host).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
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


def lock_problem(root: Path, manifest: dict[str, Any]) -> str | None:
    """The bundle pins its dependencies: it carries uv.lock, its command installs from it unchanged
    (`--frozen`), and the environment uv made holds exactly the locked versions."""
    lock = root / "uv.lock"
    if not lock.is_file():
        return "the bundle carries no uv.lock: its dependencies would be resolved anew on each machine"
    if "--frozen" not in manifest["server"].get("mcp_config", {}).get("args", []):
        return "the manifest's command is not `uv run --frozen`: uv could resolve other versions than the lock's"
    packages = tomllib.loads(lock.read_text("utf-8"))["package"]
    project = {_normal(p["name"]) for p in packages if "editable" in p["source"] or "virtual" in p["source"]}
    locked = {_normal(p["name"]): p.get("version") for p in packages}
    listing = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    python = root / ".venv" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    out = subprocess.run([str(python), "-c", listing], capture_output=True, text=True, check=True, timeout=60)
    installed = {_normal(n): v for n, v in json.loads(out.stdout).items() if _normal(n) not in project}
    differ = [f"{n} {v} (locked: {locked.get(n, 'not at all')})" for n, v in installed.items() if locked.get(n) != v]
    if differ or not installed:
        return f"the bundle's environment is not its lock: {', '.join(differ) or 'nothing installed'}"
    print(f"bundle environment: {len(installed)} distributions, each at its locked version")
    return None


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def main(bundle: str, inspector: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        zipfile.ZipFile(bundle).extractall(root)
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        if manifest["server"]["type"] != "uv":
            print("the bundle's server type is not uv", file=sys.stderr)
            return 1
        # What the host does first: an environment for the bundle, from its lock, as `uv run --frozen` makes it.
        sync = ["uv", "sync", "--directory", str(root), "--frozen", "--no-dev", "--quiet"]
        subprocess.run(sync, check=True, timeout=600)
        problem = lock_problem(root, manifest) or icon_problem(root, manifest)
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
