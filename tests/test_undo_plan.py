"""The undo planner (pure): the reverse of a journaled change against the group as it is now, keeping
what was changed since."""

from __future__ import annotations

from typing import Any

from conftest import WS, group_json
from helpers import make_change

from focus_mcp.api.models import Group
from focus_mcp.journal import Change
from focus_mcp.writes.undo_plan import plan_text, plan_undo


def change(**fields: Any) -> Change:
    """An edit that was written (pending ones are not undone)."""
    return make_change(**{"outcome": "written", "who": "abcd1234", **fields})


def body(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": group["name"],
        "emoji": group["emoji"],
        "organization_users": [u["organization_user_id"] for u in group["users"]],
        "workspaces": [w["workspace_id"] for w in group["workspaces"]],
    }


def group(**fields: Any) -> Group:
    data = group_json(5, fields.pop("name", "Design"), fields.pop("members", (101, 103)))
    data.update(fields)
    return Group.model_validate(data)


EDIT = change(request=body(group_json(5, "Design", (101, 103))))  # 103 in, 102 out


def test_an_edit_is_reversed_member_by_member() -> None:
    plan = plan_undo(EDIT, group())
    assert plan.action == "edit" and plan.edit is not None
    assert (plan.edit.remove_users, plan.edit.add_users) == ([103], [102])
    assert plan.edit.name is None and plan.edit.emoji is None and not plan.left_alone
    assert "remove User 103#103; add back User 102#102" in plan_text(plan, {103: "User 103", 102: "User 102"})


def test_a_member_put_back_gets_their_earlier_role() -> None:
    was = group_json(5, "Design", (101, 102))
    was["users"][1]["focus_role_id"] = 4
    plan = plan_undo(change(before=was, request=body(group_json(5, "Design", (101,)))), group(members=(101,)))
    assert plan.edit is not None and plan.edit.add_users == [102] and plan.roles == {102: 4}


def test_what_was_changed_since_is_kept() -> None:
    """Someone added 104 and removed 103 since: 104 stays, 103 is already gone, 102 comes back."""
    plan = plan_undo(EDIT, group(members=(101, 104)))
    assert plan.edit is not None
    assert (plan.edit.remove_users, plan.edit.add_users) == ([], [102])
    assert plan.left_alone == ["no longer members (removed since): #103"]


def test_a_rename_is_reverted_only_where_the_group_still_holds_it() -> None:
    renamed = change(request={**body(group_json(5, "Product", (101, 102))), "emoji": "🚀"})
    plan = plan_undo(renamed, group(name="Product", members=(101, 102), emoji="🚀"))
    assert plan.edit is not None and (plan.edit.name, plan.edit.emoji) == ("Design", "🎨")
    later = plan_undo(renamed, group(name="Product team", members=(101, 102), emoji="🚀"))
    assert later.edit is not None and (later.edit.name, later.edit.emoji) == (None, "🎨")
    assert later.left_alone == ["name 'Product team' left alone: changed since (this change set 'Product')"]


def test_nothing_left_to_undo_says_why() -> None:
    plan = plan_undo(EDIT, group(members=(101, 102)))
    assert plan.action == "none" and "nothing of change" in plan.why and "added back since" in plan.why


def test_workspaces_are_reversed_where_they_still_hold() -> None:
    moved = change(request={**body(group_json(5, "Design", (101, 102))), "workspaces": [WS, 77]})
    plan = plan_undo(moved, group(members=(101, 102), workspaces=[{"workspace_id": WS}, {"workspace_id": 77}]))
    assert plan.edit is not None and plan.edit.remove_workspaces == [77] and plan.edit.add_workspaces == []


def test_a_create_is_undone_by_deleting_the_group() -> None:
    made = change(tool="create_group", before=None, request=body(group_json(8, "Ops", (104,))), group_id=8)
    plan = plan_undo(made, Group.model_validate(group_json(8, "Ops", (104,))))
    assert (plan.action, plan.group_id, plan.workspace_id) == ("delete", 8, WS)
    assert plan_undo(made, None).action == "none"


def test_a_delete_is_undone_by_creating_it_again_with_roles_and_without_ghosts() -> None:
    was = group_json(5, "Design", (101, 102))
    was["users"][0]["focus_role_id"] = 7
    gone = change(tool="delete_group", before=was, request={"workspace_id": WS})
    plan = plan_undo(gone, None)
    assert plan.action == "create" and plan.body is not None
    assert plan.body.model_dump() == {
        "name": "Design",
        "emoji": "🎨",
        "organization_users": [101, 102],
        "workspaces": [WS],
    }
    assert plan.roles == {101: 7, 102: None} and plan.not_recreated == ["ghost Placeholder#9"]  # none: cleared if given
    assert plan_undo(gone, group()).action == "none"  # visible again: not a second one


def test_a_role_change_is_undone_only_while_the_role_holds() -> None:
    was = group_json(5, "Design", (101, 102))
    was["users"][0]["focus_role_id"] = 3
    role = change(
        tool="set_group_member_role",
        before=was,
        request={"focus_role_id": 7, "organization_user_id": 101, "workspace_id": WS},
    )
    now_group = group_json(5, "Design", (101, 102))
    now_group["users"][0]["focus_role_id"] = 7
    plan = plan_undo(role, Group.model_validate(now_group))
    assert (plan.action, plan.user, plan.role_id) == ("role", 101, 3)
    now_group["users"][0]["focus_role_id"] = 9
    later = plan_undo(role, Group.model_validate(now_group))
    assert later.action == "none" and "role 9 now, changed since" in later.why


def test_changes_that_cannot_be_undone_say_so() -> None:
    assert "not written" in plan_undo(EDIT.model_copy(update={"outcome": "not_written"}), group()).why
    assert "still unknown" in plan_undo(EDIT.model_copy(update={"outcome": "unknown"}), group()).why
    done = plan_undo(EDIT.model_copy(update={"undone_by": "zzzz2222"}), group())
    assert done.action == "none" and "'zzzz2222'" in done.why


def test_an_undo_is_undone_like_any_change() -> None:
    """The undo of the edit, journaled: its own before and request; undoing it redoes the edit."""
    undo = change(
        tool="undo_change",
        undoes=EDIT.id,
        before=group_json(5, "Design", (101, 103)),
        request=body(group_json(5, "Design", (101, 102))),
    )
    plan = plan_undo(undo, Group.model_validate(group_json(5, "Design", (101, 102))))
    assert plan.edit is not None and (plan.edit.add_users, plan.edit.remove_users) == ([103], [102])
