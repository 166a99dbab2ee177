"""manifest.json (the Claude Desktop extension) stays in sync with the server and the configuration."""

from __future__ import annotations

import importlib.util
import json
import re
import struct
from pathlib import Path

import pytest
from helpers import text
from mcp import Client

from focus_mcp.cli import _parser, load_settings
from focus_mcp.config import ENV_PREFIX, Settings
from focus_mcp.registry import SPECS, description
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
_spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "scripts" / "build_bundle.py")
assert _spec is not None and _spec.loader is not None
build_bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_bundle)


def test_declared_tools_are_the_served_tools() -> None:
    served = {s.name: description(s).split("\n")[0] for s in SPECS}  # its first paragraph
    declared = {t["name"]: t["description"] for t in MANIFEST["tools"]}
    assert declared == served


def test_user_config_maps_onto_known_variables() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    fields = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(env) <= fields
    used = {m for value in env.values() for m in re.findall(r"\$\{user_config\.(\w+)\}", value)}
    assert used == set(MANIFEST["user_config"])
    api_key = MANIFEST["user_config"]["api_key"]
    assert api_key["sensitive"] is True
    assert env["TOGGL_FOCUS_API_KEY"] == "${user_config.api_key}"
    assert env["TOGGL_FOCUS_SANDBOX"] == "${user_config.sandbox}"
    assert MANIFEST["user_config"]["sandbox"]["type"] == "boolean"


def host_environment(filled: dict[str, object]) -> dict[str, str]:
    """The server's environment as an MCPB host makes it (the reference implementation's
    replaceVariables): filled settings and defaults substituted, a setting left empty stays literal."""
    values = {key: option["default"] for key, option in MANIFEST["user_config"].items() if "default" in option}
    values.update(filled)
    env = {}
    for name, value in MANIFEST["server"]["mcp_config"]["env"].items():
        for key, setting in values.items():
            setting = str(setting).lower() if isinstance(setting, bool) else str(setting)
            value = value.replace("${user_config." + key + "}", setting)
        env[name] = value
    return env


async def test_the_extension_works_without_an_account_with_the_sandbox_option() -> None:
    assert [key for key, option in MANIFEST["user_config"].items() if option.get("required")] == []
    env = host_environment({"sandbox": True})
    assert env["TOGGL_FOCUS_API_KEY"] == "${user_config.api_key}"  # what the host passes for an empty key
    settings = Settings.load(env)
    assert settings.sandbox and settings.api_key is None and settings.organization_id is None
    sandboxed, transport = load_settings(_parser().parse_args([]), env)
    async with Client(build_server(sandboxed, transport)) as client:
        result = await client.call_tool("list_teams", {"filter": "Design"})
    assert not result.is_error and "[SANDBOX" in text(result)


async def test_the_extension_with_neither_key_nor_sandbox_says_what_to_fill_in() -> None:
    settings = Settings.load(host_environment({}))
    assert not settings.sandbox and not settings.has_credentials
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("list_roles", {"organization_id": 123456})
    assert result.is_error and "fill in its API key, or turn on its Sandbox option" in text(result)


def test_the_icon_is_a_512_pixel_png_that_the_bundle_carries() -> None:
    icon = (ROOT / MANIFEST["icon"]).read_bytes()
    assert icon.startswith(b"\x89PNG\r\n\x1a\n") and icon[12:16] == b"IHDR"
    assert struct.unpack(">II", icon[16:24]) == (512, 512)
    assert ROOT / MANIFEST["icon"] in build_bundle.bundle_files(MANIFEST)


def test_versions_and_runtime_agree_with_the_package() -> None:
    import tomllib

    from focus_mcp import __version__

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert MANIFEST["version"] == __version__
    assert MANIFEST["compatibility"]["runtimes"]["python"] == pyproject["project"]["requires-python"]


def test_the_bundle_pins_its_dependencies_with_the_lock_of_this_pyproject() -> None:
    """The bundle carries uv.lock and runs `uv run --frozen`, so a host installs the locked versions; the
    lock is the one of pyproject.toml's dependencies (`uv lock` after changing them; CI runs
    `uv lock --check`, and scripts/check_bundle.py compares the installed versions with the lock)."""
    import tomllib

    assert ROOT / "uv.lock" in build_bundle.bundle_files(MANIFEST)
    config = MANIFEST["server"]["mcp_config"]
    assert config["command"] == "uv" and config["args"][:1] == ["run"] and "--frozen" in config["args"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    project = next(p for p in lock["package"] if p["name"] == "focus-mcp")
    runtime = [r for r in project["metadata"]["requires-dist"] if "marker" not in r]  # not the test extra
    locked = {(r["name"], _specifiers(r.get("specifier", ""))) for r in runtime}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = set()
    for dependency in pyproject["project"]["dependencies"]:
        name, specifier = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", dependency).groups()  # type: ignore[union-attr]
        wanted.add((name.lower(), _specifiers(specifier)))
    assert locked == wanted
    versions = {p["name"]: p.get("version") for p in lock["package"]}
    assert all(versions.get(name) for name, _ in wanted)  # each runtime dependency pinned to one version


def _specifiers(text: str) -> frozenset[str]:
    return frozenset(part.replace(" ", "") for part in text.split(",") if part.strip())
