"""undo_change against the loopback API that holds and drops requests: a change of unknown outcome is
settled by a read before it is undone (or the undo is refused), and an undo whose answer is lost is
settled like any write, never sent twice."""

from __future__ import annotations

import pytest
from faulty_api import SECURITY, FaultyAPI, served
from helpers import text

pytestmark = pytest.mark.anyio


def outsider(api: FaultyAPI) -> int:
    return next(u for u in api.sandbox.users if u not in api.sandbox.groups[SECURITY].users)


async def test_a_change_of_unknown_outcome_is_undone_only_once_a_read_shows_it() -> None:
    async with served(write_timeout=0.2) as (api, client):
        x = outsider(api)
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        edit = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        assert edit.structured_content["outcome"] == "unknown", text(edit)
        change_id = edit.structured_content["change_id"]
        refused = await client.call_tool("undo_change", {"change_id": change_id})
        assert refused.is_error and "still out" in text(refused) and api.count("PUT") == 1
        held.release.set()
        await held.done.wait()  # the late PUT lands now
        undone = await client.call_tool("undo_change", {"change_id": change_id})
        assert not undone.is_error and undone.structured_content["outcome"] == "written", text(undone)
    assert x not in api.sandbox.groups[SECURITY].users and api.count("PUT") == 2


async def test_an_undo_whose_answer_is_lost_is_settled_by_a_read_and_not_sent_again() -> None:
    async with served() as (api, client):
        x = outsider(api)
        edit = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        api.fault("PUT", f"groups/{SECURITY}", "apply_then_drop")
        undone = await client.call_tool("undo_change", {"change_id": edit.structured_content["change_id"]})
        assert undone.structured_content["outcome"] == "written", text(undone)
        assert "answer was lost" in text(undone)
        listed = await client.call_tool("list_changes", {})
    assert x not in api.sandbox.groups[SECURITY].users and api.count("PUT") == 2
    assert f"UNDONE by {undone.structured_content['change_id']}" in text(listed)


async def test_an_undo_of_unknown_outcome_seen_later_marks_its_change_undone() -> None:
    async with served(write_timeout=0.2) as (api, client):
        x = outsider(api)
        edit = await client.call_tool("update_group", {"group_id": SECURITY, "add_users": [x]})
        held = api.fault("PUT", f"groups/{SECURITY}", "hold")
        undone = await client.call_tool("undo_change", {"change_id": edit.structured_content["change_id"]})
        assert undone.structured_content["outcome"] == "unknown", text(undone)
        held.release.set()
        await held.done.wait()  # the undo lands late
        before = text(await client.call_tool("list_changes", {}))
        again = await client.call_tool("update_group", {"group_id": SECURITY, "name": "Security team"})
        assert not again.is_error, text(again)  # its fresh read settled the undo: written
        listed = text(await client.call_tool("list_changes", {}))
    assert "UNDONE" not in before and f"UNDONE by {undone.structured_content['change_id']}" in listed
    assert x not in api.sandbox.groups[SECURITY].users


async def test_a_role_of_an_undone_delete_seen_later_leaves_the_change_undone_by_the_create() -> None:
    """Undoing a delete is one change: a create and a PUT of each member's role, one journal entry; the
    create written marks the delete undone at once, even while a role PUT is unknown (the answer names
    it). The role seen landed later settles the undo's entry, which stays the delete's undo."""
    async with served(write_timeout=0.2) as (api, client):
        design = next(g for g in api.sandbox.groups.values() if g.name == "Design")
        assert any(design.roles.values())
        deleted = await client.call_tool(
            "delete_group", {"group_id": design.id, "workspace_id": 4300001, "confirm": True}
        )
        assert not deleted.is_error, text(deleted)
        held = api.fault("PUT", "user_role", "hold")
        undone = await client.call_tool("undo_change", {"change_id": deleted.structured_content["change_id"]})
        assert undone.structured_content["outcome"] == "unknown", text(undone)
        assert "Outcome unknown" in text(undone) and "unknown: set " in text(undone), text(undone)
        held.release.set()
        await held.done.wait()  # the role lands late
        again = await client.call_tool(
            "update_group", {"group_id": undone.structured_content["group_id"], "emoji": "x"}
        )
        assert not again.is_error, text(again)  # its fresh read settled the role: written
        listed = text(await client.call_tool("list_changes", {}))
    assert f"UNDONE by {undone.structured_content['change_id']}" in listed, listed


async def test_a_retried_undo_sets_the_roles_a_recreate_landed_late_did_not_send() -> None:
    """The re-create's answer is lost, so its role steps are not sent; it lands later. A retried undo
    (its read under the turn settles the re-create written) sets those roles on the group it made,
    against the group as read now, instead of saying "already undone"; retried once more, nothing is left."""
    async with served(write_timeout=0.2) as (api, client):
        was, team = dict(api.sandbox.groups[SECURITY].roles), api.sandbox.groups[SECURITY].name
        deleted = await client.call_tool("delete_group", {"group_id": SECURITY, "confirm": True})
        assert not deleted.is_error, text(deleted)
        change_id = deleted.structured_content["change_id"]
        held = api.fault("POST", "groups", "hold")
        undone = await client.call_tool("undo_change", {"change_id": change_id})
        assert undone.structured_content["outcome"] == "unknown", text(undone)
        assert api.count("PUT", "user_role") == 0
        held.release.set()
        await held.done.wait()  # the re-create lands late, every member without a role
        made = next(g for g in api.sandbox.groups.values() if g.name == team)
        assert not any(made.roles.values())
        dry = await client.call_tool("undo_change", {"change_id": change_id, "dry_run": True})  # settles nothing
        assert f"change {undone.structured_content['change_id']}, an undo of it" in text(dry), text(dry)
        assert "is still out" in text(dry) and "exists now" not in text(dry), text(dry)
        again = await client.call_tool("undo_change", {"change_id": change_id})  # its read settles the create
        assert not again.is_error and again.structured_content["outcome"] == "written", text(again)
        assert "roles it had not sent are set now" in text(again), text(again)
        once_more = await client.call_tool("undo_change", {"change_id": change_id})
    assert made.roles == was and api.count("PUT", "user_role") == len(was)
    assert api.count("POST", "groups") == 1
    assert "already undone" in text(once_more), text(once_more)


async def test_roles_not_sent_after_a_refused_recreate_name_their_members() -> None:
    async with served() as (api, client):
        members = list(api.sandbox.groups[SECURITY].users)
        deleted = await client.call_tool("delete_group", {"group_id": SECURITY, "confirm": True})
        api.fault("POST", "groups", "api_503")
        undone = await client.call_tool("undo_change", {"change_id": deleted.structured_content["change_id"]})
    said = text(undone)
    assert undone.structured_content["outcome"] == "not_written", said
    for user in members:
        assert f"set {api.sandbox.users[user].name}#{user}'s Focus role" in said, said
        assert f"user {user}" not in said, said
