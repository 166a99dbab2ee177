"""Edits the way people ask for them, through the real protocol against the sandbox: roles given with
members in one call (one journal entry), a role set by names, a delete's entry remembering roles and
its undo giving them back in one entry, role names in every write answer."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from helpers import connect, outside, sandbox_settings, text, writes
from mcp import Client

from focus_mcp.sandbox import SandboxAPI

pytestmark = pytest.mark.anyio

SUPPORT = 4500009  # workspace 4300001; the owner 4100001 is a member with Focus role 4
DESIGN = 4500001  # workspaces 4300001 and 4300003
TEAM_MANAGER = 4
TEAM_VIEWER = 6


async def call(client: Client, tool: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, text(result)
    assert "role#" not in text(result), text(result)  # roles are named in write answers
    return result


async def test_two_members_added_as_team_managers_in_one_call_are_one_change() -> None:
    settings, api = sandbox_settings()
    zoe, dmitri = outside(api, SUPPORT)[:2]
    names = [api.users[zoe].name, api.users[dmitri].email]
    async with connect(settings, api.transport()) as client:
        edit = await call(
            client,
            "update_group",
            {"group_id": "Support", "add_users": names, "roles": {names[0]: "Team manager", str(dmitri): 4}},
        )
        listed = await call(client, "list_changes", {})
    said = text(edit)
    assert api.groups[SUPPORT].roles[zoe] == TEAM_MANAGER and api.groups[SUPPORT].roles[dmitri] == 4
    assert "Focus roles set in group 4500009" in said and f"{api.users[zoe].name}#{zoe} Team manager#4" in said, said
    assert [c["id"] for c in listed.structured_content["changes"]] == [edit.structured_content["change_id"]]
    assert [r[0] for r in writes(api)] == ["PUT", "PUT", "PUT"]  # the group, then each role


async def test_a_role_for_someone_who_will_not_be_a_member_is_refused_before_any_write() -> None:
    settings, api = sandbox_settings()
    stranger = outside(api, SUPPORT)[0]
    async with connect(settings, api.transport()) as client:
        refused = await client.call_tool(
            "update_group", {"group_id": SUPPORT, "name": "Help", "roles": {str(stranger): 4}}
        )
        member = next(iter(api.groups[SUPPORT].users))
        removed = await client.call_tool(
            "update_group", {"group_id": SUPPORT, "remove_users": [member], "roles": {str(member): 4}}
        )
    for result in (refused, removed):
        assert result.is_error and "not a member" in text(result), text(result)
    assert writes(api) == []


async def test_a_group_is_created_with_its_members_roles_in_one_change() -> None:
    settings, api = sandbox_settings()
    ana, bo = outside(api, SUPPORT)[:2]
    async with connect(settings, api.transport()) as client:
        refused = await client.call_tool("create_group", {"name": "Night shift", "roles": {str(ana): 4}})
        assert refused.is_error and "not a member" in text(refused), text(refused)
        assert writes(api) == []
        made = await call(
            client,
            "create_group",
            {
                "name": "Night shift",
                "organization_users": [ana, api.users[bo].name],
                "roles": {str(ana): "Team manager"},
            },
        )
        listed = await call(client, "list_changes", {})
    gid = made.structured_content["group"]["id"]
    assert api.groups[gid].roles.get(ana) == TEAM_MANAGER and api.groups[gid].roles.get(bo) is None
    assert [r[0] for r in writes(api)] == ["POST", "PUT"]  # the group, then the one role
    assert [c["id"] for c in listed.structured_content["changes"]] == [made.structured_content["change_id"]]


async def test_a_member_role_is_set_by_group_user_and_role_names() -> None:
    settings, api = sandbox_settings()
    member = next(u for u in api.groups[SUPPORT].users if api.groups[SUPPORT].roles.get(u) != TEAM_VIEWER)
    async with connect(settings, api.transport()) as client:
        result = await call(
            client,
            "set_group_member_role",
            {"group_id": "Support", "organization_user_id": api.users[member].name, "focus_role_id": "team viewer"},
        )
    assert api.groups[SUPPORT].roles[member] == TEAM_VIEWER
    assert result.structured_content["focus_role_id"] == TEAM_VIEWER and "Team viewer#6" in text(result)


async def test_a_deletes_entry_names_roles_and_its_undo_gives_them_back_in_one_entry() -> None:
    settings, api = sandbox_settings()
    roles = {u: r for u, r in api.groups[DESIGN].roles.items() if r}
    assert roles
    async with connect(settings, api.transport()) as client:
        deleted = await call(client, "delete_group", {"group_id": DESIGN, "confirm": True})
        listed = text(await call(client, "list_changes", {}))
        user, role = next(iter(roles.items()))
        role_name = next(r[1] for r in __import__("focus_mcp.sandbox.data", fromlist=["ROLES"]).ROLES if r[0] == role)
        assert f"{api.users[user].name}#{user} {role_name}" in listed, listed
        undone = await call(client, "undo_change", {"change_id": deleted.structured_content["change_id"]})
        after = await call(client, "list_changes", {"limit": 2})
    new = undone.structured_content["group_id"]
    assert {u: r for u, r in api.groups[new].roles.items() if r} == roles
    entries = after.structured_content["changes"]
    assert [e["id"] for e in entries] == [
        undone.structured_content["change_id"],
        deleted.structured_content["change_id"],
    ]


@pytest.fixture
def with_update_user_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """update_user_groups is built but not in the inventory until the tool list has room for it (see
    registry.AREAS): these tests serve it beside the others."""
    from focus_mcp import registry
    from focus_mcp.tools import memberships

    listed = registry.tool_specs

    def served(settings: Any) -> list[Any]:
        return [*listed(settings), *memberships.TOOLS]

    monkeypatch.setattr("focus_mcp.server.tool_specs", served)
    monkeypatch.setattr("focus_mcp.prompts.tool_specs", served)


def teams_of(api: SandboxAPI, user: int) -> list[int]:
    return [g.id for g in api.groups.values() if user in g.users]


@pytest.mark.usefixtures("with_update_user_groups")
async def test_a_person_taken_out_of_every_team_in_one_change_and_put_back_by_one_undo() -> None:
    settings, api = sandbox_settings()
    hana = next(u for u in api.users.values() if u.name == "Hana Nilsen")
    was = {g: api.groups[g].roles.get(hana.id) for g in teams_of(api, hana.id)}
    assert len(was) >= 2
    async with connect(settings, api.transport()) as client:
        dry = await call(client, "update_user_groups", {"user": hana.name, "remove_from": "all", "dry_run": True})
        assert writes(api) == [] and teams_of(api, hana.id) == list(was)
        for gid in was:
            assert f"{api.groups[gid].name}" in text(dry), text(dry)
        assert f"It would take {len(was)} requests" in text(dry), text(dry)
        done = await call(client, "update_user_groups", {"user": hana.email, "remove_from": "all"})
        assert teams_of(api, hana.id) == [] and done.structured_content["outcome"] == "written"
        listed = await call(client, "list_changes", {})
        assert [c["id"] for c in listed.structured_content["changes"]] == [done.structured_content["change_id"]]
        undone = await call(client, "undo_change", {"change_id": done.structured_content["change_id"]})
    assert undone.structured_content["outcome"] == "written", text(undone)
    assert {g: api.groups[g].roles.get(hana.id) for g in teams_of(api, hana.id)} == was


@pytest.mark.usefixtures("with_update_user_groups")
async def test_a_person_into_five_teams_with_a_role_is_refused_when_the_hour_cannot_finish_it() -> None:
    settings, api = sandbox_settings()
    person = next(u for u in api.users.values() if u.joined and not teams_of(api, u.id))
    five = [g.id for g in api.groups.values()][:5]
    async with connect(settings, api.transport()) as client:
        await call(client, "list_roles", {"fresh": True})  # the server learns the quota from an answer
        api.quota_left = 6
        await call(client, "list_roles", {"fresh": True})
        refused = await client.call_tool(
            "update_user_groups", {"user": person.id, "add_to": five, "role": "Team manager"}
        )
    said = text(refused)
    assert refused.is_error and "requests" in said and "left this hour" in said and "Nothing was sent" in said, said
    assert writes(api) == []


@pytest.mark.usefixtures("with_update_user_groups")
async def test_an_api_error_on_one_of_three_teams_keeps_that_team_and_names_it() -> None:
    settings, api = sandbox_settings()
    person = next(u for u in api.users.values() if u.joined and not teams_of(api, u.id))
    three = [g.id for g in api.groups.values() if 4300001 in g.workspaces][:3]
    original = api.transport

    class Failing(httpx2.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = original()

        async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
            if request.method == "PUT" and request.url.path.endswith(f"groups/{three[1]}"):
                body = {"error": "unavailable", "error_description": "Service unavailable"}
                return httpx2.Response(503, json=body)
            return await self.inner.handle_async_request(request)

    async with connect(settings, Failing()) as client:
        result = await client.call_tool("update_user_groups", {"user": person.id, "add_to": three})
        listed = await call(client, "list_changes", {})
    said = text(result)
    assert result.is_error and f"group {api.groups[three[1]].name}#{three[1]}" in said and "Not written" in said, said
    assert teams_of(api, person.id) == [three[0], three[2]]
    [entry] = listed.structured_content["changes"]
    assert "(not written)" in entry["did"], entry


@pytest.mark.usefixtures("with_update_user_groups")
async def test_on_and_offboarding_prompts_use_one_call_where_the_server_offers_it() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        onboard = await client.get_prompt("onboard_person", {"person": "Hana Nilsen", "teams": "Design, Support"})
        offboard = await client.get_prompt("offboard_person", {"person": "Hana Nilsen"})
    said = [str(m.content) for m in (*onboard.messages, *offboard.messages)]
    assert "update_user_groups with user=" in said[0] and "add_to=" in said[0], said[0]
    assert 'remove_from="all" and dry_run=true' in said[1], said[1]
    assert all("update_group with" not in text for text in said)


async def test_an_edit_with_roles_is_undone_as_one_change_roles_included() -> None:
    """One undo reverses every written step of an update_group with roles: the member added leaves, the
    member whose role it changed gets the earlier role back."""
    settings, api = sandbox_settings()
    newcomer = outside(api, SUPPORT)[0]
    member = next(u for u in api.groups[SUPPORT].users if api.groups[SUPPORT].roles.get(u) == 5)
    async with connect(settings, api.transport()) as client:
        edit = await call(
            client,
            "update_group",
            {"group_id": SUPPORT, "add_users": [newcomer], "roles": {str(newcomer): 4, str(member): "Team viewer"}},
        )
        assert api.groups[SUPPORT].roles[member] == TEAM_VIEWER
        undone = await call(client, "undo_change", {"change_id": edit.structured_content["change_id"]})
    assert newcomer not in api.groups[SUPPORT].users and api.groups[SUPPORT].roles[member] == 5, text(undone)
    assert undone.structured_content["outcome"] == "written"
