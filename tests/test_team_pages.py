"""list_teams reads every page itself, from an API that is not our sandbox: one that fails a page,
is over quota half-way, misstates or omits `total`, or ignores `page`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from conftest import Routes, group_json, make_settings
from helpers import connect, text

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
