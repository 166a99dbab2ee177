"""The tools through the real protocol (in-memory Client) against MockTransport route tables."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import httpx2
import mcp_types as types
import pytest
from conftest import ORG, SECRET_KEY, WS, Routes, group_json, make_settings, teams_json
from helpers import Gate, connect, sandbox_settings, text

from focus_mcp.registry import SPECS
from focus_mcp.writes.turns import KeyedLocks

pytestmark = pytest.mark.anyio


async def test_list_users_filters_the_snapshot_and_reads_custom_fields_comma_joined(routes: Routes) -> None:
    ws1 = [{"id": 1, "name": "One", "focus_role_id": 7, "toggl_products": ["focus"]}]
    tag = [{"id": 8, "label": "Remote"}]
    kept = [
        {"id": i, "name": name, "email": f"{name.lower()}@x", "admin": True, "workspaces": ws1, "tags": tag}
        for i, name in ((4, "Ana"), (5, "Jan"))
    ]
    routes.add("GET", "users", [*kept, {"id": 6, "name": "Anna", "email": "anna@x", "workspaces": ws1}])
    routes.add("GET", "teams", teams_json())
    routes.add("GET", "roles", [])
    args = {
        "workspaces": [1], "org_user_ids": [4, 5, 6], "toggl_products": ["focus"], "roles": [7],
        "only_admins": True, "filter": "an", "page": 1, "per_page": 100, "tag_ids": [8, 9], "has_group": False,
        "fields": ["email", "flags", "rate", "working_hours", "custom_fields"],
    }  # fmt: skip
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", args)
    assert not result.is_error, text(result)
    assert routes.query(0) == {"page": "1", "per_page": "100", "include_working_hours": "true", "include_rates": "true"}
    assert routes.query() == {  # the custom fields of the users shown, their ids comma-joined
        "org_user_ids": "4,5", "workspaces": "1", "include_custom_fields": "true", "per_page": "2",
    }  # fmt: skip
    assert routes.requests[0].url.path == f"/api/organizations/{ORG}/users"
    assert "4 Ana <ana@x> admin" in text(result) and "Anna" not in text(result)  # Anna is no admin
    assert [u["id"] for u in result.structured_content["users"]] == [4, 5]


async def test_an_argument_that_was_replaced_is_refused_naming_its_replacement(routes: Routes) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        users = text(await client.call_tool("list_users", {"include_rates": True, "sort_dir": "asc"}))
        teams = text(await client.call_tool("list_teams", {"page": 2}))
        # another tool's replaced argument is named as plain unknown, not with a replacement it does not take
        groups = text(await client.call_tool("list_my_groups", {"page": 2}))
        rates = text(await client.call_tool("list_teams", {"include_rates": True}))
    assert 'include_rates (now fields ["rate"])' in users and "sort_dir" in users
    assert "page (list_teams reads every page itself)" in teams
    assert "unknown argument page (valid:" in groups and "list_teams" not in groups
    assert "unknown argument include_rates (valid:" in rates and "fields" not in rates
    assert routes.requests == []


async def test_custom_fields_need_exactly_one_workspace_and_nothing_is_sent_without(routes: Routes) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"fields": ["custom_fields"]})
    assert result.is_error and "exactly one workspace" in text(result)
    assert routes.requests == []


async def test_unset_parameters_are_not_sent_but_per_page_always_is(routes: Routes) -> None:
    routes.add("GET", "users", [])
    routes.add("GET", "teams", teams_json())
    routes.add("GET", "roles", [])
    async with connect(make_settings(), routes.transport()) as client:
        await client.call_tool("list_teams", {})
        await client.call_tool("list_users", {})
    # one workspace's teams on a server with no snapshot yet: every page, read itself
    assert routes.query(0) == {"workspace_id": str(WS), "page": "1", "per_page": "100"}
    # the snapshot: every page of users at 100 a page, with the rates and hours answers may show
    assert routes.query(1) == {"page": "1", "per_page": "100", "include_working_hours": "true", "include_rates": "true"}


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("list_users", {"per_page": 101}),
        ("list_users", {"per_page": 0}),
        ("list_users", {"groups": ["a"]}),
        ("list_users", {"groups": 5}),
        ("list_users", {"organization_id": -3}),
        ("list_users", {"no_such_filter": True}),
        ("list_teams", {"group_ids": [0]}),
        ("update_group", {"name": "x"}),
        ("update_group", {"group_id": 5, "add_users": [1], "remove_users": [1]}),
        ("update_group", {"group_id": 5, "organization_users": [1], "add_users": [2]}),
        ("update_group", {"group_id": 5}),
        ("create_group", {"name": ""}),
        ("delete_group", {"group_id": 0}),
        ("delete_group", {"group_id": ""}),
        ("set_group_member_role", {"group_id": 5, "organization_user_id": 1}),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(routes: Routes, tool: str, args: dict[str, Any]) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool(tool, args)
    assert result.is_error
    assert routes.requests == []


async def test_a_group_name_is_looked_up_as_a_query_never_put_in_a_path(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5, name="5/../../x")))
    routes.add("GET", "users", [])  # no member: the snapshot knows no workspace, nor the group
    routes.add("GET", "roles", [])
    routes.add("DELETE", "groups/5", {"success": True})
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("delete_group", {"group_id": "5/../../x", "confirm": True})
    assert not result.is_error, text(result)
    paths = [r.url.path.split("/")[-1] for r in routes.requests]
    # the snapshot (users, roles), then the API's filter in the workspace, read under the turn, deleted
    assert routes.query(2)["filter"] == "5/../../x" and paths == ["users", "roles", "teams", "teams", "5"]


async def test_organization_and_workspace_fall_back_to_configuration(routes: Routes) -> None:
    routes.add("GET", "member-tags", [])
    async with connect(make_settings(), routes.transport()) as client:
        await client.call_tool("list_member_tags", {})
    assert routes.requests[0].url.path == f"/api/organizations/{ORG}/member-tags"
    assert routes.query() == {"workspace_id": str(WS)}


async def test_explicit_ids_win_over_configuration(routes: Routes) -> None:
    routes.table[("GET", "/api/organizations/77/member-tags")] = []
    async with connect(make_settings(), routes.transport()) as client:
        await client.call_tool("list_member_tags", {"organization_id": 77, "workspace_id": 88})
    assert routes.requests[0].url.path == "/api/organizations/77/member-tags"
    assert routes.query() == {"workspace_id": "88"}


@pytest.mark.parametrize(
    ("missing", "variable"),
    [("organization_id", "TOGGL_FOCUS_ORGANIZATION_ID"), ("workspace_id", "TOGGL_FOCUS_WORKSPACE_ID")],
)
async def test_missing_default_names_the_variable(routes: Routes, missing: str, variable: str) -> None:
    async with connect(make_settings(**{missing: None}), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    assert result.is_error and variable in text(result)
    assert routes.requests == []


async def test_no_credentials_server_starts_and_every_call_names_the_variables(routes: Routes) -> None:
    async with connect(make_settings(api_key=None), routes.transport()) as client:
        assert len((await client.list_tools()).tools) == len(SPECS)
        for tool in ("list_roles", "list_users", "list_my_groups"):
            result = await client.call_tool(tool, {})
            assert result.is_error and "TOGGL_FOCUS_API_KEY" in text(result) and "TOGGL_FOCUS_EMAIL" in text(result)
    assert routes.requests == []


async def test_the_docs_placeholder_key_is_refused_before_any_request(routes: Routes) -> None:
    async with connect(make_settings(api_key="toggl_sk_..."), routes.transport()) as client:
        result = await client.call_tool("list_roles", {})
    assert result.is_error and "toggl_sk_..., the placeholder from the docs, not a key" in text(result)
    assert "Toggl profile page" in text(result) and "restart the server" in text(result)
    assert routes.requests == []


async def test_rename_keeps_members_emoji_and_workspaces(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5, members=(101, 102, 103))))
    routes.add(
        "PUT",
        "groups/5",
        lambda r: __import__("httpx2").Response(200, json=group_json(gid=5, name="Studio", members=(101, 102, 103))),
    )
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("update_group", {"group_id": 5, "name": "Studio"})
    assert not result.is_error, text(result)
    assert [r.method for r in routes.requests] == ["GET", "PUT"]
    assert routes.query(0) == {"workspace_id": str(WS), "group_ids": "5"}
    assert routes.body() == {"name": "Studio", "emoji": "🎨", "organization_users": [101, 102, 103], "workspaces": [WS]}
    assert "renamed 'Design' -> 'Studio'" in text(result)


async def test_add_and_remove_members_keep_the_others(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5, members=(101, 102, 103))))
    routes.add("PUT", "groups/5", group_json(gid=5, members=(101, 103, 104)))
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("update_group", {"group_id": 5, "add_users": [104], "remove_users": [102]})
    assert routes.body()["organization_users"] == [101, 103, 104]
    assert routes.body()["name"] == "Design"
    assert "members added: User 104#104" in text(result) and "members removed: User 102#102" in text(result)
    changes = result.structured_content["changes"]
    assert changes["users_added"] == [{"id": 104, "name": "User 104"}]


async def test_dry_run_and_no_op_send_no_write(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5, members=(101, 102))))
    async with connect(make_settings(), routes.transport()) as client:
        dry = await client.call_tool("update_group", {"group_id": 5, "remove_users": [101], "dry_run": True})
        same = await client.call_tool("update_group", {"group_id": 5, "add_users": [102], "name": "Design"})
    assert [r.method for r in routes.requests] == ["GET", "GET"]
    assert "Dry run" in text(dry) and "User 101#101" in text(dry) and dry.structured_content["written"] is False
    assert "No change" in text(same)


async def test_group_not_in_workspace_is_explained(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json())
    someone = {"id": 1, "name": "A", "email": "a@x", "workspaces": [{"id": WS, "name": "Main"}]}
    routes.add(
        "GET",
        "users",
        lambda request: httpx2.Response(200, json=[] if request.url.params["page"] != "1" else [someone]),
    )
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("update_group", {"group_id": 5, "name": "x"})
        explicit = await client.call_tool("update_group", {"group_id": 5, "name": "x", "workspace_id": WS})
    assert result.is_error and f"not visible in workspace {WS}" in text(result) and "list_teams" in text(result)
    assert f"not visible in workspace {WS}" in text(explicit)
    # the group's own workspace, then the snapshot (users, its one workspace's teams, roles) for the others;
    # with workspace_id, only that one
    paths = [r.url.path.rsplit("/", 1)[-1] for r in routes.requests]
    assert paths == ["teams", "users", "users", "teams", "roles", "teams"]


async def test_api_errors_reach_the_model_with_a_next_step(routes: Routes) -> None:
    import httpx2

    routes.add("GET", "teams", teams_json(group_json(gid=5)))
    routes.add("PUT", "groups/5", httpx2.Response(404, json={"error": "not_found", "error_description": "group gone"}))
    routes.add("GET", "roles", httpx2.Response(403, json={"error": "forbidden", "error_description": "no access"}))
    routes.add("GET", "users", httpx2.Response(401, text="Unauthorized"))
    async with connect(make_settings(), routes.transport()) as client:
        gone = text(await client.call_tool("update_group", {"group_id": 5, "name": "x"}))
        denied = text(await client.call_tool("list_roles", {}))
        unauth = text(await client.call_tool("list_users", {}))
    assert "HTTP 404" in gone and "group gone" in gone and "Call list_teams to find the group id" in gone
    assert "HTTP 403" in denied and f"lacks access to organization {ORG}" in denied
    assert "HTTP 401" in unauth and "TOGGL_FOCUS_API_KEY" in unauth and SECRET_KEY not in unauth


async def test_create_group_defaults_to_the_configured_workspace(routes: Routes) -> None:
    import httpx2

    routes.add("POST", "groups", httpx2.Response(201, json=group_json(gid=7, name="QA", members=())))
    routes.add("GET", "teams", teams_json(group_json(gid=3, name="QA Leads")))
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("create_group", {"name": "QA", "emoji": "🧪"})
    assert routes.query(0) == {"workspace_id": str(WS), "filter": "QA", "per_page": "100"}  # the name check
    assert routes.body() == {"name": "QA", "emoji": "🧪", "organization_users": [], "workspaces": [WS]}
    assert result.structured_content["group"]["id"] == 7


async def test_set_group_member_role(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5)))  # read under the turn: 101 has no Focus role
    routes.add("PUT", "groups/5/user_role", {"success": True})
    async with connect(make_settings(), routes.transport()) as client:
        kept = await client.call_tool(
            "set_group_member_role", {"group_id": 5, "organization_user_id": 101, "focus_role_id": None}
        )
        assert not kept.is_error and "No change needed" in text(kept) and routes.requests[-1].method == "GET"
        set_ = await client.call_tool(
            "set_group_member_role", {"group_id": 5, "organization_user_id": 101, "focus_role_id": 3}
        )
    assert not set_.is_error and set_.structured_content["outcome"] == "written", text(set_)
    assert routes.body() == {"focus_role_id": 3, "organization_user_id": 101, "workspace_id": WS}


async def test_delete_without_a_human_sends_no_delete_and_names_the_group_to_ask_about(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5)))
    routes.add("DELETE", "groups/5", {"success": True})
    async with connect(make_settings(), routes.transport()) as client:
        refused = await client.call_tool("delete_group", {"group_id": 5})
        assert refused.is_error and "Not deleted" in text(refused)
        assert "Ask them: delete Design#5 (Main), 2 members, 1 ghost?" in text(refused)
        assert f"call delete_group again with group_id=5, workspace_id={WS}, confirm=true." in text(refused)
        assert [r.method for r in routes.requests] == ["GET"]
        done = await client.call_tool("delete_group", {"group_id": 5, "confirm": True})
    assert not done.is_error
    sent = [(r.method, dict(r.url.params)) for r in routes.requests]
    read = ("GET", {"workspace_id": str(WS), "group_ids": "5"})
    assert sent == [read, read, ("DELETE", {"workspace_id": str(WS)})]  # the delete read it again, fresh


async def test_delete_without_a_human_of_a_group_not_visible_says_so_instead_of_asking(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json())
    async with connect(make_settings(), routes.transport()) as client:
        refused = await client.call_tool("delete_group", {"group_id": 5})
    assert refused.is_error and "group 5 is not visible in workspace" in text(refused)
    assert "Ask them" not in text(refused) and "DELETE" not in [r.method for r in routes.requests]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize(("action", "deletes"), [("accept", True), ("decline", False), ("cancel", False)])
async def test_delete_asks_the_user_when_the_client_can(
    routes: Routes, mode: str, action: Literal["accept", "decline", "cancel"], deletes: bool
) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5, members=(1, 2, 3))))
    routes.add("DELETE", "groups/5", {"success": True})
    asked: list[str] = []

    async def answer(ctx, params):  # type: ignore[no-untyped-def]
        asked.append(params.message)
        return types.ElicitResult(action=action, content={"confirm": True} if action == "accept" else None)

    async with connect(make_settings(), routes.transport(), elicitation_callback=answer, mode=mode) as client:
        result = await client.call_tool("delete_group", {"group_id": 5, "confirm": True})
    assert asked and "Design" in asked[0] and "3 members" in asked[0]
    assert ("DELETE" in [r.method for r in routes.requests]) is deletes
    assert result.structured_content["deleted"] is deletes


async def test_read_only_registers_no_write_tool(routes: Routes) -> None:
    async with connect(make_settings(read_only=True), routes.transport()) as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("delete_group", {"group_id": 5, "confirm": True})
    # Derived from the inventory (a new read tool needs no edit here): every read, no write.
    reads = {spec.name for spec in SPECS if not spec.writes}
    assert {t.name for t in tools} == reads and reads and len(reads) < len(SPECS)
    assert all(t.annotations is not None and t.annotations.read_only_hint for t in tools)
    assert result.is_error and routes.requests == []


async def test_create_group_without_any_workspace_says_which_argument_to_pass(routes: Routes) -> None:
    async with connect(make_settings(workspace_id=None), routes.transport()) as client:
        result = await client.call_tool("create_group", {"name": "QA"})
    assert result.is_error and "pass workspaces" in text(result) and routes.requests == []


async def test_concurrent_edits_of_one_group_keep_each_others_changes() -> None:
    # Agents make tool calls in parallel: "add Amir to Support" and "add Cleo's colleague to
    # Support" must not both merge onto the same read, the second write wiping the first.
    settings, api = sandbox_settings()
    support, added = 4500009, [4100021, 4100063, 4100070]
    gate = Gate(api.transport())
    async with connect(settings, gate) as client:
        results = []

        async def add(user: int) -> None:
            results.append(await client.call_tool("update_group", {"group_id": support, "add_users": [user]}))

        async with anyio.create_task_group() as tg:
            for user in added:
                tg.start_soon(add, user)
            await anyio.wait_all_tasks_blocked()  # every edit has started; the first holds the group
            gate.opened.set()
        after = await client.call_tool("list_teams", {"group_ids": [support], "fresh": True})
    assert not any(r.is_error for r in results), [text(r) for r in results]
    members = {m["id"] for m in after.structured_content["teams"][0]["members"]}
    assert set(added) <= members and len(members) == 11 + len(added)


async def test_keyed_locks_let_one_holder_per_key_and_forget_keys_no_one_holds() -> None:
    locks, events = KeyedLocks(), []
    release = anyio.Event()

    async def hold(key: int, name: str) -> None:
        async with locks.hold(key):
            events.append(f"{name}>")
            await release.wait()
            events.append(f"<{name}")

    async with anyio.create_task_group() as tg:
        for key, name in ((1, "a"), (1, "b"), (2, "c")):
            tg.start_soon(hold, key, name)
            await anyio.wait_all_tasks_blocked()
        assert events == ["a>", "c>"]  # b waits for a; c, another key, goes alongside
        release.set()
    assert events.index("<a") < events.index("b>")  # same key: one after the other
    async with locks.hold(1), anyio.create_task_group() as tg:  # a waiter cancelled while waiting
        tg.start_soon(hold, 1, "d")
        await anyio.wait_all_tasks_blocked()
        tg.cancel_scope.cancel()
    assert "d>" not in events and len(locks) == 0
