"""End to end: `focus-mcp` spawned as a real process, over stdio, and its `call` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import SECRET_KEY
from helpers import text
from mcp import ClientSession, StdioServerParameters, stdio_client

from focus_mcp import sandbox_data as seed

pytestmark = pytest.mark.anyio
COMMAND = shutil.which("focus-mcp") or sys.executable
PREFIX = [] if shutil.which("focus-mcp") else ["-m", "focus_mcp"]


SANDBOX_STATE = os.path.join(tempfile.mkdtemp(prefix="focus-mcp-test-"), "sandbox.json")


def _env(**extra: str) -> dict[str, str]:
    """The environment without any TOGGL_FOCUS_ setting of the developer's, and a private sandbox state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGGL_FOCUS_")}
    env["TOGGL_FOCUS_SANDBOX_STATE"] = SANDBOX_STATE
    env.update(extra)
    return env


async def test_stdio_against_an_api_on_loopback_leaks_no_secret(loopback_sandbox: str) -> None:
    env = _env(
        TOGGL_FOCUS_API_KEY=SECRET_KEY,
        TOGGL_FOCUS_BASE_URL=loopback_sandbox,
        TOGGL_FOCUS_ORGANIZATION_ID=str(seed.ORGANIZATION_ID),
        TOGGL_FOCUS_WORKSPACE_ID=str(next(iter(seed.WORKSPACES))),
        TOGGL_FOCUS_LOG_LEVEL="DEBUG",
    )
    params = StdioServerParameters(command=COMMAND, args=PREFIX, env=env)
    with tempfile.TemporaryFile("w+") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            assert len(tools) == 9
            teams = await session.call_tool("list_teams", {"filter": "Design"})
            assert not teams.is_error and "Design" in text(teams)
            bad = await session.call_tool("list_users", {"per_page": 1000})
            assert bad.is_error
            forbidden = await session.call_tool("list_roles", {"organization_id": 1})
            assert forbidden.is_error and "HTTP 403" in text(forbidden)
            outputs = [text(teams), text(bad), text(forbidden)]
        errlog.seek(0)
        log = errlog.read()
    assert "GET" in log  # DEBUG logging was on, and went to stderr
    assert SECRET_KEY not in log and all(SECRET_KEY not in o for o in outputs)
    assert "Bearer" not in log


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *PREFIX, *args], capture_output=True, text=True, env=_env(), timeout=60)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_stdio_carries_progress_and_the_servers_own_question(mode: str) -> None:
    """Over the event-loop pipes: notifications out, a request to the client out and its answer in."""
    import mcp_types as types
    from mcp import Client

    progress: list[float] = []
    questions: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async def accept(ctx, params):  # type: ignore[no-untyped-def]
        questions.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    params = StdioServerParameters(command=COMMAND, args=[*PREFIX, "--sandbox"], env=_env())
    async with Client(stdio_client(params), elicitation_callback=accept, mode=mode) as client:
        users = await client.call_tool("list_users", {"all_pages": True}, progress_callback=on_progress)
        deleted = await client.call_tool("delete_group", {"group_id": 4500019})
    assert not users.is_error and progress == [100, 150]  # the sandbox has 150 users
    assert len(questions) == 1 and not deleted.is_error and "Deleted group 4500019" in text(deleted)


def test_call_prints_what_the_model_reads_with_exit_codes() -> None:
    ok = _cli("--sandbox", "call", "list_teams", '{"filter": "Support"}')
    assert ok.returncode == 0 and "Support" in ok.stdout and ok.stdout.startswith("[SANDBOX")
    failed = _cli("--sandbox", "call", "list_users", '{"per_page": 0}')
    assert failed.returncode == 1 and "per_page" in failed.stdout
    assert _cli("--sandbox", "call", "list_users", "{not json").returncode == 2
    assert _cli("--sandbox", "call", "no_such_tool", "{}").returncode == 2
    no_account = _cli("call", "list_roles", "{}")
    assert no_account.returncode == 1 and "TOGGL_FOCUS_API_KEY" in no_account.stdout
    listed = _cli("--sandbox", "tools")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 9


REQUESTS = "".join(
    json.dumps(message) + "\n"
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "two", "method": "tools/list", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_roles", "arguments": {}}},
    )
)  # fmt: skip


def test_stdin_closed_early_still_gets_every_answer_over_a_pipe() -> None:
    """Written at once, then stdin closed: every request read is answered before the server exits."""
    done = subprocess.run(
        [COMMAND, *PREFIX, "--sandbox"], input=REQUESTS, capture_output=True, text=True, env=_env(), timeout=60
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["id"] for a in answers] == [1, "two", 3] and done.returncode == 0
    assert "Owner" in answers[2]["result"]["content"][0]["text"]


def test_a_slow_reader_still_gets_every_answer_after_stdin_ends() -> None:
    """More than a pipe holds (64 KiB), read only after stdin has ended: nothing is lost at exit."""
    calls = [
        {"jsonrpc": "2.0", "id": 10 + n, "method": "tools/call",
         "params": {"name": "list_users", "arguments": {"per_page": 100, "page": 1 + n % 2}}}
        for n in range(4)
    ]  # fmt: skip
    requests = REQUESTS.splitlines(keepends=True)[:2] + [json.dumps(c) + "\n" for c in calls]
    server = subprocess.Popen(
        [COMMAND, *PREFIX, "--sandbox"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env()
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write("".join(requests).encode())
    server.stdin.close()
    time.sleep(2)  # the answers pile up in the pipe and in the server's buffer meanwhile
    out = server.stdout.read()
    assert server.wait(timeout=60) == 0
    assert len(out) > 1 << 17
    assert [json.loads(line)["id"] for line in out.splitlines()] == [1, 10, 11, 12, 13]


def test_stdin_from_a_file_uses_the_sdk_transport(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(REQUESTS, encoding="utf-8")
    with requests.open() as stdin:
        done = subprocess.run(
            [COMMAND, *PREFIX, "--sandbox"], stdin=stdin, capture_output=True, text=True, env=_env(), timeout=60
        )
    # The SDK's transport cancels what is still in flight at the end of stdin, so only the first
    # answer is certain: it shows that the fallback serves.
    ids = [json.loads(line)["id"] for line in done.stdout.splitlines()]
    assert ids[:1] == [1] and done.returncode == 0
