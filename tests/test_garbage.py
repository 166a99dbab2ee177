"""Arbitrary arguments thrown at every tool: each call is answered, nothing unvalidated reaches a URL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
from helpers import connect, sandbox_settings, text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from focus_mcp.registry import SPECS

TOOLS = {s.name: sorted(s.args.model_fields) for s in SPECS}
# Every URL a tool may reach: the paths of Toggl's spec (tests/spec), each id a decimal number.
SPEC = json.loads((Path(__file__).parent / "spec" / "organization.swagger.json").read_text(encoding="utf-8"))
SAFE_PATH = re.compile(
    "^(" + "|".join(re.sub(r"\\{\w+\\}", r"[1-9]\\d*", re.escape(SPEC["basePath"] + p)) for p in SPEC["paths"]) + ")$"
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def garbage_call(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(sorted(TOOLS)))
    keys = st.sampled_from(TOOLS[tool]) | st.text(max_size=12)
    values = st.integers(min_value=-(2**70), max_value=2**70) | json_values | st.just("1/../../admin")
    return tool, draw(st.dictionaries(keys, values, max_size=5))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(garbage_call(), min_size=8, max_size=8))
def test_garbage_arguments_are_all_answered(calls: list[tuple[str, dict[str, Any]]]) -> None:
    config, sandbox = sandbox_settings()

    async def run() -> None:
        async with connect(config, sandbox.transport()) as client:
            for tool, arguments in calls:
                result = await client.call_tool(tool, arguments)
                assert result.content, (tool, arguments)
                assert not text(result).removeprefix("[SANDBOX] ").startswith("Error executing tool"), (tool, arguments)
            assert not (await client.call_tool("list_roles", {})).is_error  # still serving

    anyio.run(run)
    for _method, target in sandbox.requests:
        assert SAFE_PATH.match(target.split("?")[0]), target
