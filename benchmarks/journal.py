"""What the change journal costs: the time a write spends journaling (begin + settle, before and
after the write is sent), the time list_changes spends reading, and the bytes list_changes shows
per change; SQLite on this machine's disk, and Redis when a redis-server is on the PATH.

Run from the repository root: .venv/bin/python -m benchmarks.journal [--changes N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from pydantic import SecretStr
from redis_server import redis_server

from focus_mcp.cli import load_settings
from focus_mcp.journal import Change, Journal, RedisJournal, SqliteJournal, new_change_id, now
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.server import build_server

MEMBERS = 20


def group(members: int, offset: int = 0) -> dict[str, Any]:
    users = [{"organization_user_id": 1000 + i, "display_name": f"Person {i}"} for i in range(offset, offset + members)]
    spaces = [{"workspace_id": 22, "name": "Main"}]
    return {"id": 5, "name": "Design", "emoji": "", "users": users, "workspaces": spaces}


def change() -> Change:
    before, after = group(MEMBERS), group(MEMBERS, offset=1)
    request = {"name": "Design", "emoji": "", "organization_users": [u["organization_user_id"] for u in after["users"]]}
    return Change(
        id=new_change_id(), at=now(), tool="update_group", organization_id=11, workspace_id=22, group_id=5,
        group_name="Design", arguments={"group_id": "Design", "add_users": ["Person 20"], "remove_users": ["Person 0"]},
        before=before, request={**request, "workspaces": [22]}, after=None, outcome="pending", who="0123abcd",
    )  # fmt: skip


async def journaling(journal: Journal, n: int) -> tuple[list[float], list[float]]:
    writes, reads = [], []
    for _ in range(n):
        c = change()
        start = time.perf_counter()
        await journal.begin(c)
        await journal.settle(c.id, "written", after=group(MEMBERS, offset=1), note="answer")
        writes.append(time.perf_counter() - start)
        start = time.perf_counter()
        await journal.unsettled(11, group_id=5)  # what the next edit of the group asks first
        await journal.changes(11, limit=20)
        reads.append(time.perf_counter() - start)
    return writes, reads


def ms(values: list[float]) -> str:
    p90 = sorted(values)[int(len(values) * 0.9)]
    return f"median {statistics.median(values) * 1000:.2f} ms, p90 {p90 * 1000:.2f} ms"


async def listing_bytes(path: Path) -> tuple[int, int]:
    settings, _ = load_settings(argparse.Namespace(sandbox=True))
    settings = settings.model_copy(update={"journal": str(path), "api_key": SecretStr("toggl_sk_bench")})
    async with Client(build_server(settings, SandboxAPI().transport())) as client:
        result = await client.call_tool("list_changes", {"limit": 20, "organization_id": 11})
    shown = "\n".join(block.text for block in result.content if block.type == "text")
    return len(shown.encode()), len(shown.splitlines()) - 2  # the sandbox banner and the heading


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200)
    n = parser.parse_args().changes
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "journal-sandbox.sqlite"
        journal = SqliteJournal(path)
        writes, reads = await journaling(journal, n)
        await journal.aclose()  # the last connection: the WAL is checkpointed into the file
        print(f"SQLite, {n} changes of a {MEMBERS}-member group: begin+settle {ms(writes)}; unsettled+list {ms(reads)}")
        size = sum(p.stat().st_size for p in Path(scratch).iterdir())  # noqa: ASYNC240 (a benchmark's own files)
        print(f"SQLite files (with the WAL): {size / n / 1024:.1f} KiB a change")
        sandbox_path = Path(scratch) / "journal.sqlite"  # build_server adds -sandbox to the name
        size, lines = await listing_bytes(sandbox_path)
        print(f"list_changes, {lines} changes: {size} bytes of text, {size / max(lines, 1):.0f} a change")
    if shutil.which("redis-server"):
        with redis_server() as url:
            shared = RedisJournal(url, "bench")
            writes, reads = await journaling(shared, n)
            await shared.aclose()
        print(f"Redis (loopback), {n} changes: begin+settle {ms(writes)}; unsettled+list {ms(reads)}")


if __name__ == "__main__":
    anyio.run(main)
