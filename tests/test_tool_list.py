"""The tool list as clients see it: a reviewed snapshot, the annotations of DESIGN.md, the size budget."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Routes, make_settings
from helpers import connect

from focus_mcp.tools.registry import SPECS

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"


async def _tools(routes: Routes) -> list[dict[str, Any]]:
    async with connect(make_settings(), routes.transport()) as client:
        tools = (await client.list_tools()).tools
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


async def test_snapshot_of_tools_list(routes) -> None:  # type: ignore[no-untyped-def]
    """Any change of a name, title, description, schema or annotation shows up here; review, then
    regenerate with UPDATE_SNAPSHOTS=1."""
    current = json.dumps(await _tools(routes), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
    assert current == SNAPSHOT.read_text(encoding="utf-8")


async def test_every_tool_is_titled_typed_and_fully_annotated(routes) -> None:  # type: ignore[no-untyped-def]
    tools = {t["name"]: t for t in await _tools(routes)}
    assert list(tools) == [s.name for s in SPECS]
    for tool in tools.values():
        hints = tool["annotations"]
        assert set(hints) >= {"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
        if hints["readOnlyHint"]:  # DESIGN.md: a read is neither destructive nor unrepeatable
            assert hints["destructiveHint"] is False and hints["idempotentHint"] is True
        assert hints["openWorldHint"] is True
        assert tool["title"] and tool["description"]
        assert tool["inputSchema"]["additionalProperties"] is False
        assert tool["outputSchema"]["type"] == "object"


async def test_average_tool_definition_stays_small(routes) -> None:  # type: ignore[no-untyped-def]
    tools = await _tools(routes)
    sizes = [len(json.dumps({k: t[k] for k in ("name", "description", "inputSchema")})) for t in tools]
    assert sum(sizes) / len(sizes) < 1400
