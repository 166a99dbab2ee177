"""The focus-mcp command: serve MCP (stdio, streamable HTTP, SSE), or list, call and check tools."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from focus_mcp import __version__

# Each command imports what it uses, in its own branch: `--version` and `desktop-config` never load
# the MCP SDK, and serving loads no doctor, HTTP app or Redis it is not asked for (tests/test_startup.py).
if TYPE_CHECKING:
    import httpx2
    from mcp.server.mcpserver import MCPServer

    from focus_mcp.config import Settings


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    s = argparse.SUPPRESS
    common.add_argument("--sandbox", action="store_true", default=s, help="use the embedded sandbox organization")
    common.add_argument("--read-only", action="store_true", default=s, help="register no write tool")
    common.add_argument("--organization-id", type=int, default=s, help="default organization id")
    common.add_argument("--workspace-id", type=int, default=s, help="default workspace id")
    common.add_argument("--base-url", default=s, help="Toggl Focus API base URL")
    common.add_argument("--log-level", default=s, help="DEBUG, INFO, WARNING (default), ERROR")
    common.add_argument("--redis-url", default=s, help="share cache, quota and edit locks with other replicas")

    parser = argparse.ArgumentParser(
        prog="focus-mcp",
        parents=[common],
        description=(
            "MCP server for the Toggl Focus organization API. With no command it serves MCP over stdio (what "
            "Claude Desktop and other hosts run); --transport streamable-http or sse serves over the network."
        ),
    )
    parser.add_argument("--version", action="version", version=f"focus-mcp {__version__}")
    parser.add_argument("--transport", choices=["stdio", "streamable-http", "sse"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP/SSE: address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="HTTP/SSE: port to listen on")
    parser.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions (replicas)")
    parser.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME", help="a Host name clients use (repeatable)"
    )
    parser.add_argument(
        "--allow-origin", action="append", default=[], metavar="URL", help="a browser Origin to accept (repeatable)"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="{tools,call,doctor,desktop-config,sandbox-reset}", help="(none: serve over stdio)"
    )
    tools = commands.add_parser("tools", parents=[common], help="list the tools, or explain one tool's arguments")
    tools.add_argument("name", nargs="?", help="a tool: each of its arguments with type, default and meaning")
    call = commands.add_parser("call", parents=[common], help="call one tool and print what the model reads")
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="{}", help="the tool's arguments as a JSON object")
    call.add_argument("--structured", action="store_true", help="print structuredContent as JSON instead")
    commands.add_parser("doctor", parents=[common], help="check configuration, credentials, reachability, quota")
    commands.add_parser(
        "desktop-config", parents=[common], help="print a Claude Desktop config entry for this installation"
    )
    commands.add_parser("sandbox-reset", help="forget the changes `--sandbox call` keeps between calls")
    return parser


def load_settings(
    options: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> tuple[Settings, httpx2.AsyncBaseTransport | None]:
    """Settings from the environment (default: os.environ) and flags; with --sandbox, the sandbox's own
    transport and defaults."""
    from focus_mcp.config import Settings

    flags: dict[str, Any] = {
        name: getattr(options, name, None)
        for name in ("organization_id", "workspace_id", "base_url", "log_level", "read_only", "sandbox", "redis_url")
    }
    if isinstance(flags["log_level"], str):
        flags["log_level"] = flags["log_level"].upper()
    settings = Settings.load(environ, **flags)
    if not settings.sandbox:
        return settings, None
    from focus_mcp import sandbox
    from focus_mcp.sandbox import data as sandbox_data
    from focus_mcp.sandbox import state as sandbox_state  # only here: they cost start-up time

    # One-shot calls keep the sandbox's groups in a file, so that a create, rename, delete cycle works
    # call by call as on the real API; a served sandbox keeps its changes for the life of the process.
    one_shot = getattr(options, "command", None) == "call"
    api = sandbox.SandboxAPI(state_file=sandbox_state.default_state_file(settings.sandbox_state) if one_shot else None)
    settings = Settings(
        **{
            **settings.model_dump(),
            "base_url": sandbox.SANDBOX_BASE_URL,
            "api_key": sandbox.SANDBOX_API_KEY,
            "email": None,
            "password": None,
            # The sandbox is its own organization: ids configured for the real one would only fail there.
            "organization_id": sandbox_data.ORGANIZATION_ID,
            "workspace_id": next(iter(sandbox_data.WORKSPACES)),
        }
    )
    return settings, api.transport()


def run() -> NoReturn:
    """The `focus-mcp` command and `python -m focus_mcp`: `main` in a process of its own.

    Start-up makes some 100,000 objects that live as long as the process (the SDK's protocol types,
    the tools' models and schemas); collecting garbage among them while they are made, then again at
    exit, was a quarter of a cold start's CPU. So the collector is off until the server is built,
    those objects are then set aside from every later collection (gc.freeze), and it is turned on.
    (The few cycles start-up leaves as garbage, about 2 MB, stay: freeing them costs a full pass.)"""
    gc.disable()
    raise SystemExit(main())


def _started() -> None:
    """Start-up is over. Under `run`, set aside what it made and turn the collector back on; called
    in a process of another's (a test), it leaves the collector as it is."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `focus-mcp call ... | head`: the reader has gone; so do we, quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    options = _parser().parse_args(argv)
    if options.command == "tools" and options.name:  # the inventory alone: no settings, no server
        return _explain_tool(options.name)
    from focus_mcp.config import ConfigurationError, Settings

    try:
        if options.command == "sandbox-reset":
            return _sandbox_reset(Settings.load())
        settings, transport = load_settings(options)
    except ConfigurationError as exc:
        print(f"focus-mcp: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr, level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    import anyio

    if options.command == "doctor":
        from focus_mcp.doctor import run_doctor

        return anyio.run(run_doctor, settings, transport)
    if options.command == "desktop-config":
        from focus_mcp.desktop import desktop_config

        entry, where = desktop_config(settings, getattr(options, "sandbox", False))
        print(entry)
        print(where, file=sys.stderr)
        return 0
    from focus_mcp.server import build_server

    server = build_server(settings, transport)
    _started()
    if options.command == "tools":
        return anyio.run(_list_tools, server)
    if options.command == "call":
        try:
            arguments = json.loads(options.arguments)
        except ValueError as exc:
            print(
                f"focus-mcp call: the arguments are not valid JSON ({exc}); give an object like '{{}}'.",
                file=sys.stderr,
            )
            return 2
        if not isinstance(arguments, dict):
            print("focus-mcp call: the arguments must be a JSON object, like '{\"page\": 2}'.", file=sys.stderr)
            return 2
        return anyio.run(_call_tool, server, options.tool, arguments, options.structured)
    return _serve(server, settings, options)


def _sandbox_reset(settings: Settings) -> int:
    from focus_mcp.journal import journal_path
    from focus_mcp.sandbox.state import default_state_file

    state = default_state_file(settings.sandbox_state)
    state.unlink(missing_ok=True)
    removed = [state]
    # The sandbox's change journal goes too: kept, it would list changes to groups the seed never had.
    journal = journal_path(settings.model_copy(update={"sandbox": True}))
    if journal is not None:
        for path in (journal, journal.with_name(journal.name + "-wal"), journal.with_name(journal.name + "-shm")):
            if path.exists():
                path.unlink()
                removed.append(path)
    print(f"sandbox reset: {', '.join(map(str, removed))} removed; the next --sandbox call starts from the seed")
    return 0


def _serve(server: MCPServer[Any], settings: Settings, options: argparse.Namespace) -> int:
    import anyio

    from focus_mcp.api.client import NO_CREDENTIALS

    # The server still starts unfilled (a host shows its tools, each call says what to fill in); the log says so too.
    problem = settings.unfilled or (
        None if settings.has_credentials else settings.credentials_problem or NO_CREDENTIALS
    )
    if problem:
        print(f"focus-mcp: {problem}", file=sys.stderr)
    if options.transport == "stdio":
        anyio.run(server.run_stdio_async)  # the SDK's own transport
        return 0
    from focus_mcp.http import HttpOptions, exposure_problem, serve_http

    problem = exposure_problem(settings, options.host)
    if problem:
        print(f"focus-mcp: {problem}", file=sys.stderr)
        return 2
    http = HttpOptions(
        transport=options.transport,
        host=options.host,
        port=options.port,
        stateless=options.stateless,
        allowed_hosts=[*settings.allowed_hosts, *options.allow_host],
        allowed_origins=[*settings.allowed_origins, *options.allow_origin],
    )
    serve_http(server, settings, http)
    return 0


async def _list_tools(server: MCPServer[Any]) -> int:
    from focus_mcp.registry import SPECS
    from focus_mcp.toolkit.summary import COMMON, own_arguments

    by_name = {spec.name: spec for spec in SPECS}
    for tool in await server.list_tools():
        hints = tool.annotations
        kind = (
            "read"
            if hints and hints.read_only_hint
            else "write, destructive"
            if hints and hints.destructive_hint
            else "write"
        )
        summary = (tool.description or "").splitlines()[0]
        print(f"{tool.name:<22} [{kind}] {summary}")
        spec = by_name.get(tool.name)
        if spec is not None:
            print(f"{'':<22} args: {', '.join(own_arguments(spec)) or '(only the common ones)'}")
    print(f"\n* required. Where they apply, tools also take {', '.join(COMMON)}.")
    print("`focus-mcp tools NAME` explains each argument of a tool: type, default, meaning.")
    return 0


def _explain_tool(name: str) -> int:
    from focus_mcp.registry import SPECS
    from focus_mcp.tool_help import tool_help

    spec = next((spec for spec in SPECS if spec.name == name), None)
    if spec is None:
        print(f"focus-mcp tools: no tool {name!r}; the tools: {', '.join(s.name for s in SPECS)}", file=sys.stderr)
        return 2
    print(tool_help(spec))
    return 0


async def _call_tool(server: MCPServer[Any], name: str, arguments: dict[str, Any], structured: bool) -> int:
    from mcp import Client

    from focus_mcp.registry import SPECS

    async with Client(server) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        # A write tool in read-only mode is called anyway: the server itself says why it is off.
        if name not in names and name not in {spec.name for spec in SPECS}:
            print(
                f"focus-mcp call: no tool {name!r}; `focus-mcp tools` lists them: {', '.join(sorted(names))}",
                file=sys.stderr,
            )
            return 2
        result = await client.call_tool(name, arguments)
    if structured and result.structured_content is not None:
        print(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    else:
        print("\n".join(block.text for block in result.content if block.type == "text"))
    return 1 if result.is_error else 0
