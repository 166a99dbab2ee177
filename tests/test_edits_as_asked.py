"""Edits the way people ask for them, through the real protocol against the sandbox: roles given with
members in one call (one journal entry), a role set by names, a delete's entry remembering roles and
its undo giving them back in one entry, role names in every write answer."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import connect, sandbox_settings, text
from mcp import Client

from focus_mcp.sandbox import SandboxAPI

pytestmark = pytest.mark.anyio

SUPPORT = 4500009  # workspace 4300001; the owner 4100001 is a member with Focus role 4
DESIGN = 4500001  # workspaces 4300001 and 4300003
TEAM_MANAGER = 4
TEAM_VIEWER = 6


def outside(api: SandboxAPI, gid: int) -> list[int]:
    return [u.id for u in api.users.values() if u.joined and u.id not in api.groups[gid].users]


def writes(api: SandboxAPI) -> list[tuple[str, str]]:
    return [r for r in api.requests if r[0] != "GET"]


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
