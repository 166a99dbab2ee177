"""One call per question: the organization as a whole, roles by name, edits by name, status filters."""

from __future__ import annotations

import json

import pytest
from helpers import connect, sandbox_settings, text

from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio

SECURITY, OPERATIONS = 4500008, 4300004


async def test_all_workspaces_lists_every_team_exactly_once() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"all_workspaces": True})
        workspaces = await client.call_tool("list_workspaces", {})
    ids = [t["id"] for t in result.structured_content["teams"]]
    assert sorted(ids) == sorted(api.groups) and len(ids) == len(set(ids))
    assert {w["id"] for w in workspaces.structured_content["workspaces"]} == {4300001, 4300002, 4300003, 4300004}
    assert len(text(result).splitlines()) == 4 + len(ids)  # banner, heading, line legend, workspace ids
    users_pages = sum(1 for method, path in api.requests if method == "GET" and "/users" in path)
    assert users_pages == 2  # 150 users; list_workspaces after it read them from the cache


async def test_a_team_line_names_its_members_roles() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"workspace_id": OPERATIONS, "filter": "Security"})
    manager = api.users[api.groups[SECURITY].users[0]]
    assert f"{manager.name}#{manager.id} (Team manager)" in text(result)
    assert result.structured_content["teams"][0]["members"][0]["role"] == "Team manager"
    others = [m for m in result.structured_content["teams"][0]["members"][1:] if m["role"] == "Member"]
    line = text(result).splitlines()[-1]
    assert others and all(f"{m['name']}#{m['id']}" in line and f"{m['id']} (" not in line for m in others)
    assert "unmarked: Member" in text(result) and "(Member)" not in text(result)  # the common role said once
    roles = {name: rid for rid, name, *_ in seed.ROLES}
    assert f"roles Member={roles['Member']}, Team manager={roles['Team manager']}" in text(result)  # no list_roles


async def test_edits_by_exact_names_write_the_right_ids() -> None:
    settings, api = sandbox_settings()
    newcomer = next(
        u for u in api.users.values() if u.id not in api.groups[SECURITY].users and OPERATIONS in u.workspaces
    )
    async with connect(settings, api.transport()) as client:
        args = {"group_id": "security", "workspace_id": OPERATIONS, "add_users": [newcomer.email.upper()]}
        result = await client.call_tool("update_group", args)
    assert result.structured_content["outcome"] == "written", text(result)
    assert newcomer.id in api.groups[SECURITY].users


async def test_an_ambiguous_name_writes_nothing_and_lists_the_candidates() -> None:
    settings, api = sandbox_settings()
    twins = [u for u in api.users.values() if u.name.startswith("Amir ")][:2]
    twins[1].name = twins[0].name
    before = list(api.groups[SECURITY].users)
    async with connect(settings, api.transport()) as client:
        args = {"group_id": SECURITY, "workspace_id": OPERATIONS, "add_users": [twins[0].name]}
        result = await client.call_tool("update_group", args)
    said = text(result)
    assert result.is_error and "names 2 users" in said and f"#{twins[0].id}" in said and f"#{twins[1].id}" in said
    assert api.groups[SECURITY].users == before and not any(m == "PUT" for m, _ in api.requests)


@pytest.mark.parametrize("status", ["invited", "locked", "inactive"])
async def test_status_returns_exactly_those_users(status: str) -> None:
    settings, api = sandbox_settings()
    expected = {
        "invited": {u.id for u in api.users.values() if u.invite_sent and not u.joined},
        "locked": {u.id for u in api.users.values() if u.locked},
        "inactive": {u.id for u in api.users.values() if not u.active},
    }[status]
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_users", {"status": [status]})
    assert {u["id"] for u in result.structured_content["users"]} == expected and expected
    if status == "locked":
        assert "locked since 2026-10-02" in text(result)


async def test_adding_a_member_outside_the_groups_workspaces_warns_by_name() -> None:
    settings, api = sandbox_settings()
    stranger = next(u for u in api.users.values() if OPERATIONS not in u.workspaces and u.joined)
    async with connect(settings, api.transport()) as client:
        args = {"group_id": SECURITY, "workspace_id": OPERATIONS, "add_users": [stranger.id]}
        result = await client.call_tool("update_group", args)
    assert result.structured_content["outcome"] == "written"
    assert f"in none of the group's workspaces (Operations#{OPERATIONS}): {stranger.name}#{stranger.id}" in text(result)


async def test_a_write_answer_says_which_members_have_no_focus_role() -> None:
    settings, api = sandbox_settings()
    security = api.groups[SECURITY].users
    newcomer = next(u for u in api.users.values() if OPERATIONS in u.workspaces and u.joined and u.id not in security)
    async with connect(settings, api.transport()) as client:
        args = {"group_id": SECURITY, "workspace_id": OPERATIONS, "add_users": [newcomer.id]}
        added = text(await client.call_tool("update_group", args))
        made = text(await client.call_tool("create_group", {"name": "Night shift", "organization_users": [4100002]}))
    assert f"{newcomer.name}#{newcomer.id} (no role)" in added  # the others have roles: as list_teams marks it
    assert added.count("(no role)") == 1
    assert "| 1 member, none with a Focus role: " in made


async def test_one_of_a_kind_is_said_in_the_singular() -> None:
    settings, api = sandbox_settings()
    owner = next(u for u in api.users.values() if u.owner and u.admin)
    async with connect(settings, api.transport()) as client:
        counts = text(await client.call_tool("list_users", {"count_only": True, "filter": owner.email}))
        teams = text(await client.call_tool("list_teams", {"filter": "Frontend", "all_workspaces": True}))
        made = text(await client.call_tool("create_group", {"name": "Solo", "organization_users": [owner.id]}))
    assert "Counts of 1 user " in counts and "1 admin, 1 owner |" in counts
    frontend = next(g for g in api.groups.values() if g.name == "Frontend")
    assert f"1 team in {len(frontend.workspaces)} of the 4 workspaces searched;" in teams  # not "across 4"
    assert "| 1 member, none with a Focus role: " in made


async def test_the_tool_list_stays_lean() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        tools = (await client.list_tools()).tools
    wire = [{"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in tools]
    sizes = [len(json.dumps(tool, separators=(",", ":"))) for tool in wire]  # compact, as on the wire
    assert sum(sizes) / len(sizes) <= 1200, sizes


# The tool list's budget: every tool's name, description and input schema, printed as JSON with a one-space
# indent (benchmarks/tokens.py prints the figure), at most 870 B a tool on average. 10,000 bytes held the
# twelve tools; update_user_groups (one person across several teams, one change) and create_group's roles
# cost 1,238 B more, and nothing left in the others could go without losing what the model needs to act:
# 11,238 B for thirteen tools. A bound per tool lets a small tool in (a read tool costs about 250 B) while a
# tool that costs more than its share must make room. What the schema says and what the tools offer of the
# API to stay under it: docs/architecture.md.
PRINTED_TOOL_LIST_BOUND_PER_TOOL = 870


async def test_the_tool_list_as_a_host_prints_it_stays_under_its_bound() -> None:
    settings, api = sandbox_settings()  # sandbox, not read-only: every tool, the write tools included
    async with connect(settings, api.transport()) as client:
        tools = (await client.list_tools()).tools
    wire = [{"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in tools]
    printed = json.dumps(wire, indent=1, ensure_ascii=False).encode()
    assert {"list_changes", "undo_change", "delete_group"} <= {t.name for t in tools}
    assert len(printed) <= PRINTED_TOOL_LIST_BOUND_PER_TOOL * len(tools), (len(printed), len(tools))


async def test_an_empty_workspace_listing_names_the_other_workspaces() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"workspace_id": 4300001, "filter": "Security"})
    said = text(result)
    assert "listed one workspace at a time" in said and f"Operations#{OPERATIONS}" in said
    assert "Brightwave HQ#4300001" not in said.split("Other workspaces:")[1]


async def test_a_group_named_without_a_workspace_is_found_in_its_own() -> None:
    settings, api = sandbox_settings()  # the configured workspace is Brightwave HQ; Security is in Operations
    newcomer = next(u for u in api.users.values() if u.id not in api.groups[SECURITY].users)
    async with connect(settings, api.transport()) as client:
        by_name = await client.call_tool("update_group", {"group_id": "Security", "add_users": [newcomer.id]})
        by_id = await client.call_tool("update_group", {"group_id": SECURITY, "name": "Security Team"})
    assert by_name.structured_content["outcome"] == "written", text(by_name)
    assert by_id.structured_content["outcome"] == "written", text(by_id)
    assert newcomer.id in api.groups[SECURITY].users and api.groups[SECURITY].name == "Security Team"


async def test_list_roles_says_what_each_permission_means_when_asked() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        plain = await client.call_tool("list_roles", {})
        described = await client.call_tool("list_roles", {"describe": True})
    said = text(described)
    for name, (entity, description) in seed.PERMISSIONS.items():
        assert said.count(f"{name} ({entity}): {description}") == 1 and description not in text(plain)
    meanings = {p["name"]: p["description"] for p in described.structured_content["permissions"]}
    assert meanings == {name: description for name, (_, description) in seed.PERMISSIONS.items()}
    assert "permissions" not in plain.structured_content
    assert described.structured_content["roles"][0]["description"] == seed.role_json(seed.ROLES[0])["description"]


async def test_teams_with_a_member_say_that_members_role_in_each_in_one_line() -> None:
    settings, api = sandbox_settings()
    manager = api.groups[SECURITY].users[0]
    held = [g for g in api.groups.values() if manager in g.users]
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"organization_user_id": manager, "all_workspaces": True})
    roles = {r: name for r, name, *_ in seed.ROLES}
    summary = next(line for line in text(result).splitlines() if f"#{manager} in " in line)
    assert f"in {len(held)} team" in summary and len(held) > 1
    for g in held:
        role = g.roles.get(manager)
        assert f"{g.name} ({roles[role] if role else 'no role'})" in summary
