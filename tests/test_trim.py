"""What the model reads: compact text with every fact, paging notes, all_pages, detail, the budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from conftest import ORG, Routes, group_json, make_settings
from helpers import connect, sandbox_settings, text

from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio


def user_json(n: int, **extra: object) -> dict[str, Any]:
    user = {
        "id": 1000 + n, "name": f"Person {n}", "email": f"p{n}@x.example", "user_id": f"u{n}",
        "user_account_id": 5000 + n, "organization_id": ORG, "owner": n == 0, "admin": n < 3, "active": n % 7 != 0,
        "joined": n % 11 != 0, "invite_sent": n % 11 == 0, "2fa_enabled": n % 2 == 0, "account_locked_at": None,
        "can_edit_personal_details": True, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
        "deleted_at": None, "permissions": {"a": True, "b": False}, "rate": None, "working_hours": None,
        "groups": [{"id": 7, "name": "Design", "emoji": "🎨", "workspace_ids": [22]}] if n % 3 else [],
        "workspaces": [{"id": 22, "name": "Main", "workspace_user_id": n, "focus_role_id": 5, "track_role_id": 5,
                        "work_role_id": 5, "toggl_products": ["focus"], "groups": []}],
        "tags": [{"id": 3, "label": "Remote", "color": "#fff"}] if n % 4 == 0 else [],
    }  # fmt: skip
    user.update(extra)
    return user


def paged_users(total: int) -> Callable[[httpx2.Request], httpx2.Response]:
    """A users endpoint over `total` users that pages like the API."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params.get("page", 1))
        per_page = min(int(request.url.params.get("per_page", 50)), 100)
        start = (page - 1) * per_page
        return httpx2.Response(200, json=[user_json(n) for n in range(start, min(total, start + per_page))])

    return handler


async def test_user_text_keeps_every_fact_in_a_fraction_of_the_bytes(routes: Routes) -> None:
    users = [user_json(n) for n in range(40)]
    routes.add("GET", "users", users)
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"per_page": 100})
        emails = text(await client.call_tool("list_users", {"per_page": 100, "fields": ["email"]}))
    shown = text(result)
    assert len(shown.encode()) <= 0.3 * len(json.dumps(users).encode())
    assert "<" not in shown and all(f"{u['id']} {u['name']} <{u['email']}>" in emails for u in users)
    for user in users:
        line = next(line for line in shown.splitlines() if line.startswith(f"{user['id']} "))
        assert user["name"] in line
        assert ("admin" in line.split("|")[0]) == user["admin"] and ("2fa" in line) == user["2fa_enabled"]
        assert ("inactive" in line) == (not user["active"]) and ("not-joined" in line) == (not user["joined"])
        assert ("teams Design" in line) == bool(user["groups"]) and "ws Main" in line
    assert "Design=7" in shown and "Main=22" in shown and "Remote=3" in shown  # ids stated once
    assert "created_at" not in shown and "null" not in shown
    assert len(result.structured_content["users"]) == 40


async def test_a_name_that_several_ids_share_keeps_its_id_on_every_line(routes: Routes) -> None:
    # Two teams called "Design" and a team with no name: a name alone would not say which team.
    design_a, design_b = {"id": 7, "name": "Design"}, {"id": 8, "name": "Design"}
    users = [
        user_json(1, groups=[design_a, {"id": 9, "name": "Ops"}]),
        user_json(2, groups=[design_b, {"id": 10, "name": ""}]),
        user_json(4, groups=[{"id": 9, "name": "Ops"}]),
    ]
    routes.add("GET", "users", users)
    async with connect(make_settings(), routes.transport()) as client:
        shown = text(await client.call_tool("list_users", {"per_page": 100}))
    lines = {line.split(" ", 1)[0]: line for line in shown.splitlines()}
    assert "Ids: teams =10, Design=7, Design=8, Ops=9 | ws Main=22 | tags Remote=3" in shown
    assert "| teams Design#7, Ops |" in lines["1001"]
    assert "| teams Design#8, #10 |" in lines["1002"]
    assert "| teams Ops |" in lines["1004"]


async def test_team_text_keeps_members_ghosts_workspaces(routes: Routes) -> None:
    groups = [group_json(gid=g, name=f"Team {g}", members=(101, 102, 103 + g)) for g in range(1, 6)]
    routes.add("GET", "teams", {"data": groups, "page": 1, "rows": 5, "total": 5})
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    shown = text(result)
    assert len(shown.encode()) <= 0.3 * len(json.dumps({"data": groups}).encode())
    assert "5 teams in workspace Main#22." in shown and len(routes.requests) == 1
    for g in groups:
        assert f"User {103 + g['id']}#{103 + g['id']}" in shown
    assert shown.count("Placeholder#9") == 5 and shown.count("ws Main |") == 5 and "Ids: ws Main=22" in shown


async def test_role_text_is_at_most_half(routes: Routes) -> None:
    roles = [seed.role_json(r) for r in seed.ROLES]
    routes.add("GET", "roles", roles)
    async with connect(make_settings(), routes.transport()) as client:
        shown = text(await client.call_tool("list_roles", {}))
    assert len(shown.encode()) <= 0.5 * len(json.dumps(roles).encode())
    for role in roles:
        assert all(p["name"] in shown for p in role["permissions"]) and f"level {role['privilege_level']}" in shown


def org_routes(routes: Routes, users: Any) -> Routes:
    """The reads of the organization snapshot: users as given, workspace 22's teams (none), the roles."""
    routes.add("GET", "users", users)
    routes.add("GET", "teams", {"data": [], "page": 1, "rows": 0, "total": 0})
    routes.add("GET", "roles", [])
    return routes


def users_reads(routes: Routes) -> list[httpx2.Request]:
    return [r for r in routes.requests if r.url.path.endswith("/users")]


async def test_the_snapshot_reads_230_users_in_exactly_3_requests_with_progress(routes: Routes) -> None:
    org_routes(routes, paged_users(230))
    reported: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"all_pages": True}, progress_callback=on_progress)
    pages = users_reads(routes)
    assert [r.url.params["page"] for r in pages] == ["1", "2", "3"]
    assert all(r.url.params["per_page"] == "100" for r in pages)
    assert len(result.structured_content["users"]) == 230
    assert "230 users (of 230 members, every one checked); complete." in text(result)
    assert reported == [100, 200, 230]


async def test_max_items_bounds_the_lines_shown_never_the_count(routes: Routes) -> None:
    org_routes(routes, paged_users(500))
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"all_pages": True, "max_items": 150})
    assert len(users_reads(routes)) == 6 and len(result.structured_content["users"]) == 150  # 5 full pages, 1 empty
    assert "500 users (of 500 members, every one checked); shown 1-150: 350 more after them" in text(result)


async def test_list_teams_reads_every_page_using_the_total_and_fetches_the_rest_concurrently(routes: Routes) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        ids = range((page - 1) * 100 + 1, min(250, page * 100) + 1)
        return httpx2.Response(
            200,
            json={"data": [group_json(gid=i, members=()) for i in ids], "page": page, "rows": len(ids), "total": 250},
        )

    routes.add("GET", "teams", handler)
    async with connect(make_settings(max_response_chars=200_000), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    assert sorted(r.url.params["page"] for r in routes.requests) == ["1", "2", "3"]
    assert [t["id"] for t in result.structured_content["teams"]] == list(range(1, 251))


@pytest.mark.parametrize(("left", "refused"), [("6", True), ("9", False)])
async def test_a_first_read_is_refused_up_front_when_the_quota_cannot_pay_its_first_pages(
    routes: Routes, left: str, refused: bool
) -> None:
    """With no snapshot to answer from, a read is refused before any request when the quota left cannot
    pay a page of users and one of teams besides the reserve of 5 (6 cannot, 9 can)."""
    routes.add(
        "GET",
        "roles",
        httpx2.Response(200, json=[], headers={"X-Toggl-Quota-Remaining": left, "X-Toggl-Quota-Resets-In": "1200"}),
    )
    routes.add("GET", "users", paged_users(230))
    routes.add("GET", "teams", {"data": [], "page": 1, "rows": 0, "total": 0})
    async with connect(make_settings(), routes.transport()) as client:
        await client.call_tool("list_roles", {})
        result = await client.call_tool("list_users", {"all_pages": True})
    if refused:
        assert result.is_error and "only 6 left" in text(result) and "resets in 20 min" in text(result)
        assert users_reads(routes) == []
    else:
        assert not result.is_error and len(result.structured_content["users"]) == 230


async def test_page_with_all_pages_shows_that_page_and_counts_everyone(routes: Routes) -> None:
    org_routes(routes, paged_users(230))
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"all_pages": True, "page": 2})
    assert "230 users (of 230 members, every one checked); shown 51-100: 130 more after them (page=3)" in text(result)
    assert len(result.structured_content["users"]) == 50 and len(users_reads(routes)) == 3


@pytest.mark.parametrize("quota_left", [None, 3])
async def test_response_budget_cuts_at_a_record_boundary_and_says_how_to_narrow(
    routes: Routes, quota_left: int | None
) -> None:
    headers = {} if quota_left is None else {"X-Toggl-Quota-Remaining": str(quota_left)}
    org_routes(routes, httpx2.Response(200, json=[user_json(n) for n in range(100)], headers=headers))
    async with connect(make_settings(max_response_chars=3000), routes.transport()) as client:
        result = await client.call_tool("list_users", {"per_page": 100})
    shown = text(result)
    assert len(shown) <= 3000 and "[cut:" in shown and "add filters" in shown
    assert ("[quota: 3 " in shown) == (quota_left == 3)  # the budget holds with both notes
    kept = result.structured_content["users"]
    assert 0 < len(kept) < 100 and result.structured_content["truncated"] == 100 - len(kept)
    assert all(line.endswith(("Main", "Remote", "Design")) for line in shown.splitlines() if line[:4].isdigit())


async def test_detail_returns_the_record_as_the_snapshot_holds_it(routes: Routes) -> None:
    org_routes(routes, [user_json(1)])
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"detail": True})
    shown = text(result)
    assert '"user_account_id":5001' in shown and '"toggl_products":["focus"]' in shown
    assert result.structured_content["records"][0]["2fa_enabled"] is False
    assert "permissions" not in shown  # not held: no answer shows it, so detail does not pretend to


async def test_summary_and_detail_read_the_same_facts(routes: Routes) -> None:
    """The summary parses a lighter shape than detail=true; both must give the same user records."""
    rich = user_json(
        2,
        account_locked_at="2026-01-01T00:00:00Z",
        working_hours=7.5,
        rate={"hourly_rate": 80, "currency": "EUR", "workspace_id": 22, "start_at": None},
        custom_field_values=[{"custom_field_id": 4, "custom_field_name": "Level", "value": "senior"}],
        tags=[{"id": 3, "label": "Remote", "color": "#fff"}, {"id": 9, "label": None, "color": "#000"}],
    )
    main: list[dict[str, object]] = [{"id": 22, "name": "Main"}]  # the workspace whose custom fields are asked
    bare = {"id": 77, "name": None, "email": "bare@x.example", "groups": None, "2fa_enabled": None, "workspaces": main}
    org_routes(routes, [rich, user_json(3), bare])
    every: dict[str, Any] = {"fields": ["flags", "teams", "workspaces", "tags", "rate", "working_hours"]}
    every["fields"] += ["custom_fields"]
    every["workspaces"] = [22]  # custom fields are read a workspace at a time
    async with connect(make_settings(), routes.transport()) as client:
        summary = await client.call_tool("list_users", every)
        detail = await client.call_tool("list_users", {**every, "detail": True})
    users = summary.structured_content["users"]
    assert users == detail.structured_content["users"]
    assert users[0]["locked"] is True and users[0]["working_hours"] == 7.5 and users[0]["two_factor"] is True
    assert users[0]["rate"] == {"hourly_rate": 80, "currency": "EUR", "workspace_id": 22, "workspace": "Main"}
    assert users[0]["custom_fields"] == {"Level": "senior"}
    assert users[0]["tags"] == [{"id": 3, "name": "Remote"}, {"id": 9, "name": ""}]
    assert users[2] == {
        "id": 77, "name": "", "owner": False, "admin": False, "two_factor": False,
        "active": True, "joined": True, "invite_sent": False, "locked": False, "groups": [],
        "workspaces": [{"id": 22, "name": "Main"}],
        "tags": [],
    }  # fmt: skip
    line = next(line for line in text(summary).splitlines() if line.startswith(f"{rich['id']} "))
    assert "locked since 2026-01-01" in line and "working hours 7.5" in line and "Level=senior" in line
    assert "hourly rate 80 EUR (Main)" in line and "h/day" not in line


async def test_sandbox_list_of_230_users_fits_the_default_budget() -> None:
    settings, sandbox = sandbox_settings()
    async with connect(settings, sandbox.transport()) as client:
        result = await client.call_tool("list_users", {"all_pages": True})
    assert "[cut:" not in text(result) and len(result.structured_content["users"]) == len(sandbox.users)


def capped_users(total: int, cap: int) -> Callable[[httpx2.Request], httpx2.Response]:
    """A users endpoint that serves at most `cap` a page, whatever per_page asks (the spec allows it)."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params.get("page", 1))
        start = (page - 1) * cap
        return httpx2.Response(200, json=[user_json(n) for n in range(start, min(total, start + cap))])

    return handler


async def test_an_api_serving_50_a_page_is_read_to_its_last_page(routes: Routes) -> None:
    """Neither Toggl source gives a page cap: the snapshot reads on while pages are as long as the
    longest served, so an API that serves 50 of the 100 asked loses no one."""
    org_routes(routes, capped_users(120, 50))
    async with connect(make_settings(), routes.transport()) as client:
        first = await client.call_tool("list_users", {"per_page": 100})
        last = await client.call_tool("list_users", {"per_page": 100, "page": 2})
    assert len(users_reads(routes)) == 3  # 50, 50, 20
    assert first.structured_content["next_page"] == 2 and "120 users" in text(first)
    assert last.structured_content["complete"] is True and len(last.structured_content["users"]) == 20
