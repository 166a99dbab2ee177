"""list_teams reads every page itself, from an API that is not our sandbox: one that fails a page,
is over quota half-way, misstates or omits `total`, or ignores `page`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from conftest import Routes, group_json, make_settings
from helpers import connect, sandbox_settings, text

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx2.Request], httpx2.Response]


def teams_api(
    teams: int, *, served: int = 100, total: int | None = None, failing: dict[int, httpx2.Response] | None = None
) -> Handler:
    """GET teams over `teams` teams, `served` a page whatever per_page asks, its envelope's total
    `total` (None: the field left out), and the pages in `failing` answered as given."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        if failing and page in failing:
            return failing[page]
        ids = range((page - 1) * served + 1, min(teams, page * served) + 1)
        body: dict[str, Any] = {"data": [group_json(gid=i, members=()) for i in ids], "page": page, "rows": len(ids)}
        if total is not None:
            body["total"] = total
        return httpx2.Response(200, json=body)

    return handler


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (httpx2.Response(500, json={"error": "internal", "error_description": "page store down"}), "page store down"),
        (
            httpx2.Response(
                402,
                json={"error": "quota_exceeded", "error_description": "Hourly quota used up"},
                headers={"X-Toggl-Quota-Remaining": "0", "X-Toggl-Quota-Resets-In": "1200"},
            ),
            "20 min",
        ),
    ],
)
async def test_a_page_that_fails_is_reported_in_the_apis_words(
    routes: Routes, answer: httpx2.Response, said: str
) -> None:
    routes.add("GET", "teams", teams_api(250, total=250, failing={2: answer}))
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    shown = text(result)
    assert result.is_error and said in shown and "ExceptionGroup" not in shown and "inside focus-mcp" not in shown


def pages_asked(routes: Routes) -> list[int]:
    return sorted(int(r.url.params["page"]) for r in routes.requests if r.url.path.endswith("/teams"))


@pytest.mark.parametrize(
    ("api", "pages", "heading"),
    [
        (teams_api(250, total=250), [1, 2, 3], "250 teams in workspace"),
        (teams_api(250, served=10, total=250), list(range(1, 26)), "250 teams in workspace"),  # per_page ignored
        (teams_api(5, total=5), [1], "5 teams in workspace"),
        # an overstated total: the pages read a few at a time, not the 99 it promises all at once
        (teams_api(150, total=10_000), [1, 2, 3, 4, 5, 6], "150 teams (the API's total said 10000) in workspace"),
        # an understated total: the rows read prove it wrong; the pages go on while they come back full
        (teams_api(250, total=120), [1, 2, 3], "250 teams (the API's total said 120) in workspace"),
        # no total: page by page until a short or empty one
        (teams_api(3, served=3), [1, 2], "3 teams in workspace"),
        (teams_api(30, served=10), [1, 2, 3, 4], "30 teams in workspace"),
    ],
)
async def test_every_team_whatever_the_api_says_of_its_total(
    routes: Routes, api: Handler, pages: list[int], heading: str
) -> None:
    routes.add("GET", "teams", api)
    async with connect(make_settings(max_response_chars=400_000), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    shown = text(result)
    teams = result.structured_content["teams"]
    assert pages_asked(routes) == pages and heading in shown, shown[:300]
    assert len(teams) == len({t["id"] for t in teams}) == result.structured_content["total"]
    assert "max_items" not in shown and "stopped" not in shown.lower()


async def test_an_api_that_ignores_page_is_read_once_and_said_to(routes: Routes) -> None:
    routes.add("GET", "teams", lambda request: httpx2.Response(200, json=teams_page(1, 100, 250)))
    async with connect(make_settings(max_response_chars=400_000), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    shown = text(result)
    assert "100 of 250 teams" in shown and "answered page 2 with teams of an earlier page" in shown
    assert len(result.structured_content["teams"]) == 100 and pages_asked(routes) == [1, 2, 3]


def teams_page(page: int, rows: int, total: int) -> dict[str, Any]:
    ids = range((page - 1) * rows + 1, page * rows + 1)
    return {"data": [group_json(gid=i, members=()) for i in ids], "page": page, "rows": rows, "total": total}


@pytest.mark.parametrize(("total", "said"), [(None, "Read 1 page to spare"), (900, "Read 1 of 9 pages")])
async def test_without_quota_to_spare_reading_stops_and_says_so_without_max_items(
    routes: Routes, total: int | None, said: str
) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        page = int(request.url.params["page"])
        body = teams_page(page, 100, total or 0)
        if total is None:
            del body["total"]
        return httpx2.Response(200, json=body, headers={"X-Toggl-Quota-Remaining": "5"})

    routes.add("GET", "teams", handler)
    async with connect(make_settings(max_response_chars=400_000), routes.transport()) as client:
        result = await client.call_tool("list_teams", {})
    shown = text(result)
    assert pages_asked(routes) == [1] and said in shown and "to spare the hourly quota (5 requests left)" in shown
    assert "max_items" not in shown and ("100 of 900 teams" in shown) == (total == 900)


async def test_all_workspaces_reads_one_page_a_workspace_when_its_total_says_that_is_all() -> None:
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        result = await client.call_tool("list_teams", {"all_workspaces": True})
    teams_read = [path for method, path in api.requests if method == "GET" and "/teams?" in path]
    assert not result.is_error and len(teams_read) == len({p.split("workspace_id=")[1][:7] for p in teams_read}) == 4


async def test_all_workspaces_after_list_workspaces_costs_nothing_of_a_nearly_spent_quota() -> None:
    """The organization snapshot list_workspaces read holds every workspace's teams: with 8 requests
    left (the reserve of 5 kept for writes), every team is listed with no request at all."""
    settings, api = sandbox_settings()
    async with connect(settings, api.transport()) as client:
        await client.call_tool("list_workspaces", {})
        api.quota_left = 8
        await client.call_tool("list_roles", {"fresh": True})  # the server learns the quota from an answer
        before = len(api.requests)
        listed = await client.call_tool("list_teams", {"all_workspaces": True})
    said = text(listed)
    assert not listed.is_error and "20 teams across 4 workspaces; each team once." in said, said
    assert len(api.requests) == before
