"""Undoing a delete gives the members their roles back with no request the re-create's answer makes
needless: a role the answer already shows is not sent, a role the API gave that the deleted group did
not have is cleared (focus_role_id null), and the dry run and the quota check count at most what is sent."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import call, connect, sandbox_settings, text, writes

from focus_mcp.sandbox import SandboxAPI

pytestmark = pytest.mark.anyio

DESIGN = 4500001  # 10 members, each with a Focus role (Team manager#4 or Member#5)
MEMBER = 5


def give_new_members(api: SandboxAPI, role: int) -> None:
    """The stand-in's create answers with every member holding `role` (as an API may give re-added
    members a default role)."""
    create = api.create_group

    def create_with_roles(body: dict[str, Any]) -> dict[str, Any]:
        made = create(body)
        group = api.groups[made["id"]]
        group.roles = dict.fromkeys(group.users, role)
        return {**made, "users": [{**u, "focus_role_id": role} for u in made["users"]]}

    api.create_group = create_with_roles  # type: ignore[method-assign]


async def test_roles_the_recreate_already_shows_are_not_sent_and_roles_it_gave_are_cleared() -> None:
    settings, api = sandbox_settings()
    group = api.groups[DESIGN]
    had_none = group.users[:2]
    for user in had_none:
        group.roles[user] = None
    was = dict(group.roles)
    differ = [u for u, r in was.items() if r != MEMBER]  # no role, or Team manager: one PUT each
    give_new_members(api, MEMBER)
    async with connect(settings, api.transport()) as client:
        deleted = await call(client, "delete_group", {"group_id": DESIGN, "confirm": True})
        change_id = deleted.structured_content["change_id"]
        dry = await call(client, "undo_change", {"change_id": change_id, "dry_run": True})
        sent = len(writes(api))
        undone = await call(client, "undo_change", {"change_id": change_id})
    assert f"at most {1 + len(was)} requests" in text(dry)
    new = api.groups[undone.structured_content["group_id"]]
    assert new.roles == was  # the two with no role have none again
    assert len(writes(api)) - sent == 1 + len(differ)  # the POST, then only the roles it did not show
    assert undone.structured_content["outcome"] == "written"
    for user in had_none:
        assert f"{api.users[user].name}#{user} no Focus role" in text(undone)


async def test_an_undo_of_a_delete_whose_answer_shows_every_role_sends_only_the_create() -> None:
    settings, api = sandbox_settings()
    group = api.groups[DESIGN]
    for user in group.users:
        group.roles[user] = MEMBER
    give_new_members(api, MEMBER)
    async with connect(settings, api.transport()) as client:
        deleted = await call(client, "delete_group", {"group_id": DESIGN, "confirm": True})
        sent = len(writes(api))
        undone = await call(client, "undo_change", {"change_id": deleted.structured_content["change_id"]})
    assert len(writes(api)) - sent == 1 and writes(api)[-1][0] == "POST"
    assert api.groups[undone.structured_content["group_id"]].roles == dict.fromkeys(group.users, MEMBER)
    assert "Not written" not in text(undone) and undone.structured_content["outcome"] == "written"
