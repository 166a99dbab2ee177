"""An undo's dry run names what it would do as the undo itself would: roles by name (the dry run of a
role's undo said "role of X #5 to #6 ... back to role 5"), and group names escaped and bounded."""

from __future__ import annotations

import pytest
from faulty_api import WS, served
from helpers import text

from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio

ROLE_NAMES = {role[0]: role[1] for role in seed.ROLES}
TEAM_VIEWER = next(rid for rid, role_name in ROLE_NAMES.items() if role_name == "Team viewer")


async def test_the_dry_run_of_a_role_undo_names_the_roles() -> None:
    async with served() as (api, client):
        group = next(g for g in api.sandbox.groups.values() if WS in g.workspaces and len(g.users) > 1)
        member = next(u for u in group.users if group.roles.get(u) != TEAM_VIEWER)
        had = group.roles.get(member)
        was = f"role {ROLE_NAMES[had]}#{had}" if had else "no Focus role"
        set_role = {"group_id": group.id, "organization_user_id": member, "focus_role_id": TEAM_VIEWER}
        done = await client.call_tool("set_group_member_role", set_role)
        assert not done.is_error, text(done)
        change_id = done.structured_content["change_id"]
        planned = await client.call_tool("undo_change", {"change_id": change_id, "dry_run": True})
    said = text(planned)
    assert "Dry run, nothing written" in said and f"to Team viewer#{TEAM_VIEWER}" in said, said
    assert f"back to {was}" in said, said
