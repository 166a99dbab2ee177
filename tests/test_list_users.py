"""list_users answers at the cost of the question: counts, filters the API lacks, chosen columns, paging."""

from __future__ import annotations

import statistics

import pytest
from conftest import Routes, make_settings
from helpers import connect, sandbox_settings, text

from focus_mcp.sandbox import SandboxAPI

pytestmark = pytest.mark.anyio


def teams_of(api: SandboxAPI) -> dict[int, int]:
    return {uid: sum(1 for g in api.groups.values() if uid in g.users) for uid in api.users}


def users_queries(api: SandboxAPI) -> list[str]:
    """The query string of each GET users the sandbox answered."""
    return [path.partition("?")[2] for method, path in api.requests if path.partition("?")[0].endswith("/users")]


def users_requests(api: SandboxAPI) -> int:
    return len(users_queries(api))


async def test_count_only_counts_everyone_in_a_few_hundred_bytes() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_users", {"count_only": True})
    said, counts = text(result), result.structured_content["counts"]
    everyone = list(api.users.values())
    off = sum(1 for u in everyone if not u.two_factor)
    assert len(said.encode()) < 1500 and not result.is_error
    assert counts["total"] == len(everyone) == 150 and counts["two_factor_off"] == off
    assert "Counts of 150 users (of 150 members, every one checked)" in said and f"off {off}" in said
    held = teams_of(api)
    assert counts["people_by_team_count"] == [
        sum(1 for n in held.values() if n == k) for k in range(max(held.values()) + 1)
    ]
    assert counts["in_no_team"] == sum(1 for n in held.values() if n == 0)
    assert counts["admins"] == sum(1 for u in everyone if u.admin) and counts["owners"] == 2
    active_off = sum(1 for u in everyone if u.active and u.joined and not u.two_factor)
    admins_off = sum(1 for u in everyone if u.admin and not u.two_factor)
    assert (counts["two_factor_off_active"], counts["two_factor_off_admins"]) == (active_off, admins_off)
    assert f"(of them {active_off} active, {admins_off} admins)" in said  # "active members without 2FA": one call
    rates = sorted(u.hourly_rate for u in everyone if u.hourly_rate)
    hours = [u.working_hours for u in everyone if u.working_hours]
    assert counts["hourly_rates"][0]["users"] == len(rates) and counts["hourly_rates"][0]["currency"] == "EUR"
    assert (
        counts["hourly_rates"][0]["median"] == statistics.median(rates)
        and counts["hourly_rates"][0]["high"] == rates[-1]
    )
    assert counts["working_hours"]["mean"] == round(statistics.fmean(hours), 2)
    assert f"hourly rates: {len(rates)} set, {rates[0]:g}-{rates[-1]:g} EUR" in said  # "average rate": one call
    assert counts["inactive"] == sum(1 for u in everyone if not u.active) and counts["locked"] == 1
    ops = next(w for w in counts["workspaces"] if w["id"] == 4300004)
    assert ops["users"] == sum(1 for u in everyone if 4300004 in u.workspaces)
    assert result.structured_content["users"] == [] and users_requests(api) == 2


async def test_count_only_counts_a_filtered_set() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        by_api = await client.call_tool("list_users", {"count_only": True, "only_admins": True})
        both = await client.call_tool("list_users", {"count_only": True, "only_admins": True, "two_factor": False})
    admins_off = sum(1 for u in api.users.values() if (u.admin or u.owner) and not u.two_factor)
    assert admins_off >= 2
    assert by_api.structured_content["counts"]["two_factor_off"] == admins_off
    assert both.structured_content["counts"]["total"] == admins_off
    assert f"Counts of {admins_off} users 2FA off" in text(both)


async def test_two_factor_and_min_teams_return_exactly_those_users() -> None:
    settings, api = sandbox_settings()
    held = teams_of(api)
    expected = {u.id for u in api.users.values() if not u.two_factor and held[u.id] >= 3}
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_users", {"two_factor": False, "min_teams": 3})
    assert {u["id"] for u in result.structured_content["users"]} == expected and expected
    assert f"{len(expected)} users 2FA off, in 3+ teams (of 150 members, every one checked)" in text(result)
    # One read of every member, with the rates and hours an answer may show: two pages of 100.
    assert users_requests(api) == 2 and all("include_rates=true" in query for query in users_queries(api))


async def test_a_names_and_teams_listing_costs_a_fraction_of_the_full_one() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        full = await client.call_tool("list_users", {"all_pages": True})
        teams = await client.call_tool("list_users", {"all_pages": True, "fields": ["teams"]})
    assert len(text(teams).encode()) <= 0.6 * len(text(full).encode())
    listed = teams.structured_content["users"]
    assert len(listed) == len(api.users) and all(set(u) == {"id", "name", "groups"} for u in listed)
    held = teams_of(api)
    assert all(len(u["groups"]) == held[u["id"]] for u in listed)
    assert "<" not in text(teams).split("Line: ")[1] and "Line: id name | teams." in text(teams)


async def test_rate_column_asks_the_api_for_rates() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_users", {"per_page": 5, "fields": ["rate", "working_hours"]})
    assert "hourly rate" in text(result) and "working hours" in text(result)
    first = result.structured_content["users"][0]
    assert set(first) == {"id", "name", "rate", "working_hours"}


async def test_a_short_page_is_the_last_one() -> None:
    settings, api = sandbox_settings()
    someone = next(iter(api.users.values()))
    async with connect(settings, api.transport()) as client:
        one = await client.call_tool("list_users", {"filter": someone.email, "per_page": 50})
        full = await client.call_tool("list_users", {"per_page": 50})
        default = await client.call_tool("list_users", {"filter": someone.email})
    assert one.structured_content["complete"] is True and "next_page" not in one.structured_content
    assert "1 user (of 150 members, every one checked); complete." in text(one) and "page=2" not in text(one)
    assert full.structured_content["next_page"] == 2 and "shown 1-50: 100 more after them (page=2)" in text(full)
    assert "complete." in text(default) and "page=2" not in text(default)


@pytest.mark.parametrize(
    "reason", [{"count_only": True}, {"two_factor": False}, {"min_teams": 1}, {"status": ["locked"]}]
)
async def test_page_and_per_page_bound_the_lines_shown_never_the_count(reason: dict[str, object]) -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_users", {**reason, "per_page": 10})
        plain = await client.call_tool("list_users", reason)
    said, first_line = text(result), text(plain).splitlines()[1]
    assert not result.is_error
    assert said.splitlines()[1].split(";")[0] == first_line.split(";")[0]  # the same count, every one checked
    assert result.structured_content.get("counts") == plain.structured_content.get("counts")
    assert len(result.structured_content["users"]) == min(10, len(plain.structured_content["users"]))


async def test_counting_is_refused_up_front_when_the_quota_cannot_cover_it() -> None:
    settings, _ = sandbox_settings()
    api = SandboxAPI(quota=6)
    async with connect(settings, api.transport()) as client:
        await client.call_tool("list_roles", {})
        result = await client.call_tool("list_users", {"count_only": True})
    assert result.is_error and "Not fetched" in text(result) and users_requests(api) == 0
    assert "reading the organization" in text(result)


async def test_custom_fields_asked_but_not_sent_says_when_the_api_sends_them(routes: Routes) -> None:
    """The spec: custom_field_values come only to a caller allowed to view them, with the beta enabled."""
    main = [{"id": 22, "name": "Main"}]
    routes.add("GET", "users", [{"id": 101, "name": "Ana", "workspaces": main}, {"id": 102, "name": "Bo"}])
    routes.add("GET", "teams", {"data": [], "page": 1, "rows": 0, "total": 0})
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_users", {"fields": ["custom_fields"], "workspaces": [22]})
    said = text(result)
    assert routes.query()["include_custom_fields"] == "true" and routes.query()["org_user_ids"] == "101"
    assert "No custom field values came back" in said and "view_workspace_user_custom_fields" in said
