"""FocusClient against httpx2.MockTransport route tables: the exact wire, every error status."""

from __future__ import annotations

import base64
from typing import Any

import httpx2
import pytest
from conftest import BASE, FAST_RETRIES, ORG, SECRET_KEY, WS, Routes, group_json, make_settings, teams_json

from focus_mcp import __version__
from focus_mcp.api import errors
from focus_mcp.api.client import FocusClient
from focus_mcp.api.models import GroupRequest, GroupUserRoleRequest, TeamsQuery, UsersQuery

pytestmark = pytest.mark.anyio


def client(routes: Routes, **settings: Any) -> FocusClient:
    return FocusClient(make_settings(**settings), transport=routes.transport(), retry_policy=FAST_RETRIES)


async def test_every_endpoint_sends_the_documented_request(routes: Routes) -> None:
    routes.add("POST", "groups", httpx2.Response(201, json=group_json()))
    routes.add("GET", "groups/me", [{"id": 5, "name": "Design", "emoji": "🎨"}])
    routes.add("PUT", "groups/5", group_json())
    routes.add("DELETE", "groups/5", {"success": True})
    routes.add("PUT", "groups/5/user_role", {"success": True})
    routes.add("GET", "member-tags", [{"id": 1, "label": "Remote", "color": "#fff"}])
    routes.add("GET", "roles", [{"role_id": 1, "name": "Owner", "permissions": [{"name": "x"}]}])
    routes.add("GET", "teams", teams_json(group_json()))
    routes.add("GET", "users", [{"id": 101, "name": "Ana", "email": "a@x", "2fa_enabled": True}])
    body = GroupRequest(name="Design", emoji="🎨", organization_users=[101, 102], workspaces=[WS])
    async with client(routes) as c:
        created = await c.create_group(ORG, body)
        mine = await c.list_my_groups(ORG)
        await c.update_group(ORG, 5, body)
        await c.delete_group(ORG, 5, WS)
        await c.set_group_member_role(
            ORG, 5, GroupUserRoleRequest(focus_role_id=None, organization_user_id=101, workspace_id=WS)
        )
        tags = await c.list_member_tags(ORG, WS)
        roles = await c.list_roles(ORG)
        teams = await c.list_teams(ORG, WS, TeamsQuery(group_ids=[5, 6], active_members_only=True, per_page=100))
        users = await c.list_users(ORG, UsersQuery(groups=[1, 2, 3], has_group=False, filter="an", sort_dir="desc"))

    sent = [(r.method, r.url.path, dict(r.url.params)) for r in routes.requests]
    org = f"/api/organizations/{ORG}"
    assert sent == [
        ("POST", f"{org}/groups", {}),
        ("GET", f"{org}/groups/me", {}),
        ("PUT", f"{org}/groups/5", {}),
        ("DELETE", f"{org}/groups/5", {"workspace_id": str(WS)}),
        ("PUT", f"{org}/groups/5/user_role", {}),
        ("GET", f"{org}/member-tags", {"workspace_id": str(WS)}),
        ("GET", f"{org}/roles", {}),
        (
            "GET",
            f"{org}/teams",
            {"workspace_id": str(WS), "group_ids": "5,6", "active_members_only": "true", "per_page": "100"},
        ),
        ("GET", f"{org}/users", {"filter": "an", "has_group": "false", "groups": "1,2,3", "sort_dir": "desc"}),
    ]
    assert routes.body(0) == {"name": "Design", "emoji": "🎨", "organization_users": [101, 102], "workspaces": [WS]}
    assert routes.body(2) == routes.body(0)
    assert routes.body(4) == {"focus_role_id": None, "organization_user_id": 101, "workspace_id": WS}
    for request in routes.requests:
        assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
        assert request.headers["user-agent"] == f"focus-mcp/{__version__}"
        assert str(request.url).startswith(BASE + "/organizations/")
    assert created.users[0].organization_user_id == 101 and created.ghosts[0].name == "Placeholder"
    assert mine[0].name == "Design" and tags[0].label == "Remote" and roles[0].permissions[0].name == "x"
    assert teams.total == 1 and users[0].two_factor_enabled is True


async def test_urls_parsed_once_still_belong_to_their_own_base_url(routes: Routes) -> None:
    # Request URLs are parsed once per base URL, path and query; a second client elsewhere, or a
    # base URL given with a trailing slash, must still get its own.
    routes.add("GET", "users", [])
    query = UsersQuery(groups=[1, 2], per_page=20)
    for base in (BASE, BASE + "/", "https://elsewhere.test/api"):
        async with client(routes, base_url=base) as c:
            await c.list_users(ORG, query)
            await c.list_users(ORG, UsersQuery(per_page=20), fresh=True)
    urls = [str(r.url) for r in routes.requests]
    users = f"/api/organizations/{ORG}/users"
    assert urls == [
        f"https://focus.test{users}?groups=1%2C2&per_page=20",
        f"https://focus.test{users}?per_page=20",
    ] * 2 + [f"https://elsewhere.test{users}?groups=1%2C2&per_page=20", f"https://elsewhere.test{users}?per_page=20"]


async def test_basic_auth_when_no_key(routes: Routes) -> None:
    routes.add("GET", "roles", [])
    async with client(routes, api_key=None, email="ana@x.example", password="pw-secret") as c:
        await c.list_roles(ORG)
    expected = base64.b64encode(b"ana@x.example:pw-secret").decode()
    assert routes.requests[0].headers["authorization"] == f"Basic {expected}"


async def test_no_credentials_sends_nothing(routes: Routes) -> None:
    async with client(routes, api_key=None) as c:
        with pytest.raises(errors.NotConfiguredError, match="TOGGL_FOCUS_API_KEY"):
            await c.list_roles(ORG)
    assert routes.requests == []
    async with client(routes, api_key="toggl_sk_...") as c:  # the docs' placeholder is never sent
        with pytest.raises(errors.NotConfiguredError, match="placeholder from the docs"):
            await c.list_roles(ORG)
    assert routes.requests == []


@pytest.mark.parametrize(
    ("status", "headers", "kind", "says"),
    [
        (400, {}, errors.BadRequestError, "Fix the arguments"),
        (401, {}, errors.AuthenticationError, "TOGGL_FOCUS_API_KEY"),
        (402, {"X-Toggl-Quota-Remaining": "0", "X-Toggl-Quota-Resets-In": "720"}, errors.QuotaExceededError, "12 min"),
        (402, {"X-Toggl-Quota-Remaining": "12"}, errors.PlanRestrictionError, "plan"),
        (403, {}, errors.PermissionDeniedError, f"organization {ORG}"),
        (404, {}, errors.NotFoundError, "Group 5 was not found"),
        (422, {}, errors.UnprocessableError, "refused"),
        (429, {"Retry-After": "30"}, errors.RateLimitedError, "30 s"),
        (500, {}, errors.ServerError, "try again"),
        (503, {}, errors.ServerError, "try again"),
    ],
)
async def test_error_table(routes: Routes, status: int, headers: dict[str, str], kind: type, says: str) -> None:
    body = {"error": "e", "error_description": "the API's own words", "trace_id": "t-1"}
    routes.add("PUT", "groups/5", httpx2.Response(status, json=body, headers=headers))
    routes.add("GET", "roles", httpx2.Response(status, json=body, headers=headers))
    async with client(routes) as c:
        with pytest.raises(kind) as caught:
            if status >= 500:  # a 5xx to a write is an unknown outcome: see the next test
                await c.list_roles(ORG)
            else:
                await c.update_group(ORG, 5, GroupRequest(name="x"))
    text = str(caught.value)
    assert f"HTTP {status}" in text and "the API's own words" in text and says in text and "t-1" in text
    assert SECRET_KEY not in text


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_to_a_write_is_an_unknown_outcome_sent_once(routes: Routes, status: int) -> None:
    body = {"error": "e", "error_description": "the API's own words"}
    routes.add("PUT", "groups/5", httpx2.Response(status, json=body))
    async with client(routes) as c:
        with pytest.raises(errors.WriteOutcomeUnknown) as caught:
            await c.update_group(ORG, 5, GroupRequest(name="x"))
    assert f"HTTP {status}" in str(caught.value) and "the API's own words" in str(caught.value)
    assert len(routes.requests) == 1


async def test_plain_text_error_body_is_shown_truncated(routes: Routes) -> None:
    routes.add("GET", "roles", httpx2.Response(502, text="<html>Bad gateway " + "x" * 1000 + "</html>"))
    async with client(routes) as c:
        with pytest.raises(errors.ServerError) as caught:
            await c.list_roles(ORG)
    assert "Bad gateway" in str(caught.value) and len(str(caught.value)) < 500


async def test_success_that_is_not_json(routes: Routes) -> None:
    routes.add("GET", "roles", httpx2.Response(200, text="<html>login page</html>"))
    async with client(routes) as c:
        with pytest.raises(errors.InvalidResponseError, match="not JSON"):
            await c.list_roles(ORG)


async def test_success_of_the_wrong_shape(routes: Routes) -> None:
    routes.add("GET", "users", {"data": []})  # users is a bare array on the wire
    async with client(routes) as c:
        with pytest.raises(errors.InvalidResponseError, match="documented shape"):
            await c.list_users(ORG, UsersQuery())


async def test_unreachable_api_is_named() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    async with FocusClient(make_settings(), transport=httpx2.MockTransport(refuse), retry_policy=FAST_RETRIES) as c:
        with pytest.raises(errors.TransportError, match=r"cannot reach https://focus\.test/api"):
            await c.list_roles(ORG)


async def test_timeout_is_explained() -> None:
    def hang(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    async with FocusClient(
        make_settings(timeout=3), transport=httpx2.MockTransport(hang), retry_policy=FAST_RETRIES
    ) as c:
        with pytest.raises(errors.UpstreamTimeoutError, match="within 3 s"):
            await c.list_roles(ORG)


async def test_quota_is_tracked_from_every_response(routes: Routes) -> None:
    routes.add(
        "GET",
        "roles",
        httpx2.Response(200, json=[], headers={"X-Toggl-Quota-Remaining": "17", "X-Toggl-Quota-Resets-In": "600"}),
    )
    routes.add("GET", "member-tags", [])  # no quota headers: the request still counts
    async with client(routes) as c:
        await c.list_roles(ORG)
        assert c.quota.remaining == 17
        assert 590 < (c.quota.resets_in() or 0) <= 600
        await c.list_member_tags(ORG, WS)
        assert c.quota.remaining == 16


async def test_ids_that_reach_the_path_are_checked(routes: Routes) -> None:
    async with client(routes) as c:
        for bad in (0, -1, True, "5/../x"):
            with pytest.raises(ValueError):
                await c.update_group(ORG, bad, GroupRequest(name="x"))  # type: ignore[arg-type]
    assert routes.requests == []


async def test_get_group_reads_teams_filtered_by_id(routes: Routes) -> None:
    routes.add("GET", "teams", teams_json(group_json(gid=5)))
    async with client(routes) as c:
        group = await c.get_group(ORG, 5, WS)
        assert group is not None and group.id == 5
        assert routes.query() == {"workspace_id": str(WS), "group_ids": "5"}
        routes.add("GET", "teams", teams_json())
        assert await c.get_group(ORG, 5, WS) is None


async def test_null_fields_fall_back_to_defaults(routes: Routes) -> None:
    group = group_json() | {"emoji": None, "ghosts": None, "deleted_at": None}
    group["users"][0]["display_name"] = None
    routes.add("GET", "teams", teams_json(group))
    routes.add("GET", "users", [{"id": 1, "name": None, "email": "a@x", "groups": None, "2fa_enabled": None}])
    async with client(routes) as c:
        team = (await c.list_teams(ORG, WS, TeamsQuery())).data[0]
        user = (await c.list_users(ORG, UsersQuery()))[0]
    assert team.emoji == "" and team.ghosts == [] and team.users[0].display_name == ""
    assert user.name == "" and user.groups is None and user.two_factor_enabled is False
