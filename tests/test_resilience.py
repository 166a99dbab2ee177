"""Retries, quota, deadlines, unreadable answers and secrets on the upstream path."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import anyio
import httpx2
import pytest
from conftest import FAST_RETRIES, ORG, SECRET_KEY, Routes, make_settings
from helpers import connect, text

from focus_mcp.api import errors, retry
from focus_mcp.api.client import FocusClient
from focus_mcp.api.models import GroupRequest
from focus_mcp.config import ConfigurationError, Settings

pytestmark = pytest.mark.anyio


def sequence(*answers: httpx2.Response | Exception) -> Callable[[httpx2.Request], httpx2.Response]:
    """A handler that gives each answer in turn (an exception is raised as a transport failure)."""
    queue = list(answers)

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise type(answer)(str(answer), request=request)  # type: ignore[call-arg]
        return answer

    return handler


def fail(status: int, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, json={"error": "e", "error_description": f"status {status}"}, headers=headers)


async def test_get_comes_through_two_503s_and_a_429(routes: Routes) -> None:
    routes.add("GET", "roles", sequence(fail(503), fail(429, **{"Retry-After": "0"}), httpx2.Response(200, json=[])))
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        assert await c.list_roles(ORG) == []
    assert len(routes.requests) == 3


async def test_retries_stop_after_three_attempts(routes: Routes) -> None:
    routes.add("GET", "roles", sequence(fail(502), fail(503), fail(504), httpx2.Response(200, json=[])))
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        with pytest.raises(errors.ServerError, match="after 3 attempts"):
            await c.list_roles(ORG)
    assert len(routes.requests) == 3


async def test_post_that_met_a_503_is_sent_once(routes: Routes) -> None:
    routes.add("POST", "groups", sequence(fail(503), httpx2.Response(201, json={"id": 1})))
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        with pytest.raises(errors.WriteOutcomeUnknown):
            await c.create_group(ORG, GroupRequest(name="x"))
    assert len(routes.requests) == 1


async def test_post_is_retried_only_when_it_never_left(routes: Routes) -> None:
    routes.add("POST", "groups", sequence(httpx2.ConnectError("refused"), httpx2.Response(201, json={"id": 1})))
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        assert (await c.create_group(ORG, GroupRequest(name="x"))).id == 1
    routes.add("POST", "groups", sequence(httpx2.ReadTimeout("slow"), httpx2.Response(201, json={"id": 2})))
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        with pytest.raises(errors.WriteOutcomeUnknown, match="may or may not have been applied"):
            await c.create_group(ORG, GroupRequest(name="x"))
    assert len(routes.requests) == 3


async def test_read_timeouts_and_connection_errors_are_retried_for_get(routes: Routes) -> None:
    routes.add(
        "GET", "roles", sequence(httpx2.ReadTimeout("slow"), httpx2.ConnectError("x"), httpx2.Response(200, json=[]))
    )
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        assert await c.list_roles(ORG) == []


async def test_retry_after_beyond_the_cap_fails_at_once_saying_when(routes: Routes) -> None:
    routes.add("GET", "roles", sequence(fail(429, **{"Retry-After": "300"}), httpx2.Response(200, json=[])))
    async with FocusClient(make_settings(), transport=routes.transport(), retry_policy=FAST_RETRIES) as c:
        with pytest.raises(errors.RateLimitedError, match="try again in 5 min"):
            await c.list_roles(ORG)
    assert len(routes.requests) == 1


def test_retry_after_as_http_date_and_backoff_bounds() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert errors.retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert errors.retry_after_seconds("7", now) == 7 and errors.retry_after_seconds("soon", now) is None
    policy = retry.RetryPolicy(rng=random.Random(1))  # today's timing
    delays = [policy.backoff(attempt) for attempt in (1, 2, 3, 4, 5, 6) for _ in range(50)]
    assert min(delays) >= 0.5 and max(delays) == 8.0
    assert all(0.5 <= policy.backoff(1) <= 0.75 for _ in range(20))


async def test_spent_quota_is_explained_and_not_retried(routes: Routes) -> None:
    headers = {"X-Toggl-Quota-Remaining": "0", "X-Toggl-Quota-Resets-In": "1800"}
    routes.add("GET", "users", fail(402, **headers))
    async with connect(make_settings(), routes.transport()) as client:
        first = text(await client.call_tool("list_users", {}))
    assert "quota is spent" in first and "resets in 30 min" in first and "Do not retry" in first
    assert len(routes.requests) == 1


def test_a_quota_count_is_forgotten_once_its_window_has_reset() -> None:
    from focus_mcp.api.quota import Quota

    quota = Quota()
    quota.update(httpx2.Headers({"X-Toggl-Quota-Remaining": "3", "X-Toggl-Quota-Resets-In": "600"}))
    assert quota.remaining == 3
    quota.update(httpx2.Headers({"X-Toggl-Quota-Remaining": "2", "X-Toggl-Quota-Resets-In": "0"}))
    assert quota.remaining is None and quota.resets_in() == 0


async def test_402_without_a_spent_quota_is_a_plan_restriction(routes: Routes) -> None:
    routes.add("GET", "roles", fail(402, **{"X-Toggl-Quota-Remaining": "25"}))
    async with connect(make_settings(), routes.transport()) as client:
        result = text(await client.call_tool("list_roles", {}))
    assert "plan" in result and "quota" not in result


async def test_a_hung_api_becomes_a_timeout_error_quickly(routes: Routes) -> None:
    async def hang(request: httpx2.Request) -> httpx2.Response:
        await anyio.Event().wait()  # never set: the API never answers
        raise AssertionError("never answered")

    routes.add("GET", "roles", hang)
    async with connect(make_settings(timeout=0.2, deadline=0.5), routes.transport()) as client:
        with anyio.fail_after(5):
            result = await client.call_tool("list_roles", {})
        after = await client.call_tool("list_member_tags", {})  # the server goes on serving
    assert result.is_error and "did not answer within 0.5 s" in text(result)
    assert after.is_error and "599" in text(after)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (httpx2.Response(200, text="<html>maintenance</html>"), "not JSON"),
        (httpx2.Response(500, text="Internal Server Error: database on fire"), "database on fire"),
        (httpx2.Response(200, json={"unexpected": True}), "documented shape"),
    ],
)
async def test_unreadable_answers_are_explained(routes: Routes, answer: httpx2.Response, says: str) -> None:
    routes.add("GET", "roles", answer)
    async with connect(make_settings(), routes.transport()) as client:
        result = await client.call_tool("list_roles", {})
    assert result.is_error and says in text(result)


async def test_unreachable_api_is_named_through_the_tool() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)

    async with connect(make_settings(base_url="https://focus.invalid/api"), httpx2.MockTransport(refuse)) as c:
        result = text(await c.call_tool("list_roles", {}))
    assert "cannot reach https://focus.invalid/api" in result and "TOGGL_FOCUS_BASE_URL" in result


@pytest.mark.parametrize("url", ["https://ana:s3cret-pw@focus.toggl.com/api", "ana:s3cret-pw@focus.toggl.com/api"])
def test_a_base_url_with_a_password_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.load({"TOGGL_FOCUS_BASE_URL": url})
    assert "TOGGL_FOCUS_EMAIL" in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_base_url_without_scheme_is_refused_naming_the_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"https://focus\.toggl\.com/api"):
        Settings.load({"TOGGL_FOCUS_BASE_URL": "focus.toggl.com/api"})


@pytest.mark.parametrize("auth", ["key", "basic"])
async def test_no_secret_in_logs_errors_or_results(routes: Routes, caplog: pytest.LogCaptureFixture, auth: str) -> None:
    password = "pw-" + SECRET_KEY
    creds = {} if auth == "key" else {"api_key": None, "email": "ana@x.example", "password": password}
    routes.add("GET", "roles", sequence(fail(503), httpx2.Response(200, json=[{"role_id": 1, "name": "Owner"}])))
    routes.add("GET", "users", httpx2.Response(401, text="bad credentials"))
    settings = make_settings(**creds, http_token="http-token-secret-123", log_level="DEBUG")
    caplog.set_level(logging.DEBUG)
    async with connect(settings, routes.transport()) as client:
        outputs = [await client.call_tool(t, {}) for t in ("list_roles", "list_users", "list_teams")]
    seen = caplog.text + repr(settings) + str(settings) + "".join(text(r) + str(r.structured_content) for r in outputs)
    for secret in (SECRET_KEY, password, "http-token-secret-123"):
        assert secret not in seen
    assert "Authorization" not in caplog.text and "Bearer " not in caplog.text
