"""manifest.json (the Claude Desktop extension) stays in sync with the server and the configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

from focus_mcp.config import ENV_PREFIX, Settings
from focus_mcp.tools.registry import SPECS

MANIFEST = json.loads((Path(__file__).resolve().parents[1] / "manifest.json").read_text(encoding="utf-8"))


def test_declared_tools_are_the_served_tools() -> None:
    served = {s.name: (s.handler.__doc__ or "").strip().splitlines()[0] for s in SPECS}
    declared = {t["name"]: t["description"] for t in MANIFEST["tools"]}
    assert declared == served


def test_user_config_maps_onto_known_variables() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    fields = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(env) <= fields
    used = {m for value in env.values() for m in re.findall(r"\$\{user_config\.(\w+)\}", value)}
    assert used == set(MANIFEST["user_config"])
    api_key = MANIFEST["user_config"]["api_key"]
    assert api_key["sensitive"] is True and api_key["required"] is True
    assert env["TOGGL_FOCUS_API_KEY"] == "${user_config.api_key}"


def test_versions_and_runtime_agree_with_the_package() -> None:
    import tomllib

    from focus_mcp import __version__

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert MANIFEST["version"] == __version__
    assert MANIFEST["compatibility"]["runtimes"]["python"] == pyproject["project"]["requires-python"]
