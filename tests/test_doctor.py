"""`focus-mcp doctor`: what it checks, what it says, its exit status, and that it never prints a secret."""

from __future__ import annotations

import httpx2
import pytest
from conftest import FAST_RETRIES, SECRET_KEY, WS, Routes, make_settings, teams_json

from focus_mcp.api import client as client_module
from focus_mcp.doctor import run_doctor

pytestmark = pytest.mark.anyio
QUOTA = {"X-Toggl-Quota-Remaining": "27", "X-Toggl-Quota-Resets-In": "1500"}


async def test_all_good_shows_the_quota(routes: Routes, capsys: pytest.CaptureFixture[str]) -> None:
    routes.add("GET", "roles", httpx2.Response(200, json=[{"role_id": 1}], headers=QUOTA))
    routes.add("GET", "teams", httpx2.Response(200, json=teams_json(), headers=QUOTA))
    assert await run_doctor(make_settings(), routes.transport()) == 0
    out = capsys.readouterr().out
    assert "27 requests left this hour, resets in 25 min" in out and "all good" in out
    assert routes.query(1) == {"workspace_id": str(WS), "per_page": "1"}
    assert SECRET_KEY not in out


async def test_bad_key_fails_clearly_without_printing_it(routes: Routes, capsys: pytest.CaptureFixture[str]) -> None:
    routes.add("GET", "roles", httpx2.Response(401, json={"error": "unauthorized", "error_description": "bad key"}))
    assert await run_doctor(make_settings(), routes.transport()) == 1
    out = capsys.readouterr().out
    assert "[FAIL]" in out and "HTTP 401" in out and "TOGGL_FOCUS_API_KEY" in out and SECRET_KEY not in out
    assert "make a new one" in out.lower() and "`focus-mcp doctor` checks them" not in out  # doctor is running
    assert len(routes.requests) == 1


async def test_missing_configuration_names_each_variable(routes: Routes, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(api_key=None, organization_id=None, workspace_id=None)
    assert await run_doctor(settings, routes.transport()) == 1
    out = capsys.readouterr().out
    for variable in ("TOGGL_FOCUS_API_KEY", "TOGGL_FOCUS_ORGANIZATION_ID", "TOGGL_FOCUS_WORKSPACE_ID"):
        assert variable in out
    assert routes.requests == []


async def test_unreachable_api_and_wrong_workspace(
    routes: Routes, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "RetryPolicy", lambda: FAST_RETRIES)  # doctor's retries, minus their waits
    routes.add("GET", "roles", [])
    routes.add("GET", "teams", httpx2.Response(403, json={"error": "forbidden", "error_description": "no access"}))
    assert await run_doctor(make_settings(), routes.transport()) == 1
    assert "workspace" in capsys.readouterr().out

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    assert await run_doctor(make_settings(), httpx2.MockTransport(refuse)) == 1
    assert "cannot reach https://focus.test/api" in capsys.readouterr().out


async def test_doctor_on_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    from helpers import sandbox_settings

    settings, sandbox = sandbox_settings()
    assert await run_doctor(settings, sandbox.transport()) == 0
    out = capsys.readouterr().out
    assert "the embedded sandbox" in out and "request-state" not in out  # one process, its own key: nothing to say
    assert max(len(line.split()) for line in out.splitlines()) <= 25


async def test_a_single_process_hears_of_replicas_in_one_short_line(
    routes: Routes, capsys: pytest.CaptureFixture[str]
) -> None:
    routes.add("GET", "roles", [])
    routes.add("GET", "teams", teams_json())
    await run_doctor(make_settings(), routes.transport())
    line = next(line for line in capsys.readouterr().out.splitlines() if "request-state key" in line)
    assert line.startswith("[skip]") and "docs/deploy.md" in line and len(line.split()) <= 20, line


async def test_a_placeholder_id_is_said_to_be_one(routes: Routes, capsys: pytest.CaptureFixture[str]) -> None:
    from focus_mcp.config import Settings

    settings = Settings.load({"TOGGL_FOCUS_API_KEY": SECRET_KEY, "TOGGL_FOCUS_ORGANIZATION_ID": "your organization id"})
    assert await run_doctor(settings, routes.transport()) == 1
    out = capsys.readouterr().out
    assert "[FAIL] organization id: TOGGL_FOCUS_ORGANIZATION_ID still holds a placeholder" in out
    assert "me/organizations" in out and routes.requests == []


async def test_the_docs_placeholder_key_is_said_to_be_one(routes: Routes, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_doctor(make_settings(api_key="toggl_sk_..."), routes.transport()) == 1
    out = capsys.readouterr().out
    assert "[FAIL] credentials: TOGGL_FOCUS_API_KEY is toggl_sk_..., the placeholder from the docs, not a key" in out
    assert "from your Toggl profile page" in out and "is set (value not shown)" not in out
    assert routes.requests == []  # never sent
