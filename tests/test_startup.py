"""Start-up pays only for what the command uses: each command runs in a fresh interpreter, and what
it imported is read from sys.modules (python -X importtime shows the costs: the MCP SDK is most of
a start; redis and filelock are tens of milliseconds each)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Runs cli.main as the console script would, output swallowed, then says which packages got loaded.
PROBE = """
import contextlib, io, json, sys
from focus_mcp import cli
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = cli.main(sys.argv[1:])
    except SystemExit as exit:  # --version exits from argparse
        code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

SDK = {"mcp", "mcp_types"}
# (uvicorn is not among them: the SDK's server module imports it.)
SERVING_ONLY_WHEN_ASKED = {"redis", "filelock", "focus_mcp.doctor", "focus_mcp.http"}


def loaded_by(*argv: str) -> tuple[int, set[str]]:
    """The exit code of `focus-mcp ARGV` and every module (and its top-level package) it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    modules: list[str] = answer["modules"]
    return answer["code"], set(modules) | {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("argv", [["--version"], ["desktop-config"], ["--sandbox", "desktop-config"]])
def test_version_and_desktop_config_do_not_import_the_sdk(argv: list[str]) -> None:
    code, modules = loaded_by(*argv)
    assert code == 0
    assert modules & SDK == set()


def test_listing_the_tools_loads_the_sdk_but_no_redis_http_server_or_doctor() -> None:
    code, modules = loaded_by("--sandbox", "tools")
    assert code == 0
    assert modules >= SDK  # the probe sees what a command imports: this one builds the server
    assert modules & SERVING_ONLY_WHEN_ASKED == set()


# The command's own process (cli.run): what does the collector look like once the command has run?
RUN_PROBE = """
import atexit, gc, json, sys
from focus_mcp import cli
atexit.register(lambda: print(json.dumps([gc.isenabled(), gc.get_freeze_count()]), file=sys.stderr))
sys.argv = ["focus-mcp", *sys.argv[1:]]
cli.run()
"""


def test_the_command_sets_its_start_up_aside_from_garbage_collection_and_then_collects() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUN_PROBE, "--sandbox", "tools"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "list_users" in done.stdout, done.stderr
    enabled, frozen = json.loads(done.stderr.splitlines()[-1])
    assert enabled  # on again once the server was built: a long-running server collects its garbage
    assert frozen > 10_000  # the SDK's types, the tools' models and schemas: never traversed again
