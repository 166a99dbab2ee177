"""Toggl's spec checks the wire: the tools' requests and the sandbox's answers, success and error.

Besides this file, conftest.py checks every request that any test's tools send through a mock
route table, and every exchange with an in-process sandbox, and fails the test on a violation.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from conformance import Conformance, response_problems
from helpers import connect, sandbox_settings

from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio
ORG, WS, SECURITY = seed.ORGANIZATION_ID, 4300004, 4500008

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_users", {"per_page": 20}),
    ("list_users", {"per_page": 5, "include_rates": True, "include_working_hours": True, "has_group": False}),
    ("list_users", {"status": ["locked"]}),
    ("list_teams", {"all_workspaces": True}),
    ("list_teams", {"workspace_id": WS, "group_ids": [SECURITY], "active_members_only": True}),
    ("list_roles", {}),
    ("list_member_tags", {}),
    ("list_my_groups", {}),
    ("create_group", {"name": "Night Shift", "workspaces": [WS]}),
    ("update_group", {"group_id": SECURITY, "workspace_id": WS, "add_users": [4100021], "name": "Sec"}),
    ("set_group_member_role", {"group_id": SECURITY, "workspace_id": WS, "organization_user_id": 4100021,
                               "focus_role_id": 4}),
    ("set_group_member_role", {"group_id": SECURITY, "workspace_id": WS, "organization_user_id": 4100099,
                               "focus_role_id": 4}),  # 404: not a member
    ("list_roles", {"organization_id": 1, "fresh": True}),  # 403
    ("list_users", {"workspaces": [WS], "fields": ["custom_fields", "rate", "working_hours"]}),
    ("delete_group", {"group_id": 4500019, "confirm": True}),
    ("delete_group", {"group_id": 4500019, "workspace_id": 4300001, "confirm": True}),  # 404: gone
]  # fmt: skip


async def test_every_tool_request_and_sandbox_answer_follows_the_spec() -> None:
    settings, api = sandbox_settings()
    wire = Conformance(api.transport())
    async with connect(settings, wire) as client:
        for tool, arguments in CALLS:
            await client.call_tool(tool, arguments)
    assert wire.exchanges >= len(CALLS) and wire.problems == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PUT", f"groups/{SECURITY}", {"name": "x"}, 400),
        ("POST", "groups", {"name": "", "emoji": "", "organization_users": [], "workspaces": [WS]}, 400),
        ("PUT", "groups/999", {"name": "x", "emoji": "", "organization_users": [], "workspaces": [WS]}, 404),
        ("GET", "teams", None, 400),
    ],
)
@pytest.mark.off_spec  # the requests break the spec on purpose; the answers must not
async def test_sandbox_error_answers_follow_the_spec(method: str, path: str, body: object, status: int) -> None:
    async with httpx2.AsyncClient(transport=SandboxAPI().transport(), headers={"Authorization": "Bearer k"}) as c:
        response = await c.request(method, f"http://sandbox.focus.invalid/api/organizations/{ORG}/{path}", json=body)
    assert response.status_code == status
    assert response_problems(response.request, response, response.content) == []


async def test_the_check_fails_on_an_answer_that_breaks_the_spec() -> None:
    """A sandbox users page with one field of the wrong type, and one null where a value is required."""
    async with httpx2.AsyncClient(transport=SandboxAPI().transport(), headers={"Authorization": "Bearer k"}) as c:
        page = await c.get(f"http://sandbox.focus.invalid/api/organizations/{ORG}/users", params={"per_page": 2})
    users = page.json()
    users[0]["2fa_enabled"], users[1]["working_hours"] = "yes", None
    broken = httpx2.Response(200, json=users)
    problems = response_problems(page.request, broken, json.dumps(users).encode())
    assert problems and "0.2fa_enabled" in problems[0] and "1.working_hours" in problems[0]
