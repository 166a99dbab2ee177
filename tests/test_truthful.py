"""Answers that say what the API says: paging whatever the page size, filters as given, errors by endpoint."""

from __future__ import annotations

import httpx2
import pytest
from conftest import Routes, make_settings
from helpers import connect, sandbox_settings, text

pytestmark = pytest.mark.anyio


def users_served_50_a_page(total: int) -> httpx2.MockTransport:
    """An API that serves at most 50 users a page, whatever per_page asks."""
    people = [{"id": 1000 + n, "name": f"Person {n}", "email": f"p{n}@x.example"} for n in range(total)]

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params.get("page", "1"))
        size = min(int(request.url.params.get("per_page", "50")), 50)
        return httpx2.Response(200, json=people[(page - 1) * size : page * size])

    return httpx2.MockTransport(handler)


async def test_all_pages_returns_every_user_from_an_api_that_serves_50_a_page() -> None:
    async with connect(make_settings(), users_served_50_a_page(150)) as client:
        result = await client.call_tool("list_users", {"all_pages": True})
    assert len(result.structured_content["users"]) == 150
    assert "150 users (of 150 members, every one checked); complete." in text(result)


async def test_an_empty_filter_is_refused_before_any_request(routes: Routes) -> None:
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"org_user_ids": []})
    assert result.is_error and "org_user_ids is empty: an empty list matches no one" in text(result)
    assert routes.requests == []


async def test_a_member_role_of_a_non_member_names_the_member_not_the_group() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        args = {"group_id": 4500008, "organization_user_id": 4100001, "focus_role_id": 4}
        result = await client.call_tool("set_group_member_role", args)
    said = text(result)  # the group read under the turn shows it: nothing is sent
    assert result.is_error and "user 4100001 is not a member of group 4500008" in said
    assert "Group 4500008 was not found" not in said


async def test_a_redirect_is_reported_as_one_with_its_host(routes: Routes) -> None:
    login = httpx2.Response(302, headers={"Location": "https://login.example.com/sso?token=x"})
    routes.add("GET", "roles", login)
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_roles", {})
    said = text(result)
    assert result.is_error and "HTTP 302" in said and "redirect to https://login.example.com" in said
    assert "token" not in said and "TOGGL_FOCUS_BASE_URL" in said


async def test_zero_working_hours_and_rates_are_not_shown_as_zero() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        plain = await client.call_tool("list_users", {"per_page": 5})
        asked = await client.call_tool("list_users", {"per_page": 5, "fields": ["working_hours", "rate"]})
    assert "working hours" not in text(plain) and "rate" not in text(plain) and "h/day" not in text(plain)
    assert "working hours " in text(asked) and "hourly rate " in text(asked)
    assert all("rate" not in u and "working_hours" not in u for u in plain.structured_content["users"])


async def test_all_pages_stops_when_the_api_ignores_page(routes: Routes) -> None:
    people = [{"id": 1000 + n, "name": f"P{n}", "email": f"p{n}@x"} for n in range(30)]
    routes.add("GET", "users", people)  # the same 30 whatever page is asked
    routes.add("GET", "roles", [])
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"all_pages": True})
    users_reads = [r for r in routes.requests if r.url.path.endswith("/users")]
    assert len(result.structured_content["users"]) == 30 and len(users_reads) == 2
