"""The README's commands run as written, after its install step.

Every command in a ```sh block runs here, from the repository root, with the `.venv` that the
README's install step makes (CI runs the two set-up commands themselves, in a fresh clone).
Commands that need the reader's own Toggl account, a host application or a long-running server
stand in ```bash blocks, which this test does not run; the HTTP and stdio modes are tested
elsewhere. The first command's output must be exactly what the README shows.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.DOTALL)
SET_UP = "python3 -m venv .venv"


def sh_commands() -> list[str]:
    lines = [line.strip() for kind, body in BLOCKS if kind == "sh" for line in body.splitlines()]
    return [line for line in lines if line and not line.startswith("#") and not line.startswith(SET_UP)]


def run(command: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGGL_FOCUS_")}
    env["TOGGL_FOCUS_SANDBOX_STATE"] = str(tmp_path / "sandbox.json")
    env["TOGGL_FOCUS_JOURNAL"] = str(tmp_path / "journal.sqlite")
    return subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", sh_commands())
def test_a_readme_command_runs_as_written(command: str, tmp_path: Path) -> None:
    assert (ROOT / ".venv" / "bin" / "focus-mcp").exists(), "the README's install step makes .venv"
    done = run(command, tmp_path)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr


def test_the_first_command_prints_what_the_readme_shows(tmp_path: Path) -> None:
    first = next(body for kind, body in BLOCKS if kind == "sh" and SET_UP in body)
    call = next(line for line in first.splitlines() if line.startswith(SET_UP)).split(" && ")[-1]
    shown = next(body for kind, body in BLOCKS if kind == "text")
    assert run(call, tmp_path).stdout == shown


def test_the_example_conversation_shows_what_the_tool_answers(tmp_path: Path) -> None:
    example = re.search(r"calls `(\w+)` with `(\{.*?\})`:\n>\n> ```\n(.*?)> ```", README, re.DOTALL)
    assert example, "the README's example conversation"
    tool, arguments, shown = example.groups()
    done = run(f".venv/bin/focus-mcp --sandbox call {tool} '{arguments}'", tmp_path)
    assert done.returncode == 0
    assert done.stdout == "".join(line.removeprefix("> ") + "\n" for line in shown.splitlines())


def test_before_connecting_the_reader_learns_the_quota_the_role_and_what_reaches_the_model() -> None:
    before, desktop = README.index("## Before you connect"), README.index("### Claude Desktop")
    section = " ".join(README[before : README.index("\n## ", before + 1)].split())
    assert before < desktop
    assert all(f"{n} on {plan}" in section for n, plan in (("240", "Starter"), ("600", "Premium"))), section
    assert "30 requests an hour on the Free plan" in section and "per organization" in section
    for said in (
        "view_user_groups",
        "names no role or permission",
        "model provider",
        "emails",
        "rates",
        "never on disk",
    ):
        assert said in section, said


def test_the_readme_stays_short() -> None:
    """A user's document: detail goes to docs/ (about 2,600 words; the generated tools table included)."""
    assert len(README.split()) <= 2_650
