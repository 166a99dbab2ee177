"""The tool list as clients see it: a reviewed snapshot per tool, the annotations every tool carries, the
size budget."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Routes, make_settings
from helpers import connect

from focus_mcp.registry import SPECS

pytestmark = pytest.mark.anyio

# One file per tool, so that a review sees one tool's diff: tests/snapshots/tools/<name>.json.
SNAPSHOTS = Path(__file__).parent / "snapshots" / "tools"


async def _tools(routes: Routes) -> list[dict[str, Any]]:
    async with connect(make_settings(), routes.transport()) as client:
        tools = (await client.list_tools()).tools
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


async def test_snapshot_of_each_tool(routes) -> None:  # type: ignore[no-untyped-def]
    """Any change of a name, title, description, schema or annotation shows up here, in that tool's file;
    review, then regenerate with UPDATE_SNAPSHOTS=1 (which also removes the files of tools that are gone)."""
    current = {
        tool["name"]: json.dumps(tool, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for tool in await _tools(routes)
    }
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        for stale in set(SNAPSHOTS.glob("*.json")) - {SNAPSHOTS / f"{name}.json" for name in current}:
            stale.unlink()
        for name, text in current.items():
            (SNAPSHOTS / f"{name}.json").write_text(text, encoding="utf-8")
    stored = {path.stem: path.read_text(encoding="utf-8") for path in SNAPSHOTS.glob("*.json")}
    assert sorted(stored) == sorted(current)  # a snapshot for every tool, and none for a tool that is gone
    for name, text in current.items():
        assert text == stored[name], f"{name}'s tools/list entry changed: review, then UPDATE_SNAPSHOTS=1"


async def test_every_tool_is_titled_typed_and_fully_annotated(routes) -> None:  # type: ignore[no-untyped-def]
    tools = {t["name"]: t for t in await _tools(routes)}
    assert list(tools) == [s.name for s in SPECS]
    for tool in tools.values():
        hints = tool["annotations"]
        assert set(hints) >= {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
        if hints["readOnlyHint"]:  # a read is neither destructive nor unrepeatable
            assert hints["destructiveHint"] is False and hints["idempotentHint"] is True
        assert hints["openWorldHint"] is True
        assert tool["title"] and tool["description"]
        assert tool["inputSchema"]["additionalProperties"] is False
        assert tool["outputSchema"]["type"] == "object"


async def test_average_tool_definition_stays_small(routes) -> None:  # type: ignore[no-untyped-def]
    tools = await _tools(routes)
    sizes = [len(json.dumps({k: t[k] for k in ("name", "description", "inputSchema")})) for t in tools]
    assert sum(sizes) / len(sizes) < 1400
