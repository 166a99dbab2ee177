"""Trust at the edges, on the API layer: bounded answers, credentials never echoed, odd headers."""

from __future__ import annotations

import ast
import base64
import gzip
import logging
import re
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import FAST_RETRIES, ORG, SECRET_KEY, Routes, make_settings
from helpers import connect, text
from loopback import serving
from starlette.types import Receive, Scope, Send
from test_trim import user_json

from benchmarks.oversized import Body, oversized_api
from focus_mcp import api, cli
from focus_mcp.api import errors, redaction
from focus_mcp.api.client import FocusClient
from focus_mcp.api.models import GroupRequest
from focus_mcp.api.sending import ERROR_BODY_BYTES
from focus_mcp.config import ConfigurationError, Settings
from focus_mcp.org.paging import QUOTA_RESERVE
from focus_mcp.registry import SPECS

pytestmark = pytest.mark.anyio

LIMIT = 64 << 10
PASSWORD = "hunter2-correct-horse-battery"
EMAIL = "ana@example.com"


def client(routes: Routes, **settings: Any) -> FocusClient:
    values: dict[str, Any] = {"max_response_bytes": LIMIT, **settings}
    return FocusClient(make_settings(**values), transport=routes.transport(), retry_policy=FAST_RETRIES)


class Endless:
    """An answer body that never ends; counts the chunks it was asked for."""

    def __init__(self, chunk: bytes = b"x" * (16 << 10)) -> None:
        self.chunk, self.served = chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.served += 1
            yield self.chunk


def bomb(decoded: int) -> bytes:
    """A gzip body inflating to `decoded` bytes of zeros (about a thousandth of that on the wire)."""
    return gzip.compress(bytes(decoded), compresslevel=9)


async def test_an_endless_answer_is_refused_after_the_limit(routes: Routes) -> None:
    body = Endless()
    routes.add("GET", "roles", lambda _: httpx2.Response(200, content=body))
    async with client(routes) as c:
        with pytest.raises(errors.ResponseTooLargeError) as caught:
            await c.list_roles(ORG)
    said = str(caught.value)
    assert "GET roles" in said and "65,536 bytes" in said and "TOGGL_FOCUS_MAX_RESPONSE_BYTES" in said
    assert body.served == LIMIT // len(body.chunk) + 1  # read up to the limit, not a chunk more
    assert len(routes.requests) == 1  # not retried: a second copy would be as big


async def test_a_gzip_body_counts_as_it_inflates(routes: Routes) -> None:
    routes.add("GET", "roles", httpx2.Response(200, content=bomb(8 << 20), headers={"Content-Encoding": "gzip"}))
    routes.add(
        "GET", "member-tags", httpx2.Response(200, content=gzip.compress(b"[]"), headers={"Content-Encoding": "gzip"})
    )
    async with client(routes) as c:
        assert await c.list_member_tags(ORG, 22) == []  # a small gzip answer reads as ever
        with pytest.raises(errors.ResponseTooLargeError):
            await c.list_roles(ORG)


async def test_a_corrupt_gzip_body_is_an_unreadable_answer(routes: Routes) -> None:
    corrupt = {"Content-Encoding": "gzip"}
    routes.add("GET", "roles", httpx2.Response(200, stream=httpx2.ByteStream(b"not gzip at all"), headers=corrupt))
    routes.add("GET", "member-tags", httpx2.Response(404, stream=httpx2.ByteStream(b"not gzip"), headers=corrupt))
    async with client(routes) as c:
        with pytest.raises(errors.InvalidResponseError, match=r"cannot be decoded \(gzip\)"):
            await c.list_roles(ORG)
        with pytest.raises(errors.NotFoundError):
            await c.list_member_tags(ORG, 22)


async def test_an_endless_error_body_gives_the_error_of_its_status(routes: Routes) -> None:
    body = Endless(b'{"error": "not_found", "error_description": "gone"' + b" " * (16 << 10))
    routes.add("GET", "roles", lambda _: httpx2.Response(404, content=body))
    async with client(routes) as c:
        with pytest.raises(errors.NotFoundError, match="HTTP 404"):
            await c.list_roles(ORG)
    assert body.served <= ERROR_BODY_BYTES // len(body.chunk) + 1


async def test_an_oversized_answer_to_a_write_is_no_readable_answer(routes: Routes) -> None:
    """A 2xx too big to read proves nothing: the write path settles it with a read, as any unreadable answer."""
    routes.add("PUT", "groups/5", lambda _: httpx2.Response(200, content=Endless()))
    body = GroupRequest(name="x", emoji="", organization_users=[], workspaces=[22])
    async with client(routes) as c:
        with pytest.raises(errors.InvalidResponseError) as caught:
            await c.update_group(ORG, 5, body)
    assert isinstance(caught.value, errors.ResponseTooLargeError)


@contextmanager
def peak_python_memory() -> Iterator[list[int]]:
    peak: list[int] = []
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@pytest.mark.parametrize("body", ["huge", "endless", "gzip_bomb"])
async def test_a_gigabyte_over_a_socket_is_refused_in_bounded_memory(body: Body) -> None:
    """1 GiB announced, an endless chunked body, a gzip body inflating to 1 GiB: each refused at the
    limit (1 MiB here), with the process's Python memory staying within a few times the limit."""
    async with oversized_api(body) as api:
        settings = make_settings(base_url=api.base_url, max_response_bytes=1 << 20)
        with peak_python_memory() as peak:
            async with FocusClient(settings, retry_policy=FAST_RETRIES) as c:
                with pytest.raises(errors.ResponseTooLargeError, match="1,048,576 bytes"):
                    await c.list_roles(ORG)
    assert peak[0] < 16 << 20
    assert api.sent < 1 << 30  # the server was stopped long before the end


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "-5", "1e308", "soon"])
async def test_retry_after_of_any_value_gives_a_plain_refusal(routes: Routes, value: str) -> None:
    routes.add("GET", "roles", httpx2.Response(429, json={"error": "slow down"}, headers={"Retry-After": value}))
    async with connect(make_settings(), routes.transport()) as mcp:
        result = await mcp.call_tool("list_roles", {})
    said = text(result)
    assert result.is_error and "HTTP 429" in said and "try again in" in said, said


def test_retry_after_values_are_clamped_and_dates_understood() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    day = errors.MAX_HEADER_SECONDS
    assert errors.retry_after_seconds("inf", now) == day and errors.retry_after_seconds("1e308", now) == day
    assert errors.retry_after_seconds("-5", now) == 0 and errors.retry_after_seconds("nan", now) is None
    assert errors.retry_after_seconds(format_datetime(now + timedelta(minutes=2), usegmt=True), now) == 120
    assert errors.retry_after_seconds(format_datetime(now - timedelta(minutes=2), usegmt=True), now) == 0
    assert errors.retry_after_seconds(format_datetime(now + timedelta(days=400), usegmt=True), now) == day
    assert errors.human_duration(float("inf")) == "24 h" and errors.human_duration(float("nan")) == "24 h"


@pytest.mark.parametrize(
    ("headers", "words", "kind"),
    [
        ({"X-Toggl-Quota-Remaining": "0"}, "Payment required", errors.QuotaExceededError),
        ({"X-Toggl-Quota-Remaining": "12"}, "Hourly request quota exceeded", errors.QuotaExceededError),
        ({}, "Hourly request quota exceeded", errors.QuotaExceededError),
        ({"X-Toggl-Quota-Remaining": "12"}, "Custom fields need the Premium plan", errors.PlanRestrictionError),
    ],
)
async def test_402_is_the_quota_when_the_header_or_the_body_says_so(
    routes: Routes, headers: dict[str, str], words: str, kind: type[errors.APIError]
) -> None:
    routes.add(
        "GET", "roles", httpx2.Response(402, json={"error": "payment", "error_description": words}, headers=headers)
    )
    async with client(routes) as c:
        with pytest.raises(kind) as caught:
            await c.list_roles(ORG)
    assert ("quota is spent" in str(caught.value)) == (kind is errors.QuotaExceededError)


def echo_app(status: int) -> Any:
    """An API that echoes what it was sent: the Authorization header in a response header and in its body
    (an error's JSON; for a 200, plain text, as a proxy's debug page would)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        sent = dict(scope["headers"]).get(b"authorization", b"")
        basic = base64.b64decode(sent.split(b" ", 1)[1]) if sent.startswith(b"Basic ") else b""
        words = b"you sent " + sent + b" (" + basic + b")"
        body = words if status == 200 else b'{"error": "denied", "error_description": "' + words + b'"}'
        headers = [(b"content-type", b"application/json"), (b"x-echo", sent)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.mark.parametrize("auth", ["key", "basic"])
@pytest.mark.parametrize("status", [401, 200])
async def test_echoed_credentials_reach_neither_the_model_nor_a_debug_log(
    caplog: pytest.LogCaptureFixture, auth: str, status: int
) -> None:
    """The API (or a proxy) echoes the key, the password and the base64 form, in an error body, in a
    body that is not JSON, and in a header that httpcore2 logs at DEBUG."""
    credentials = {"api_key": SECRET_KEY} if auth == "key" else {"api_key": None, "email": EMAIL, "password": PASSWORD}
    caplog.set_level(logging.DEBUG)
    with serving(echo_app(status)) as url:
        settings = make_settings(base_url=f"{url}/api", **credentials)
        async with connect(settings, httpx2.AsyncHTTPTransport()) as mcp:
            result = await mcp.call_tool("list_roles", {})
    said = text(result)
    assert result.is_error and ("HTTP 401" in said if status == 401 else "not JSON" in said), said
    assert redaction.REDACTED in said
    assert "httpcore2" in caplog.text and "x-echo" in caplog.text.lower()  # the headers were logged, redacted
    for secret in (SECRET_KEY, PASSWORD, redaction.basic_credentials(EMAIL, PASSWORD)):
        assert secret not in said and secret not in caplog.text


def test_a_short_secret_is_redacted_only_as_a_word() -> None:
    redaction.register(["s3c"])
    assert redaction.redact("key s3c, not s3cret") == f"key {redaction.REDACTED}, not s3cret"


@pytest.mark.parametrize(
    "url", ["http://focus.example.com/api", "http://10.0.0.7:8080/api", "HTTP://Focus.Toggl.com/api"]
)
def test_plain_http_to_a_remote_host_is_refused_at_start(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.load({"TOGGL_FOCUS_BASE_URL": url, "TOGGL_FOCUS_API_KEY": SECRET_KEY})
    said = str(caught.value)
    assert "TOGGL_FOCUS_BASE_URL" in said and "in clear" in said and "https" in said and "loopback" in said
    monkeypatch.setenv("TOGGL_FOCUS_BASE_URL", url)
    monkeypatch.setenv("TOGGL_FOCUS_API_KEY", SECRET_KEY)
    assert cli.main(["call", "list_roles", "{}"]) == 2  # before any connection: no client is even made
    assert "would travel in clear" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/api", "http://127.8.9.10/api", "http://[::1]/api", "http://localhost/api"]
)
def test_plain_http_on_loopback_is_accepted(url: str) -> None:
    assert Settings.load({"TOGGL_FOCUS_BASE_URL": url}).base_url == url


def small_pages(total: int, rows: int, quota: int) -> Callable[[httpx2.Request], httpx2.Response]:
    """A users endpoint that serves `rows` a page whatever per_page asks, and counts the quota down."""
    left = [quota]

    def handler(request: httpx2.Request) -> httpx2.Response:
        left[0] -= 1
        page = int(request.url.params.get("page", 1))
        shown = [user_json(n) for n in range((page - 1) * rows, min(total, page * rows))]
        return httpx2.Response(200, json=shown, headers={"X-Toggl-Quota-Remaining": str(left[0])})

    return handler


async def test_the_read_of_the_members_keeps_the_quotas_reserve_and_says_it_is_not_whole(routes: Routes) -> None:
    """5 rows a page, 25 requests left: the snapshot reads pages while a next one leaves the reserve of
    5 (20 pages, 100 of 400 members), says the count is not whole and why, and spends no more while
    the quota cannot pay another read: the next question answers from what was read."""
    routes.add("GET", "users", small_pages(total=400, rows=5, quota=25))
    async with connect(make_settings(), routes.transport()) as mcp:
        result = await mcp.call_tool("list_users", {"count_only": True})
        spent = len(routes.requests)
        again = await mcp.call_tool("list_users", {"two_factor": True, "count_only": True, "fresh": True})
    said = text(result)
    assert spent == 20 and result.structured_content["counts"]["total"] == 100
    assert not result.is_error and "of the 100 members read, not all: the read stopped after 20 pages" in said
    assert f"{QUOTA_RESERVE} kept in reserve" in said and result.structured_content["complete"] is False
    assert len(routes.requests) == spent and "fresh=true was not read" in text(again)
    assert again.structured_content["counts"]["total"] == 50  # of the 100 read, those with 2FA on


async def test_a_first_read_keeps_the_reserve_when_the_quota_is_short_from_the_start(routes: Routes) -> None:
    routes.add("GET", "users", small_pages(total=400, rows=100, quota=8))
    async with connect(make_settings(), routes.transport()) as mcp:
        partial = await mcp.call_tool("list_users", {"count_only": True})  # the first page learns the quota: 7 left
    said = text(partial)
    assert len(routes.requests) == 3 and "of the 300 members read, not all" in said  # a 4th page would leave 4
    assert "the read stopped after 3 pages to spare the hourly quota (5 left" in said, said


def test_the_api_layer_names_no_mcp_tool() -> None:
    """api/ knows nothing of MCP: its string literals (messages, descriptions, docstrings) name no tool;
    the tools layer adds that advice (toolkit/advice.py)."""
    tools = {spec.name for spec in SPECS}
    named = [
        (path.name, node.value)
        for path in sorted(Path(api.__file__).parent.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if any(re.search(rf"\b{tool}\b", node.value) for tool in tools)
    ]
    assert named == []
