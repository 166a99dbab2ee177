"""One tool inventory (registry.SPECS): what is served, the manifest's tools and the README's table agree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Routes, make_settings
from helpers import connect

from focus_mcp.registry import SPECS, tool_specs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts import sync_tools

pytestmark = pytest.mark.anyio


def test_manifest_readme_and_names_are_generated_from_the_inventory() -> None:
    """After adding or renaming a tool, or editing a description's first line: python scripts/sync_tools.py"""
    manifest = sync_tools.MANIFEST.read_text(encoding="utf-8")
    readme = sync_tools.README.read_text(encoding="utf-8")
    assert sync_tools.synced_manifest(manifest) == manifest, "run python scripts/sync_tools.py"
    assert sync_tools.synced_readme(readme) == readme, "run python scripts/sync_tools.py"
    names = sync_tools.NAMES.read_text(encoding="utf-8")
    assert sync_tools.synced_names(names) == names, "run python scripts/sync_tools.py"


def test_the_readme_table_lists_every_tool_once() -> None:
    table = sync_tools.readme_table()
    assert [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")] == [s.name for s in SPECS]


async def test_the_served_tools_are_the_inventory_reads_first(routes: Routes) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        served = [t.name for t in (await client.list_tools()).tools]
    assert served == [s.name for s in SPECS] and len(set(served)) == len(served)
    kinds = [s.writes for s in SPECS]
    assert kinds == sorted(kinds)  # every read before every write


def test_read_only_mode_is_a_filter_on_the_annotations() -> None:
    kept = tool_specs(make_settings(read_only=True))
    assert kept == [s for s in SPECS if s.annotations.read_only_hint] and kept
