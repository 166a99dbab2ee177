"""docs/names.md names every name users depend on (tools and arguments are generated: test_inventory.py),
and no file of the repository cites a document that a clone does not hold."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import connect, sandbox_settings

from focus_mcp.cli import _parser
from focus_mcp.config import ENV_PREFIX, Settings

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]
NAMES = (ROOT / "docs" / "names.md").read_text(encoding="utf-8")


def test_every_variable_and_no_other() -> None:
    variables = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(re.findall(r"`(TOGGL_FOCUS_[A-Z_]+)`", NAMES)) == variables


def test_every_command_and_flag(capsys: pytest.CaptureFixture[str]) -> None:
    usage = _parser().format_help()
    commands = re.search(r"\{(tools,[a-z,-]+)\}", usage)
    assert commands is not None
    for command in commands.group(1).split(","):
        with pytest.raises(SystemExit):
            _parser().parse_args([command, "--help"])
        usage += capsys.readouterr().out  # each command's own flags (call's --structured)
        assert f"`focus-mcp {command}" in NAMES, command
    flags = set(re.findall(r"(--[a-z-]+)", usage))
    assert "--structured" in flags and {flag for flag in flags if f"`{flag}`" not in NAMES} == set()
    for transport in ("stdio", "streamable-http", "sse"):
        assert f"`{transport}`" in NAMES


async def test_every_prompt_with_its_arguments_and_every_resource() -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        prompts = (await client.list_prompts()).prompts
        templates = (await client.list_resource_templates()).resource_templates
        resources = (await client.list_resources()).resources
    listed = re.search(r"- prompts: (.*)\n- resources", NAMES, re.DOTALL)
    assert listed is not None
    said = " ".join(listed.group(1).split())
    expected = "; ".join(
        f"`{p.name}`" + (f" ({', '.join(f'`{a.name}`' for a in p.arguments)})" if p.arguments else "") for p in prompts
    )
    assert said == expected
    for template in templates:
        assert f"`{template.uri_template}`" in NAMES
    named = set(re.findall(r"`(focus://[^`{]+)`", NAMES))
    assert {str(r.uri) for r in resources if "{" not in str(r.uri) and "/member-tags" not in str(r.uri)} == named


def test_the_bundles_settings() -> None:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    line = next(line for line in NAMES.split("\n\n") if "`user_config` keys" in line)
    assert set(re.findall(r"`([a-z_]+)`", line)) - {"user_config"} == set(manifest["user_config"])


TEXT_FILES = ("*.py", "*.md", "*.toml", "*.json", "run")
# What a clone does not hold: the session's design contract, paths of the machine it was written on,
# the project's issue tracker by number.
OUTSIDE = re.compile(r"DESIGN\.md|/work/|\.\./shared|\bissues? #?\d+\b", re.IGNORECASE)


def _repository_files() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "dist", "build", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    found = [path for pattern in TEXT_FILES for path in ROOT.rglob(pattern)]
    return [path for path in found if not skip & set(path.relative_to(ROOT).parts) and path.is_file()]


def test_no_file_cites_a_document_outside_the_repository() -> None:
    files = _repository_files()
    assert ROOT / "README.md" in files and Path(__file__) in files
    cited = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in files
        if path != Path(__file__)
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert cited == []


def test_every_relative_link_of_the_docs_is_a_file_of_the_repository() -> None:
    for doc in [ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which the repository lacks"
