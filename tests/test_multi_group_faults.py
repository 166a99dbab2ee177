"""A change over several groups with one group's write refused by the API (its own JSON 503), through
the real protocol against the loopback stand-in: the answer names roles (never role#N) in the group
as read after the failure, and the journal says which group each step was for."""

from __future__ import annotations

import pytest
from faulty_api import WS, FaultyAPI, served
from helpers import text

pytestmark = pytest.mark.anyio


def two_groups_and_an_outsider(api: FaultyAPI) -> tuple[int, int, int]:
    """Two groups of the workspace whose members have Focus roles, and someone in neither."""
    groups = [g.id for g in api.sandbox.groups.values() if WS in g.workspaces and any(g.roles.get(u) for u in g.users)][
        :2
    ]
    assert len(groups) == 2, "the sandbox has two groups with roles in the workspace"
    members = {u for gid in groups for u in api.sandbox.groups[gid].users}
    return groups[0], groups[1], next(u for u in api.sandbox.users if u not in members)


async def test_a_group_refused_mid_change_is_shown_with_its_members_roles_named() -> None:
    async with served() as (api, client):
        first, refused, person = two_groups_and_an_outsider(api)
        api.fault("PUT", f"groups/{refused}", "api_503")
        done = await client.call_tool("update_user_groups", {"user": person, "add_to": [first, refused]})
    said = text(done)
    assert "the group now:" in said and "role#" not in said, said
    assert person in api.sandbox.groups[first].users and person not in api.sandbox.groups[refused].users


async def test_the_journal_names_the_group_of_each_step_of_a_change_over_several_groups() -> None:
    async with served() as (api, client):
        first, refused, person = two_groups_and_an_outsider(api)
        api.fault("PUT", f"groups/{refused}", "api_503")
        await client.call_tool("update_user_groups", {"user": person, "add_to": [first, refused]})
        listed = await client.call_tool("list_changes", {"limit": 1})
    did = listed.structured_content["changes"][0]["did"]
    name = api.sandbox.groups[refused].name
    assert f"in {name}#{refused}: added" in did and "(not written)" in did, did


async def test_all_given_in_a_list_is_refused_with_how_to_say_every_group() -> None:
    async with served() as (api, client):
        _, _, person = two_groups_and_an_outsider(api)
        refused = await client.call_tool("update_user_groups", {"user": person, "remove_from": ["all"]})
    said = text(refused)
    assert refused.is_error and 'give remove_from "all" itself, not in a list' in said, said
    assert [m for m, _ in api.seen if m != "GET"] == []


async def test_a_member_added_in_a_step_not_written_is_named_not_only_numbered() -> None:
    async with served() as (api, client):
        first, refused, person = two_groups_and_an_outsider(api)
        api.fault("PUT", f"groups/{refused}", "api_503")
        done = await client.call_tool("update_user_groups", {"user": person, "add_to": [first, refused]})
    said, who = text(done), api.sandbox.users[person].name
    assert f"Not written (members added: {who}#{person} in " in said, said
    assert f"members added: #{person}" not in said, said
