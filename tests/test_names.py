"""Names where ids go: a group's name matched across every workspace, exactly once or refused."""

from __future__ import annotations

import httpx2
import pytest
from conftest import Routes, make_settings
from helpers import connect, sandbox_settings, text

from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox.data import SeedGroup

pytestmark = pytest.mark.anyio

SECURITY, OPERATIONS, PRODUCT_LAB = 4500008, 4300004, 4300003


def second_security(api: SandboxAPI) -> int:
    """Another group named Security, in Product Lab (the sandbox's Security is in Operations)."""
    gid = api.next_group_id
    api.next_group_id += 1
    member = next(u.id for u in api.users.values() if PRODUCT_LAB in u.workspaces and u.joined)
    api.groups[gid] = SeedGroup(id=gid, name="security", emoji="", workspaces=[PRODUCT_LAB], users=[member], ghosts=[])
    return gid


def writes(api: SandboxAPI) -> list[str]:
    return [method for method, _ in api.requests if method != "GET"]


async def test_a_name_two_workspaces_share_is_refused_naming_both() -> None:
    settings, api = sandbox_settings()  # configured workspace: Brightwave HQ, which has neither
    twin = second_security(api)
    newcomer = next(u.id for u in api.users.values() if u.id not in api.groups[SECURITY].users)
    async with connect(settings, api.transport()) as client:
        dry = await client.call_tool("update_group", {"group_id": "Security", "add_users": [newcomer], "dry_run": True})
        delete = await client.call_tool("delete_group", {"group_id": "Security", "confirm": True})
        role = await client.call_tool(
            "set_group_member_role", {"group_id": "Security", "organization_user_id": newcomer, "focus_role_id": 4}
        )
    for result in (dry, delete, role):
        said = text(result)
        assert result.is_error and "2 groups are named 'Security'" in said, said
        assert f"Security#{SECURITY} in Operations#{OPERATIONS}" in said
        assert f"security#{twin} in Product Lab#{PRODUCT_LAB}" in said
    assert writes(api) == [] and twin in api.groups and SECURITY in api.groups


async def test_a_workspace_given_narrows_the_name_to_it() -> None:
    settings, api = sandbox_settings()
    twin = second_security(api)
    async with connect(settings, api.transport()) as client:
        args = {"group_id": "Security", "workspace_id": PRODUCT_LAB, "name": "Security (lab)", "dry_run": True}
        result = await client.call_tool("update_group", args)
    assert not result.is_error, text(result)
    assert result.structured_content["group"]["id"] == twin and writes(api) == []


async def test_a_name_found_in_another_workspace_only_is_that_group() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("update_group", {"group_id": "security", "emoji": "🛡️", "dry_run": True})
    assert not result.is_error, text(result)
    assert result.structured_content["group"]["id"] == SECURITY and writes(api) == []


async def test_a_name_no_group_has_lists_near_ones_and_writes_nothing() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("delete_group", {"group_id": "Secur", "confirm": True})
    said = text(result)
    assert result.is_error and "no group is named 'Secur' in any workspace" in said and f"#{SECURITY}" in said
    assert writes(api) == []


@pytest.mark.parametrize("roles_cached", [True, False])
async def test_an_edit_by_names_reuses_what_the_lookup_read_and_shows_roles(roles_cached: bool) -> None:
    """4 requests with the roles cached, 5 on a cold cache: the roles are read once, before the PUT,
    so that the answer names them (never role#N)."""
    settings, api = sandbox_settings()
    newcomer = next(
        u for u in api.users.values() if u.id not in api.groups[SECURITY].users and OPERATIONS in u.workspaces
    )
    async with connect(settings, api.transport()) as client:
        if roles_cached:
            await client.call_tool("list_roles", {})  # the role names, cached ten times as long as teams
        before = len(api.requests)
        args = {"group_id": "Security", "workspace_id": OPERATIONS, "add_users": [newcomer.name]}
        result = await client.call_tool("update_group", args)
    spent = [(method, path.partition("?")[0].rsplit("/", 1)[-1]) for method, path in api.requests[before:]]
    roles_read = [] if roles_cached else [("GET", "roles")]
    assert spent == [("GET", "teams"), ("GET", "users"), ("GET", "teams"), *roles_read, ("PUT", "4500008")], spent
    said = text(result)
    manager = api.users[api.groups[SECURITY].users[0]]
    role = "Team manager"
    assert f"{manager.name}#{manager.id} ({role})" in said and f"{newcomer.name}#{newcomer.id}" in said


async def test_a_role_answer_names_the_user_the_role_and_the_group() -> None:
    settings, api = sandbox_settings()
    member = api.users[api.groups[SECURITY].users[1]]
    async with connect(settings, api.transport()) as client:
        args = {"group_id": SECURITY, "workspace_id": OPERATIONS, "organization_user_id": member.id, "focus_role_id": 4}
        result = await client.call_tool("set_group_member_role", args)
    said = text(result)
    assert not result.is_error, said
    assert f"{member.name}#{member.id} now has role Team manager#4 in group {SECURITY} 🔒 Security" in said


async def test_a_dry_run_names_the_group_it_would_change() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        args = {"group_id": "Security", "workspace_id": OPERATIONS, "name": "Security Team", "dry_run": True}
        result = await client.call_tool("update_group", args)
    assert f"Would change {SECURITY} 🔒 Security: renamed" in text(result) and writes(api) == []


async def test_create_group_takes_names_and_warns_like_update_group() -> None:
    settings, api = sandbox_settings()
    stranger = next(u for u in api.users.values() if OPERATIONS not in u.workspaces and u.joined)
    async with connect(settings, api.transport()) as client:
        args = {"name": "Night shift", "workspaces": [OPERATIONS], "organization_users": [stranger.email]}
        result = await client.call_tool("create_group", args)
    said = text(result)
    assert result.structured_content["outcome"] == "written", said
    created = next(g for g in api.groups.values() if g.name == "Night shift")
    assert created.users == [stranger.id]
    assert f"Note: in none of the group's workspaces (Operations#{OPERATIONS}): {stranger.name}#{stranger.id}" in said
    # the workspace named from the create's own answer, as update_group names it from its read: no extra request
    assert [method for method, _ in api.requests] == ["GET", "GET", "POST"], api.requests


async def test_more_names_than_the_hours_quota_can_look_up_are_refused_before_any_lookup(routes: Routes) -> None:
    """Each user name costs a GET users: 20 names with 12 requests left this hour would spend them all
    (and the reserve) and then fail half-way; refused up front instead, naming the way with ids."""
    quota = {"X-Toggl-Quota-Remaining": "12", "X-Toggl-Quota-Resets-In": "600"}
    routes.add("GET", "roles", httpx2.Response(200, json=[], headers=quota))
    routes.add("GET", "users", httpx2.Response(200, json=[], headers=quota))
    async with connect(make_settings(), routes.transport()) as client:
        await client.call_tool("list_roles", {})
        names = [f"Person {n}" for n in range(20)]
        result = await client.call_tool("create_group", {"name": "Big", "organization_users": names})
    said = text(result)
    assert result.is_error and "20 names" in said and "only 12 are left" in said and "ids" in said, said
    assert len(routes.requests) == 1
