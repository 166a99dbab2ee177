"""undo_change through the real protocol, against the sandbox: each kind of change taken back, what
was changed since kept, undo of an undo, dry run, confirmation, read-only."""

from __future__ import annotations

import mcp_types as types
import pytest
from helpers import call, connect, outside, sandbox_settings, text, writes

from focus_mcp.sandbox import SandboxAPI

pytestmark = pytest.mark.anyio

SUPPORT = 4500009  # workspace 4300001; the owner 4100001 is a member with Focus role 4; two ghosts
DESIGN = 4500001  # workspaces 4300001 and 4300003


def members(api: SandboxAPI, gid: int) -> list[int]:
    return list(api.groups[gid].users)


async def test_an_edit_is_listed_and_undone_exactly() -> None:
    settings, api = sandbox_settings()
    was = members(api, SUPPORT)
    new, gone = outside(api, SUPPORT)[0], was[1]
    async with connect(settings, api.transport()) as client:
        edit = await call(client, "update_group", {"group_id": SUPPORT, "add_users": [new], "remove_users": [gone]})
        change_id = edit.structured_content["change_id"]
        listed = await call(client, "list_changes", {})
        assert change_id in text(listed) and f"added {api.users[new].name}#{new}" in text(listed)
        undone = await call(client, "undo_change", {"change_id": change_id})
        assert sorted(members(api, SUPPORT)) == sorted(was)
        assert undone.structured_content["outcome"] == "written" and undone.structured_content["action"] == "edit"
        after = await call(client, "list_changes", {})
    undo_id = undone.structured_content["change_id"]
    assert f"UNDONE by {undo_id}" in text(after) and f"undoes {change_id}" in text(after)


async def test_an_edit_made_since_directly_in_the_api_is_kept() -> None:
    settings, api = sandbox_settings()
    ours, theirs = outside(api, SUPPORT)[:2]
    async with connect(settings, api.transport()) as client:
        edit = await call(client, "update_group", {"group_id": SUPPORT, "add_users": [ours], "name": "Support desk"})
        group = api.groups[SUPPORT]  # another admin, in the Toggl app: adds a member, renames again
        api.update_group(
            SUPPORT,
            {
                "name": "Helpdesk",
                "emoji": group.emoji,
                "organization_users": [*group.users, theirs],
                "workspaces": group.workspaces,
            },
        )
        undone = await call(client, "undo_change", {"change_id": edit.structured_content["change_id"]})
    assert ours not in members(api, SUPPORT) and theirs in members(api, SUPPORT)
    assert api.groups[SUPPORT].name == "Helpdesk"
    assert "left alone" in text(undone) and "Helpdesk" in text(undone)
    assert undone.structured_content["left_alone"]


async def test_undo_of_a_create_deletes_the_group_after_a_yes() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        made = await call(client, "create_group", {"name": "Night shift", "organization_users": [4100002]})
        gid = made.structured_content["group"]["id"]
        change_id = made.structured_content["change_id"]
        refused = await client.call_tool("undo_change", {"change_id": change_id})
        assert refused.is_error and gid in api.groups
        assert f"Ask them: delete Night shift#{gid} (Brightwave HQ), 1 member, 0 ghosts?" in text(refused)
        assert f'call undo_change again with change_id="{change_id}", confirm=true.' in text(refused)
        await call(client, "undo_change", {"change_id": made.structured_content["change_id"], "confirm": True})
    assert gid not in api.groups
    assert ("DELETE", f"/api/organizations/4200001/groups/{gid}?workspace_id=4300001") in api.requests


async def test_undo_of_a_create_asks_the_user_when_the_client_can() -> None:
    settings, api = sandbox_settings()
    asked: list[str] = []

    async def say_yes(ctx, params):  # type: ignore[no-untyped-def]
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with connect(settings, api.transport(), elicitation_callback=say_yes) as client:
        made = await call(client, "create_group", {"name": "Night shift"})
        gid = made.structured_content["group"]["id"]
        await call(client, "undo_change", {"change_id": made.structured_content["change_id"]})
        again = await call(client, "undo_change", {"change_id": made.structured_content["change_id"]})
    assert len(asked) == 1 and "Night shift" in asked[0] and gid not in api.groups  # no question about nothing
    assert "already undone" in text(again)


async def test_a_declined_undo_of_a_create_deletes_nothing() -> None:
    settings, api = sandbox_settings()

    async def say_no(ctx, params):  # type: ignore[no-untyped-def]
        return types.ElicitResult(action="decline")

    async with connect(settings, api.transport(), elicitation_callback=say_no) as client:
        made = await call(client, "create_group", {"name": "Night shift"})
        gid = made.structured_content["group"]["id"]
        said = await call(client, "undo_change", {"change_id": made.structured_content["change_id"]})
    assert gid in api.groups and "declined" in text(said) and said.structured_content["outcome"] == "not_written"


async def test_undo_of_a_delete_creates_the_group_again_and_says_the_new_id() -> None:
    settings, api = sandbox_settings()
    old = api.groups[DESIGN]
    was = (old.name, old.emoji, sorted(old.users), sorted(old.workspaces), {u: r for u, r in old.roles.items() if r})
    async with connect(settings, api.transport()) as client:
        deleted = await call(client, "delete_group", {"group_id": DESIGN, "confirm": True})
        undone = await call(client, "undo_change", {"change_id": deleted.structured_content["change_id"]})
    new = api.groups[undone.structured_content["group_id"]]
    assert new.id != DESIGN and f"new id is {new.id}" in text(undone)
    roles = {u: r for u, r in new.roles.items() if r}
    assert (new.name, new.emoji, sorted(new.users), sorted(new.workspaces), roles) == was
    assert undone.structured_content["not_recreated"] == ["ghost Future senior designer#4600001"]


async def test_undo_of_a_role_change_sets_the_earlier_role() -> None:
    settings, api = sandbox_settings()
    owner = 4100001
    earlier = api.groups[SUPPORT].roles[owner]
    async with connect(settings, api.transport()) as client:
        role = await call(
            client, "set_group_member_role", {"group_id": SUPPORT, "organization_user_id": owner, "focus_role_id": 5}
        )
        assert api.groups[SUPPORT].roles[owner] == 5
        await call(client, "undo_change", {"change_id": role.structured_content["change_id"]})
    assert api.groups[SUPPORT].roles[owner] == earlier


async def test_a_member_put_back_gets_their_focus_role_again() -> None:
    settings, api = sandbox_settings()
    owner = 4100001
    earlier = api.groups[SUPPORT].roles[owner]
    async with connect(settings, api.transport()) as client:
        edit = await call(client, "update_group", {"group_id": SUPPORT, "remove_users": [owner]})
        undone = await call(client, "undo_change", {"change_id": edit.structured_content["change_id"]})
    assert owner in members(api, SUPPORT) and earlier and api.groups[SUPPORT].roles[owner] == earlier
    assert "Ines Romero#4100001 now has role Team manager#4 in group" in text(undone)  # each role named


async def test_undoing_an_undo_redoes_and_an_undone_change_is_not_undone_twice() -> None:
    settings, api = sandbox_settings()
    new = outside(api, SUPPORT)[0]
    async with connect(settings, api.transport()) as client:
        edit = await call(client, "update_group", {"group_id": SUPPORT, "add_users": [new]})
        undo = await call(client, "undo_change", {"change_id": edit.structured_content["change_id"]})
        assert new not in members(api, SUPPORT)
        again = await call(client, "undo_change", {"change_id": edit.structured_content["change_id"]})
        assert "already undone" in text(again) and again.structured_content["action"] == "none"
        await call(client, "undo_change", {"change_id": undo.structured_content["change_id"]})
    assert new in members(api, SUPPORT)


async def test_a_dry_run_shows_the_plan_and_writes_nothing() -> None:
    settings, api = sandbox_settings()
    new = outside(api, SUPPORT)[0]
    async with connect(settings, api.transport()) as client:
        edit = await call(client, "update_group", {"group_id": SUPPORT, "add_users": [new]})
        sent = len(api.requests)
        plan = await call(client, "undo_change", {"change_id": edit.structured_content["change_id"], "dry_run": True})
        # one read of the group, no write: the access check (this key reads the organization) is answered by
        # the roles listing the edit read for its role names, cached
        assert len(api.requests) == sent + 1 and api.requests[sent][0] == "GET"
        assert any(path.endswith("/roles") for _, path in api.requests[:sent])
        made = await call(client, "create_group", {"name": "Night shift"})
        before = len(writes(api))
        plan_delete = await call(
            client, "undo_change", {"change_id": made.structured_content["change_id"], "dry_run": True}
        )
    assert "Dry run, nothing written" in text(plan) and f"remove {api.users[new].name}#{new}" in text(plan)
    assert new in members(api, SUPPORT)
    assert len(writes(api)) == before and "delete group" in text(plan_delete)


async def test_a_change_not_written_has_nothing_to_undo() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        refused = await client.call_tool(
            "set_group_member_role", {"group_id": SUPPORT, "organization_user_id": 4100001, "focus_role_id": 99}
        )
        listed = await call(client, "list_changes", {})
        change_id = listed.structured_content["changes"][0]["id"]
        said = await call(client, "undo_change", {"change_id": change_id})
        unknown = await client.call_tool("undo_change", {"change_id": "nosuch22"})
    assert refused.is_error and "not written" in text(said) and said.structured_content["outcome"] == "not_written"
    assert unknown.is_error and "list_changes" in text(unknown)


async def test_read_only_has_no_undo_change() -> None:
    settings, api = sandbox_settings(read_only=True)
    async with connect(settings, api.transport()) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
    assert "list_changes" in tools and "undo_change" not in tools


async def test_undoing_a_delete_the_hours_quota_cannot_finish_sends_nothing() -> None:
    settings, api = sandbox_settings()
    most = len(api.groups[DESIGN].users)  # a role step each member, unless the re-create's answer shows it
    async with connect(settings, api.transport()) as client:
        deleted = await call(client, "delete_group", {"group_id": DESIGN, "confirm": True})
        api.quota_left = most + 5  # the create, each role and the reserve need one more than this
        await call(client, "list_roles", {"fresh": True})  # the server learns the quota from an answer
        sent = len(writes(api))
        refused = await client.call_tool("undo_change", {"change_id": deleted.structured_content["change_id"]})
    assert refused.is_error and f"Not undone: this change takes at most {1 + most} requests" in text(refused)
    assert f"(1 create, {most} members' roles)" in text(refused)
    assert "Nothing was sent" in text(refused) and len(writes(api)) == sent and DESIGN not in api.groups
