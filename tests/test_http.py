"""Streamable HTTP and SSE: the SDK's own clients, the token, Host and Origin checks, concurrency."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from helpers import sandbox_settings, text
from loopback import serving
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from focus_mcp.config import Settings
from focus_mcp.http import HttpOptions, exposure_problem, http_app
from focus_mcp.registry import SPECS
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio
TOKEN = "http-token-0123456789abcdef0123456789"


@contextmanager
def serving_focus(transport: str, token: str | None = TOKEN, stateless: bool = False) -> Iterator[str]:
    """focus-mcp on the sandbox, served over HTTP on a free loopback port; yields the base URL."""
    settings, sandbox = sandbox_settings()
    settings = Settings(**{**settings.model_dump(), "http_token": token})
    options = HttpOptions(transport=transport, host="127.0.0.1", stateless=stateless)
    with serving(http_app(build_server(settings, sandbox.transport()), settings, options)) as url:
        yield url


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _use_streamable(url: str, headers: dict[str, str]) -> list[str]:
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = (await session.list_tools()).tools
        result = await session.call_tool("list_teams", {"filter": "Design"})
        assert not result.is_error
        return [t.name for t in tools] + [text(result)]


@pytest.mark.parametrize("stateless", [False, True])
async def test_streamable_http_with_the_token(stateless: bool) -> None:
    with serving_focus("streamable-http", stateless=stateless) as url:
        seen = await _use_streamable(url, auth())
    assert "list_users" in seen and "Design" in seen[-1]


async def test_sse_with_the_token() -> None:
    with serving_focus("sse") as url:
        async with sse_client(f"{url}/sse", headers=auth()) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert len((await session.list_tools()).tools) == len(SPECS)
            result = await session.call_tool("list_roles", {})
    assert not result.is_error and "Owner" in text(result)


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_no_token_or_a_wrong_one_gets_401_and_healthz_needs_none(transport: str) -> None:
    path = "/mcp" if transport == "streamable-http" else "/sse"
    with serving_focus(transport) as url:
        for headers in ({}, auth("wrong"), {"Authorization": TOKEN}):
            response = (
                httpx2.post(f"{url}{path}", headers=headers, json={})
                if path == "/mcp"
                else httpx2.get(f"{url}{path}", headers=headers)
            )
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer ")  # RFC 6750: how to authenticate
            said = response.json()["error_description"]
            assert "Authorization: Bearer <token>" in said and "TOGGL_FOCUS_HTTP_TOKEN" in said
            assert TOKEN not in response.text and "wrong" not in said  # neither the token nor what was sent
            wrong = headers.get("Authorization", "").startswith("Bearer ")
            assert ('error="invalid_token"' in response.headers["www-authenticate"]) == wrong
        if transport == "sse":
            assert httpx2.post(f"{url}/messages/?session_id=x", json={}).status_code == 401
        health = httpx2.get(f"{url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


def test_foreign_origin_and_host_are_refused() -> None:
    client_info = {"name": "t", "version": "1"}
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client_info}
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with serving_focus("streamable-http") as url:
        evil_origin = httpx2.post(
            f"{url}/mcp", json=initialize, headers={**auth(), **accept, "Origin": "https://evil.example"}
        )
        evil_host = httpx2.post(f"{url}/mcp", json=initialize, headers={**auth(), **accept, "Host": "evil.example"})
        fine = httpx2.post(f"{url}/mcp", json=initialize, headers={**auth(), **accept, "Origin": url})
    assert evil_origin.status_code == 403
    assert evil_host.status_code == 421
    assert fine.status_code == 200


async def test_twenty_clients_making_ten_calls_each_at_once() -> None:
    failures: list[BaseException] = []
    with serving_focus("streamable-http") as url:

        async def client(n: int) -> None:
            try:
                async with (
                    httpx2.AsyncClient(headers=auth(), timeout=60) as http,
                    streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, *_),
                    ClientSession(read, write) as session,
                ):
                    await session.initialize()
                    for i in range(10):
                        result = await session.call_tool("list_users", {"per_page": 5, "page": 1 + (n + i) % 5})
                        assert not result.is_error, text(result)
            except BaseException as exc:  # collected, so that one failure does not hide the others
                failures.append(exc)

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                for n in range(20):
                    tg.start_soon(client, n)
    assert failures == []


def test_exposing_without_a_token_is_refused() -> None:
    settings = Settings()
    assert "TOGGL_FOCUS_HTTP_TOKEN" in (exposure_problem(settings, "0.0.0.0") or "")
    assert exposure_problem(settings, "127.0.0.1") is None
    assert exposure_problem(Settings(http_token=SecretStr(TOKEN)), "0.0.0.0") is None
    short = exposure_problem(Settings(http_token=SecretStr("x")), "0.0.0.0") or ""
    assert "fewer than 32 characters" in short and "openssl rand -hex 32" in short
    assert exposure_problem(Settings(http_token=SecretStr("x")), "127.0.0.2") is None  # loopback: any token
    started = subprocess.run(
        [sys.executable, "-m", "focus_mcp", "--sandbox", "--transport", "streamable-http", "--host", "0.0.0.0",
         "--port", "8931"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert started.returncode == 2 and "TOGGL_FOCUS_HTTP_TOKEN" in started.stderr


@pytest.mark.parametrize(("stateless", "mode", "asked"), [(False, "legacy", True), (True, "legacy", False),
                                                          (True, "auto", True)])  # fmt: skip
async def test_delete_over_http_asks_when_the_transport_can_carry_the_question(
    stateless: bool, mode: str, asked: bool
) -> None:
    import mcp_types as types
    from mcp import Client

    questions: list[str] = []

    async def accept(ctx, params):  # type: ignore[no-untyped-def]
        questions.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    with serving_focus("streamable-http", stateless=stateless) as url:
        async with httpx2.AsyncClient(headers=auth(), timeout=30) as http:
            transport = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(transport, elicitation_callback=accept, mode=mode) as client:
                result = await client.call_tool("delete_group", {"group_id": 4500019})
    assert bool(questions) is asked
    if asked:
        assert not result.is_error and "Deleted group 4500019" in text(result)
    else:
        assert result.is_error and "confirm=true" in text(result)


@pytest.mark.parametrize(("transport", "endpoint"), [("streamable-http", "/mcp"), ("sse", "/sse")])
async def test_the_server_says_on_stderr_where_it_listens_once_it_does(transport: str, endpoint: str) -> None:
    command = [sys.executable, "-m", "focus_mcp", "--sandbox", "--read-only", "--transport", transport, "--port", "0"]
    env = {
        "PATH": os.environ["PATH"],
        "TOGGL_FOCUS_HTTP_TOKEN": TOKEN,
        "TOGGL_FOCUS_JOURNAL": os.environ["TOGGL_FOCUS_JOURNAL"],
    }
    async with await anyio.open_process(command, env=env) as process:
        assert process.stderr is not None and process.stdout is not None
        try:
            with anyio.fail_after(60):
                line = (await BufferedByteReceiveStream(process.stderr).receive_until(b"\n", 4096)).decode()
            url = re.search(r"ready at (http://127\.0\.0\.1:(\d+)(/\w+));", line)
            assert url and url.group(3) == endpoint, line
            assert "token required" in line and "read-only" in line and "sandbox" in line and TOKEN not in line
            async with httpx2.AsyncClient(timeout=30) as http:  # it listens: the line came after the bind
                assert (await http.get(f"http://127.0.0.1:{url.group(2)}/healthz")).status_code == 200
            if transport == "streamable-http":
                seen = await _use_streamable(f"http://127.0.0.1:{url.group(2)}", auth())
                assert "Design" in seen[-1] and "create_group" not in seen
        finally:
            process.terminate()
        with anyio.fail_after(30):
            printed = [chunk async for chunk in process.stdout]
        assert printed == []  # stdout is never written to, in any mode


README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's example uses curl")
def test_the_readmes_curl_call_with_the_token_works_as_written(tmp_path: Path) -> None:
    """The README's HTTP server command and its curl call, as written but for the port (a free one)."""
    serve = next(line for line in README.splitlines() if line.startswith("TOGGL_FOCUS_HTTP_TOKEN=change-me "))
    curl = re.search(r"^(curl -s http://127\.0\.0\.1:8000/mcp .*?\}\}\}')$", README, re.DOTALL | re.MULTILINE)
    assert curl is not None and "--port 8000" in serve
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGGL_FOCUS_")}
    env["TOGGL_FOCUS_JOURNAL"] = str(tmp_path / "journal.sqlite")
    command = serve.replace("--port 8000", "--port 0")
    root = Path(__file__).resolve().parents[1]  # where the README's `.venv/bin/focus-mcp` is
    with subprocess.Popen(
        ["bash", "-c", command], cwd=root, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    ) as server:
        try:
            assert server.stderr is not None
            ready = next(line for line in server.stderr if "ready at" in line)
            port = re.search(r"127\.0\.0\.1:(\d+)/mcp", ready)
            assert port is not None
            call = curl.group(1).replace(":8000/", f":{port.group(1)}/")
            answered = subprocess.run(["bash", "-c", call], capture_output=True, text=True, timeout=60)
            refused = subprocess.run(
                ["bash", "-c", call.replace("-H 'Authorization: Bearer change-me'", "-i")],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
        finally:
            os.killpg(server.pid, signal.SIGTERM)  # bash and the server it started
    result = json.loads(answered.stdout)["result"]
    assert not result.get("isError") and "6 roles." in result["content"][0]["text"], answered.stdout
    assert refused.stdout.startswith("HTTP/1.1 401") and "www-authenticate: bearer" in refused.stdout.lower()
    assert "Authorization: Bearer <token>" in refused.stdout
