"""The journal failing closed, end to end: one-shot `focus-mcp call`s, each its own process, as scripts
run them. A journal that cannot be used is said in a sentence, and no
write is sent that it could not record."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from loopback import free_port
from spawned import COMMAND, PREFIX

SUPPORT = "Support"  # a sandbox team


def call(env: dict[str, str], tool: str, arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *PREFIX, "--sandbox", "call", tool, arguments], capture_output=True, text=True, env=env, timeout=60
    )


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGGL_FOCUS_")}
    env["TOGGL_FOCUS_SANDBOX_STATE"] = str(tmp_path / "sandbox.json")  # the sandbox's writes persist across calls
    env["TOGGL_FOCUS_JOURNAL"] = str(tmp_path / "journal.sqlite")  # the sandbox's: journal-sandbox.sqlite
    env.update(extra)
    return env


def support_named(env: dict[str, str]) -> str:
    listed = call(env, "list_teams", '{"filter": "Support"}')
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return listed.stdout


def test_a_one_shot_write_with_redis_down_is_refused_and_sends_nothing(tmp_path: Path) -> None:
    port = free_port()  # nothing listens
    down = environment(tmp_path, TOGGL_FOCUS_REDIS_URL=f"redis://:s3cret-pass@127.0.0.1:{port}/0")
    refused = call(down, "update_group", '{"group_id": "Support", "name": "Support Desk"}')
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0 and f"change journal in Redis at redis://127.0.0.1:{port}/0" in said, said
    assert "s3cret-pass" not in said and "Journaled as change" not in said
    assert "Support Desk" not in support_named(environment(tmp_path))  # the sandbox is unchanged


def test_a_journal_path_that_is_a_link_is_refused_and_its_target_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("a user's file")
    os.chmod(target, 0o644)
    (tmp_path / "journal-sandbox.sqlite").symlink_to(target)
    env = environment(tmp_path)
    listed = call(env, "list_changes", "{}")
    edit = call(env, "update_group", '{"group_id": "Support", "name": "Support Desk"}')
    for result in (listed, edit):
        said = result.stdout + result.stderr
        assert result.returncode != 0 and "journal-sandbox.sqlite is a symbolic link: refused" in said, said
        assert "Traceback" not in said
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and target.read_text() == "a user's file"
    assert "Support Desk" not in support_named(env)
