"""End to end: `focus-mcp` spawned as a real process, over stdio, and its `call` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from conftest import SECRET_KEY
from helpers import text
from mcp import ClientSession, StdioServerParameters, stdio_client

from focus_mcp.registry import SPECS
from focus_mcp.sandbox import data as seed

pytestmark = pytest.mark.anyio
COMMAND = shutil.which("focus-mcp") or sys.executable
PREFIX = [] if shutil.which("focus-mcp") else ["-m", "focus_mcp"]


SANDBOX_STATE = os.path.join(tempfile.mkdtemp(prefix="focus-mcp-test-"), "sandbox.json")


def _env(**extra: str) -> dict[str, str]:
    """The environment without any TOGGL_FOCUS_ setting of the developer's, a private sandbox state and
    change journal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGGL_FOCUS_")}
    env["TOGGL_FOCUS_SANDBOX_STATE"] = SANDBOX_STATE
    env["TOGGL_FOCUS_JOURNAL"] = os.environ["TOGGL_FOCUS_JOURNAL"]  # the test's own (conftest), never the user's
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
            assert [t.name for t in tools] == [s.name for s in SPECS]
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
    """Over stdio: notifications out, a request to the client out and its answer in."""
    import mcp_types as types
    from mcp import Client

    reported: list[float] = []
    questions: list[str] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append(progress)

    async def accept(ctx, params):  # type: ignore[no-untyped-def]
        questions.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    params = StdioServerParameters(command=COMMAND, args=[*PREFIX, "--sandbox"], env=_env())
    async with Client(stdio_client(params), elicitation_callback=accept, mode=mode) as client:
        users = await client.call_tool("list_users", {"all_pages": True}, progress_callback=on_progress)
        deleted = await client.call_tool("delete_group", {"group_id": 4500019})
    assert not users.is_error and reported == [100, 150]  # the sandbox has 150 users
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
    lines = listed.stdout.splitlines()
    assert listed.returncode == 0 and [line.split()[0] for line in lines if line[:1].isalpha()] == [
        s.name for s in SPECS
    ]
    arguments = dict(zip(lines[::2], lines[1::2], strict=False))  # each tool's line, then its arguments
    update = next(args for line, args in arguments.items() if line.startswith("update_group"))
    assert "group_id*" in update and "add_users" in update and "organization_id" not in update
    assert "also take organization_id" in listed.stdout


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {"elicitation": {}},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


class RawSession:
    """JSON-RPC lines to and from a spawned `focus-mcp --sandbox`, for what no SDK client sends."""

    def __init__(self, process: Process) -> None:
        self.process = process
        assert process.stdin is not None and process.stdout is not None
        self.stdin = process.stdin
        self.lines = BufferedByteReceiveStream(process.stdout)

    async def send(self, message: object) -> None:
        raw = message if isinstance(message, bytes) else json.dumps(message).encode()
        await self.stdin.send(raw + b"\n")

    async def receive(self) -> dict[str, Any]:
        with anyio.fail_after(30):
            answer: dict[str, Any] = json.loads(await self.lines.receive_until(b"\n", 1 << 24))
            return answer

    async def start(self) -> None:
        await self.send(INITIALIZE)
        assert (await self.receive())["id"] == 1
        await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})


async def test_closing_stdin_with_a_question_open_ends_the_server_within_5_s() -> None:
    async with await anyio.open_process([COMMAND, *PREFIX, "--sandbox"], env=_env()) as process:
        session = RawSession(process)
        await session.start()
        delete = {"name": "delete_group", "arguments": {"group_id": 4500019}}
        await session.send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": delete})
        question = await session.receive()
        assert question["method"] == "elicitation/create"  # the server now waits for the user's yes
        await session.stdin.aclose()
        with anyio.fail_after(5):
            await process.wait()


async def test_garbage_on_stdin_leaves_the_server_answering() -> None:
    garbage = [
        b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":"' + b"a" * 70_000_000 + b'"}}',  # a 70 MB line
        b'{"jsonrpc":"2.0","id":3,"method":"ping","params":' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}",
        b"[" * 1000 + b"]" * 1000,
        b"not json at all",
        *(json.dumps({"jsonrpc": "2.0", "id": bad, "method": "ping"}).encode() for bad in ([1], {}, 1.5, True, None)),  # type: ignore[var-annotated]
    ]
    async with await anyio.open_process([COMMAND, *PREFIX, "--sandbox"], env=_env()) as process:
        session = RawSession(process)
        await session.start()
        for line in garbage:
            await session.send(line)
        await session.send({"jsonrpc": "2.0", "id": "last", "method": "ping"})
        answers = [await session.receive()]
        while answers[-1].get("id") != "last":
            answers.append(await session.receive())
        assert answers[-1] == {"jsonrpc": "2.0", "id": "last", "result": {}}
        await session.stdin.aclose()
        await process.wait()


@pytest.mark.parametrize(("organization", "workspace"), [("123456", "654321"), ("abc", "your workspace id")])
def test_the_sandbox_ignores_configured_ids(organization: str, workspace: str) -> None:
    env = _env(
        TOGGL_FOCUS_ORGANIZATION_ID=organization, TOGGL_FOCUS_WORKSPACE_ID=workspace, TOGGL_FOCUS_BASE_URL="ftp://x"
    )
    done = subprocess.run(
        [COMMAND, *PREFIX, "--sandbox", "call", "list_roles", "{}"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0 and "6 roles." in done.stdout, done.stdout + done.stderr


def test_call_into_a_closed_pipe_ends_quietly() -> None:
    done = subprocess.run(
        f"{' '.join([COMMAND, *PREFIX])} --sandbox call list_users '{{\"per_page\": 100}}' | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_plain_refusals_from_the_command_line() -> None:
    read_only = _cli("--sandbox", "--read-only", "call", "delete_group", '{"group_id": 4500019}')
    assert read_only.returncode == 1 and "read-only mode" in read_only.stdout
    unknown = _cli("--sandbox", "call", "list_teams", '{"fliter": "Design"}')
    assert unknown.returncode == 1 and "unknown argument fliter" in unknown.stdout and "filter" in unknown.stdout
    assert "pydantic" not in unknown.stdout
    half = subprocess.run(
        [COMMAND, *PREFIX, "call", "list_roles", "{}"],
        capture_output=True,
        text=True,
        env=_env(TOGGL_FOCUS_EMAIL="ana@x.example"),
        timeout=60,
    )
    assert half.returncode == 1 and "TOGGL_FOCUS_PASSWORD is not" in half.stdout
    assert "no command it serves MCP over stdio" in _cli("--help").stdout.replace("\n", " ")


def test_desktop_config_names_this_installation_and_no_secret() -> None:
    done = subprocess.run(
        [COMMAND, *PREFIX, "desktop-config"],
        capture_output=True,
        text=True,
        env=_env(TOGGL_FOCUS_API_KEY=SECRET_KEY, TOGGL_FOCUS_ORGANIZATION_ID="123456"),
        timeout=60,
    )
    entry = json.loads(done.stdout)["mcpServers"]["toggl-focus"]
    assert os.path.isabs(entry["command"]) and os.path.exists(entry["command"])
    assert entry["env"]["TOGGL_FOCUS_ORGANIZATION_ID"] == "123456"
    assert SECRET_KEY not in done.stdout + done.stderr and "claude_desktop_config.json" in done.stderr
    sandbox = subprocess.run(
        [COMMAND, *PREFIX, "--sandbox", "desktop-config"], capture_output=True, text=True, timeout=60
    )
    assert list(json.loads(sandbox.stdout)["mcpServers"]) == ["toggl-focus-sandbox"]  # pasted beside the real one


async def test_the_printed_desktop_entry_starts_unfilled_and_each_call_says_what_to_fill_in(
    loopback_sandbox: str,
) -> None:
    """The entry `desktop-config` prints, pasted as is: the server starts, lists its tools, and a call says
    what to put in each placeholder and where to find it. With only the key filled in, a call still names
    the ids."""
    printed = _cli("desktop-config")
    entry = json.loads(printed.stdout)["mcpServers"]["toggl-focus"]
    assert "your organization id" in entry["env"]["TOGGL_FOCUS_ORGANIZATION_ID"]  # unfilled, as printed
    unfilled = await _first_call(entry, entry["env"])
    assert "TOGGL_FOCUS_API_KEY is toggl_sk_..." in unfilled and "Toggl profile page" in unfilled
    assert "TOGGL_FOCUS_ORGANIZATION_ID still holds a placeholder" in unfilled and "me/organizations" in unfilled
    assert "TOGGL_FOCUS_WORKSPACE_ID still holds a placeholder" in unfilled and "list_workspaces" in unfilled
    key_only = {**entry["env"], "TOGGL_FOCUS_API_KEY": SECRET_KEY, "TOGGL_FOCUS_BASE_URL": loopback_sandbox}
    said = await _first_call(entry, key_only)
    assert "TOGGL_FOCUS_ORGANIZATION_ID still holds a placeholder" in said and "me/organizations" in said
    assert SECRET_KEY not in said + unfilled and "Traceback" not in said + unfilled


async def _first_call(entry: dict[str, Any], env: dict[str, str]) -> str:
    """Start the entry's command with `env` over stdio, as a host does; every tool listed, list_users called."""
    params = StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=_env(**env))
    with tempfile.TemporaryFile("w+") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert [t.name for t in (await session.list_tools()).tools] == [s.name for s in SPECS]
            result = await session.call_tool("list_users", {"count_only": True})
        errlog.seek(0)
        assert "still holds a placeholder" in errlog.read()  # the host's log says it too
    assert result.is_error
    return text(result)


def test_started_without_key_or_sandbox_the_hosts_log_says_what_to_fill_in() -> None:
    done = subprocess.run([COMMAND, *PREFIX], input="", capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 0 and done.stdout == ""  # stdin closed: the server ends; stdout is the protocol's
    assert "No Toggl Focus credentials" in done.stderr and "turn on its Sandbox option" in done.stderr


def test_one_shot_calls_share_the_change_journal(tmp_path: Path) -> None:
    env = {"TOGGL_FOCUS_SANDBOX_STATE": str(tmp_path / "sandbox.json")}
    made = _cli_env(env, "--sandbox", "call", "create_group", '{"name": "Journal Check", "workspaces": [4300004]}')
    assert made.returncode == 0, made.stdout + made.stderr
    listed = _cli_env(env, "--sandbox", "call", "list_changes", '{"group_id": "Journal Check"}')
    assert listed.returncode == 0 and "create_group Journal Check#" in listed.stdout, listed.stdout + listed.stderr
    assert "-> written" in listed.stdout


def _cli_env(extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *PREFIX, *args], capture_output=True, text=True, env=_env(**extra), timeout=60)
