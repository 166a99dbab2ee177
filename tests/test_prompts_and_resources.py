"""Prompts and resources through the real protocol: listed, rendered with arguments, read, cached like
the tools, marked in the sandbox; the prompts name only tools and arguments the server has."""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import connect, sandbox_settings, text
from mcp import Client, MCPError
from mcp_types import INVALID_PARAMS

from focus_mcp.config import Settings
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio

ARGUMENTS = {
    "security_review": {},
    "team_health_check": {"team": "Design"},
    "onboard_person": {"person": "Amir Varga", "teams": "Design, Support"},
    "offboard_person": {"person": "Amir Varga"},
}


async def rendered(client: Client) -> dict[str, str]:
    texts = {}
    for prompt in (await client.list_prompts()).prompts:
        result = await client.get_prompt(prompt.name, ARGUMENTS[prompt.name])
        assert [m.role for m in result.messages] == ["user"]
        content = result.messages[0].content
        assert content.type == "text"
        texts[prompt.name] = content.text
    return texts


async def test_the_workflows_are_listed_with_their_arguments_and_render() -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == set(ARGUMENTS)
        assert {a.name: a.required for a in prompts["onboard_person"].arguments or []} == {
            "person": True,
            "teams": True,
        }
        assert all(p.title and p.description for p in prompts.values())
        texts = await rendered(client)
    assert "'Design'" in texts["team_health_check"] and "Amir Varga" in texts["onboard_person"]
    assert "only_admins=true" in texts["security_review"] and "dry_run=true" in texts["onboard_person"]
    assert all("sandbox" in t for t in texts.values())
    assert sandbox.requests == []  # rendering a prompt costs no API request


@pytest.mark.parametrize(
    ("prompt", "arguments", "said"),
    [
        ("team_health_check", {}, "The team_health_check prompt needs team, which was not given. team is the team: "),
        ("team_health_check", {"team": " "}, "needs team, which was left blank. team is the team: its name or id."),
        ("onboard_person", {"person": "Amir"}, "needs teams, which was not given. teams is the teams, comma-separated"),
        ("onboard_person", {"teams": ""}, "needs person and teams, which were not given or left blank. person is the "),
    ],
)
async def test_a_missing_argument_is_named_with_what_goes_there(
    prompt: str, arguments: dict[str, str], said: str
) -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt(prompt, arguments)
    assert said in refused.value.message and "Internal server error" not in refused.value.message
    assert refused.value.code == INVALID_PARAMS  # the caller's to fix, not a crash


async def test_every_tool_and_argument_a_prompt_names_is_served() -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        schemas = {t.name: t.input_schema.get("properties", {}) for t in (await client.list_tools()).tools}
        texts = await rendered(client)
    for name, said in texts.items():
        assert set(re.findall(r"\b(?:list|create|update|delete|set)_[a-z_]+", said)) <= set(schemas), name
        named = re.findall(r"\b([a-z]+(?:_[a-z]+)+) with (.*?)(?:[.:]\s|$)", said)
        assert named, name
        for tool, arguments in named:
            assert tool in schemas, f"{name} names {tool}"
            for argument in re.findall(r"\b(\w+)=", arguments):
                assert argument in schemas[tool], f"{name}: {tool} has no argument {argument}"


async def test_read_only_stops_the_edit_workflows_at_the_plan() -> None:
    settings, sandbox = sandbox_settings(read_only=True)
    async with connect(settings, sandbox.transport()) as client:
        texts = await rendered(client)
        descriptions = {p.name: p.description or "" for p in (await client.list_prompts()).prompts}
    for name in ("onboard_person", "offboard_person"):
        assert "read-only" in texts[name] and "dry_run" not in texts[name] and "read-only" in descriptions[name]
    assert "the teams they left" not in texts["offboard_person"]  # it stops at the plan: no team was left


async def test_the_resources_read_as_the_tools_answer_through_the_same_cache() -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert {"focus://roles", "focus://workspaces", "focus://workspaces/4300001/member-tags"} <= set(listed)
        assert all("SANDBOX" in (r.title or "") and r.meta == {"sandbox": True} for r in listed.values())
        templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
        assert templates == ["focus://workspaces/{workspace_id}/member-tags"]

        async def read(uri: str) -> str:
            contents = (await client.read_resource(uri)).contents
            assert len(contents) == 1 and contents[0].mime_type == "text/plain"
            said: str = getattr(contents[0], "text")  # noqa: B009  (text contents, checked by mime type)
            return said

        roles = await read("focus://roles")
        assert roles == text(await client.call_tool("list_roles", {}))
        workspaces = await read("focus://workspaces")
        assert workspaces == text(await client.call_tool("list_workspaces", {}))
        tags = await read("focus://workspaces/4300003/member-tags")
        assert tags == text(await client.call_tool("list_member_tags", {"workspace_id": 4300003}))
    assert roles.startswith("[SANDBOX") and "6 roles." in roles and "4300003 Product Lab" in workspaces
    assert "Team lead" in tags
    gets: dict[str, int] = {}
    for method, path in sandbox.requests:
        endpoint = path.split("?")[0].rsplit("/", 1)[-1]
        gets[endpoint] = gets.get(endpoint, 0) + (method == "GET")
    assert gets["roles"] == 1 and gets["member-tags"] == 1  # the tool call read the resource's cached answer


@pytest.mark.parametrize(
    ("uri", "said"),
    [
        ("focus://workspaces/abc/member-tags", "not a workspace id"),
        ("focus://workspaces/0/member-tags", "not a workspace id"),
        ("focus://workspaces/９/member-tags", "not a workspace id"),
    ],
)
async def test_a_template_with_a_bad_id_is_refused_in_a_sentence(uri: str, said: str) -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        with pytest.raises(MCPError, match=said):
            await client.read_resource(uri)
    assert sandbox.requests == []


async def test_without_credentials_a_resource_says_what_to_set() -> None:
    async with Client(build_server(Settings(organization_id=123456))) as client:
        listed: list[Any] = (await client.list_resources()).resources
        assert "SANDBOX" not in str([r.title for r in listed])
        with pytest.raises(MCPError, match="TOGGL_FOCUS_API_KEY"):
            await client.read_resource("focus://roles")


async def test_an_unknown_prompt_is_refused_with_the_list_of_prompts() -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("nope", {})
    said = refused.value.message
    assert (
        "No prompt 'nope'" in said and all(name in said for name in ARGUMENTS) and refused.value.code == INVALID_PARAMS
    )
