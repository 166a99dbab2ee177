"""Arguments are checked once, against the model whose schema is published, through the real protocol:
ids whatever their JSON type, names where names are allowed, confirm as the JSON boolean, plain
sentences for every failure (never the SDK's bare "Error executing tool")."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from conftest import Routes, make_settings
from helpers import connect, sandbox_settings, text
from mcp import Client
from pydantic import BaseModel

from focus_mcp.api.models import MAX_ID
from focus_mcp.registry import SPECS, ToolServer, as_tool, input_schema
from focus_mcp.toolkit.base import READ_ONLY, Result, ToolArgs, ToolSpec

pytestmark = pytest.mark.anyio

GROUP, WORKSPACE = 4500001, 4300001  # the sandbox's Design team and its workspace


@pytest.mark.parametrize(
    "given", ["٣", "１２３", "0", "-1", " ", "99999999999999999999", "1" * 23, True, 1.5, 0, -3, 2**63, MAX_ID + 1, [1]]
)
async def test_an_id_that_is_not_ascii_digits_from_1_to_2_53_is_refused_before_any_request(given: object) -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"organization_id": given})
    said = text(result)
    assert result.is_error and "organization_id must be an id" in said and said.startswith("[SANDBOX] Not sent")
    assert "Error executing tool" not in said and "Input should" not in said and api.requests == []


@pytest.mark.parametrize("given", ["4300001", " 4300001 ", 4300001, 4300001.0])
async def test_an_id_is_read_whatever_its_json_type(given: object) -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"workspace_id": given, "filter": "Design"})
    assert not result.is_error and "Design" in text(result)
    assert any(
        t.startswith("/api/organizations/4200001/teams?") and "workspace_id=4300001" in t for _, t in api.requests
    )


@pytest.mark.parametrize("given", ["٣", "１２３", "0", "99999999999999999999", "1" * 23])
async def test_where_a_name_is_allowed_anything_but_a_valid_id_is_a_name(given: str) -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("update_group", {"group_id": given, "name": "Renamed"})
    assert result.is_error and f"no group is named {given!r}" in text(result)
    assert all(method == "GET" for method, _ in api.requests)  # looked up as a name, nothing written


async def test_a_user_ref_that_is_not_a_valid_id_is_looked_up_as_a_name() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        zero = await client.call_tool("update_group", {"group_id": str(GROUP), "add_users": ["0"], "dry_run": True})
        digit = await client.call_tool("update_group", {"group_id": GROUP, "add_users": ["٣"], "dry_run": True})
    assert zero.is_error and "add_users '0' is no user's exact name or email" in text(zero)
    assert digit.is_error and "add_users '٣' is no user's exact name or email" in text(digit)
    assert all(method == "GET" for method, _ in api.requests)


@pytest.mark.parametrize("given", [2**63, True, 1.5, ""])
async def test_a_group_ref_that_is_neither_id_nor_name_is_refused(given: object) -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("update_group", {"group_id": given, "name": "x"})
    assert result.is_error and "group_id must be an id" in text(result) and api.requests == []


@pytest.mark.parametrize("given", ["true", 1, "yes"])
async def test_confirm_is_the_json_boolean_true_only(given: object) -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("delete_group", {"group_id": GROUP, "confirm": given})
    assert result.is_error and "confirm must be the JSON boolean" in text(result) and api.requests == []


async def test_an_elicitation_capable_client_is_not_asked_about_refused_arguments(routes: Routes) -> None:
    asked: list[str] = []

    async def answer(ctx: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with connect(make_settings(), routes.transport(), elicitation_callback=answer) as client:
        result = await client.call_tool("delete_group", {"group_id": True})
    assert result.is_error and "group_id must be an id" in text(result)
    assert asked == [] and routes.requests == []


async def test_a_group_the_question_cannot_name_is_said_plainly(routes: Routes) -> None:
    routes.add("GET", "teams", {"data": [], "page": 1, "rows": 0, "total": 0})

    async def answer(ctx: Any, params: Any) -> types.ElicitResult:
        raise AssertionError("asked about a group that is not there")

    async with connect(make_settings(), routes.transport(), elicitation_callback=answer) as client:
        result = await client.call_tool("delete_group", {"group_id": 5, "workspace_id": 22})
    said = text(result)
    assert result.is_error and said.startswith(
        "Not deleted: group 5 is not visible in workspace 22, so no DELETE was sent."
    )
    assert "DELETE" not in [r.method for r in routes.requests]


async def test_unknown_arguments_are_listed_with_the_valid_ones(routes: Routes) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_roles", {"bogus": 1, "organisation_id": 2})
    said = text(result)
    assert said.startswith("Not sent: invalid arguments for list_roles: unknown arguments bogus, organisation_id")
    assert "(valid: organization_id, fresh, describe)" in said and routes.requests == []


async def test_a_write_tool_in_read_only_mode_says_it_is_off(routes: Routes) -> None:
    async with connect(make_settings(read_only=True), routes.transport()) as client:
        result = await client.call_tool("create_group", {"name": "x"})
    assert result.is_error and text(result).startswith("create_group is not available: this server runs in read-only")
    assert routes.requests == []


async def test_the_published_schema_is_the_checking_model_and_the_sdk_checks_nothing_else(routes: Routes) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        listed = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    for spec in SPECS:
        assert listed[spec.name] == input_schema(spec.args)
        assert as_tool(spec).fn_metadata.arg_model.model_fields == {}  # no second, laxer argument model


class Nothing(ToolArgs):
    pass


class Count(Result):
    count: int


async def crashing(args: Nothing, ctx: Any) -> types.CallToolResult:
    """Crash."""
    raise RuntimeError("internal detail toggl_sk_secret")


async def misshapen(args: Nothing, ctx: Any) -> types.CallToolResult:
    """Answer what the output model refuses."""
    return types.CallToolResult(content=[], structured_content={"count": "many"})


@pytest.mark.parametrize("handler", [crashing, misshapen])
async def test_a_failure_inside_a_tool_is_a_plain_sentence_without_its_detail(handler: Any) -> None:
    spec = ToolSpec(handler, "Test", Nothing, Count, READ_ONLY)
    server = ToolServer("test", tools=[as_tool(spec)], settings=make_settings())
    async with Client(server) as client:
        result = await client.call_tool(handler.__name__, {})
    said = text(result)
    assert result.is_error and said.startswith(f"{handler.__name__} failed inside focus-mcp (")
    assert "Error executing tool" not in said and "toggl_sk_secret" not in said and "many" not in said


def test_output_models_are_pydantic_models() -> None:
    assert all(issubclass(spec.output, BaseModel) for spec in SPECS)
