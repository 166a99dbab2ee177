"""Shared fixtures: settings, a recording MockTransport route table, an in-memory MCP client."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conformance import Conformance, request_problems
from loopback import serving

from focus_mcp.api.retry import RetryPolicy
from focus_mcp.config import Settings
from focus_mcp.sandbox import SandboxAPI

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ define shared scenarios

SECRET_KEY = "toggl_sk_TEST_never_shown_0123456789"
# Retries keep their logic but not their waiting, so that the suite stays fast.
FAST_RETRIES = RetryPolicy(initial_backoff=0.001, max_backoff=0.004)
ORG, WS = 11, 22
BASE = "https://focus.test/api"


@pytest.fixture(autouse=True)
def _no_developer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings() reads TOGGL_FOCUS_* from the environment: the developer's own must not leak into a test."""
    for name in [n for n in os.environ if n.startswith("TOGGL_FOCUS_")]:
        monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _journal_in_scratch(
    _no_developer_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every server a test starts (in process or spawned) journals into a file of its own, never
    into the developer's state directory."""
    monkeypatch.setenv("TOGGL_FOCUS_JOURNAL", str(tmp_path_factory.mktemp("journal") / "journal.sqlite"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"api_key": SECRET_KEY, "organization_id": ORG, "workspace_id": WS, "base_url": BASE}
    values.update(overrides)
    return Settings(**values)


Handler = Callable[[httpx2.Request], httpx2.Response] | httpx2.Response | Any


@dataclass
class Routes:
    """A route table for httpx2.MockTransport: (METHOD, path) -> response, JSON body or callable.

    Every request is recorded; an unrouted one answers 599 so that a test notices it.
    """

    table: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx2.Request] = field(default_factory=list)

    def add(self, method: str, path: str, answer: Handler) -> Routes:
        self.table[(method, f"/api/organizations/{ORG}/{path}")] = answer
        return self

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.table.get((request.method, request.url.path))
        if answer is None:
            return httpx2.Response(599, text=f"unrouted {request.method} {request.url.path}")
        if callable(answer):
            return answer(request)
        if isinstance(answer, httpx2.Response):
            return answer
        return httpx2.Response(200, json=answer)

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self)

    def body(self, n: int = -1) -> Any:
        return json.loads(self.requests[n].content)

    def query(self, n: int = -1) -> dict[str, str]:
        return dict(self.requests[n].url.params)


def group_json(
    gid: int = 5, name: str = "Design", members: tuple[int, ...] = (101, 102), ws: int = WS
) -> dict[str, Any]:
    return {
        "id": gid,
        "name": name,
        "emoji": "🎨",
        "organization_id": ORG,
        "users": [
            {"organization_user_id": m, "display_name": f"User {m}", "user_account_id": m + 1000, "created_at": "x"}
            for m in members
        ],
        "workspaces": [{"workspace_id": ws, "name": "Main", "products": ["focus"]}],
        "ghosts": [{"id": 9, "name": "Placeholder"}],
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "deleted_at": None,
    }


def teams_json(*groups: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(groups), "page": 1, "rows": len(groups), "total": len(groups)}


@pytest.fixture
def routes() -> Routes:
    return Routes()


@pytest.fixture
def loopback_sandbox() -> Iterator[str]:
    """A sandbox API served by uvicorn on a free loopback port; yields its base URL."""
    with serving(SandboxAPI().app) as url:
        yield f"{url}/api"


@pytest.fixture(autouse=True)
def wire_follows_the_spec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every request a test's tools send through a route table, and every exchange with an in-process
    sandbox, is checked against Toggl's spec; a violation fails the test. Tests that break the spec on
    purpose (to see the sandbox refuse it) are marked `off_spec`."""
    if request.node.get_closest_marker("off_spec"):
        yield
        return
    wires: list[Conformance] = []
    sent: list[str] = []
    transport, route = SandboxAPI.transport, Routes.__call__

    def checked_transport(self: SandboxAPI) -> httpx2.AsyncBaseTransport:
        wires.append(Conformance(transport(self)))
        return wires[-1]

    def checked_route(self: Routes, request: httpx2.Request) -> httpx2.Response:
        sent.extend(request_problems(request))
        return route(self, request)

    monkeypatch.setattr(SandboxAPI, "transport", checked_transport)
    monkeypatch.setattr(Routes, "__call__", checked_route)
    yield
    problems = sent + [problem for wire in wires for problem in wire.problems]
    assert problems == [], "off the spec:\n" + "\n".join(problems)
