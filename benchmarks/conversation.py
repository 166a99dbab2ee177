"""Requests, memory and time of a conversation of read questions, at 150, 1,500 and 6,000 users.

The stand-in API is the sandbox app (the spec's endpoints, its filters) holding a generated
organization, served in process and counting every request. One MCP session (the SDK's in-memory
Client, as a host keeps one session) asks QUESTIONS in a row; printed per size: the requests spent
against the floor (one full read: every users page at 100 a page, every workspace's teams, the
roles), the target (floor * 1.2 + 4), whether every answer's counts were complete, the memory the
snapshot holds (tracemalloc: with it, then without it), and the time to answer a question from it:
the call through the in-memory session as a host sees it (the SDK client's own JSON schema check of
the answer included), and of that the server's share (the tool call inside the server, timed there;
the rest is the client's check, which grows with the answer's size and which the server cannot
change). Each question is asked REPEATS times in a row (the same answer): its median is taken.
Run from the repository root: .venv/bin/python -m benchmarks.conversation [--sizes 150,1500]
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import time
import tracemalloc
from typing import Any

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer

from focus_mcp.cli import load_settings
from focus_mcp.org.store import stores
from focus_mcp.sandbox import SandboxAPI
from focus_mcp.sandbox import data as seed
from focus_mcp.server import build_server

SIZES = ((150, 15), (1_500, 150), (6_000, 600))  # users, teams
TAG = seed.TAGS[0][0]
REPEATS = 3
QUESTIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("admins without 2FA", "list_users", {"only_admins": True, "two_factor": False}),
    ("how many without 2FA", "list_users", {"two_factor": False, "count_only": True}),
    ("who is in no team", "list_users", {"has_group": False}),
    ("who is in 3+ teams", "list_users", {"min_teams": 3}),
    ("inactive", "list_users", {"status": ["inactive"]}),
    ("invited", "list_users", {"status": ["invited"]}),
    ("how many tagged Remote", "list_users", {"tag_ids": [TAG], "count_only": True}),
    ("workspaces", "list_workspaces", {}),
    ("every team", "list_teams", {"all_workspaces": True}),
    ("one person's teams", "list_teams", {"all_workspaces": True, "organization_user_id": 0}),
    ("how many admins", "list_users", {"only_admins": True, "count_only": True}),
    ("counts by status", "list_users", {"count_only": True}),
]


def generated_sandbox(users: int, teams: int) -> SandboxAPI:
    """The sandbox app holding `users` members and `teams` teams over its four workspaces."""
    api = SandboxAPI(quota=100_000)
    rng = random.Random(users)
    spaces = list(seed.WORKSPACES)
    people = []
    for n in range(users):
        first, last = seed.FIRST[n % len(seed.FIRST)], seed.LAST[(n // len(seed.FIRST)) % len(seed.LAST)]
        person = seed.SeedUser(
            id=4_100_001 + n,
            account_id=9_100_001 + n,
            name=f"{first} {last} {n}",
            email=f"{first.lower()}.{last.lower()}.{n}@example.test",
            admin=n % 25 == 0,
            two_factor=rng.random() < 0.6,
            active=n % 40 != 0,
            workspaces=sorted(rng.sample(spaces, k=rng.choice([1, 1, 2, 3]))),
            tags=sorted(t[0] for t in rng.sample(seed.TAGS, k=rng.choice([0, 1, 1, 2]))),
            working_hours=rng.choice([8.0, 7.5, 6.0]),
            hourly_rate=float(rng.choice([45, 60, 85, 120])),
        )
        if n % 50 == 49:
            person.joined, person.invite_sent = False, True
        people.append(person)
    people[0].owner = True
    api.users = {u.id: u for u in people}
    pool = [u.id for u in people if u.joined]
    groups = {}
    for n in range(teams):
        members = rng.sample(pool, k=min(len(pool), rng.randint(5, 25)))
        group = seed.SeedGroup(
            id=4_500_001 + n,
            name=f"Team {n:04d}",
            emoji="",
            workspaces=sorted(rng.sample(spaces, k=rng.choice([1, 1, 2]))),
            users=members,
            ghosts=[],
        )
        group.roles = {uid: (4 if i == 0 else 5) for i, uid in enumerate(members)}
        groups[group.id] = group
    api.groups, api.next_group_id = groups, 4_500_001 + teams
    return api


def floor(api: SandboxAPI) -> int:
    """One full read: every users page (100 a page, and the empty or short page that ends them), each
    workspace's teams at 100 a page, the roles."""
    users_pages = len(api.users) // 100 + 1
    team_pages = sum(
        max(1, math.ceil(sum(1 for g in api.groups.values() if ws in g.workspaces) / 100)) for ws in seed.WORKSPACES
    )
    return users_pages + team_pages + 1


def complete(said: str) -> bool:
    """Whether an answer's counts are whole: nothing left unread ('more may exist', 'Not read:').
    A listing longer than the answer's size bound shows its first lines and says how many more there are
    (counted in `sized`): its count is still complete."""
    return not any(mark in said for mark in ("more may exist", "Not read:"))


def sized(said: str) -> bool:
    return any(mark in said for mark in ("more after them", "[cut:"))


def timed_server(server: MCPServer[Any], spent: list[float]) -> MCPServer[Any]:
    """`server`, appending to `spent` the seconds each tool call takes inside it (the SDK's dispatch
    calls the instance's call_tool: its arguments' check, the tool, the answer's bound and model)."""
    call_tool = server.call_tool

    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call_tool(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    server.call_tool = timed  # type: ignore[method-assign]
    return server


async def conversation(users: int, teams: int) -> dict[str, Any]:
    api = generated_sandbox(users, teams)
    settings, _ = load_settings(argparse.Namespace(sandbox=True))
    somebody = next(iter(api.groups.values())).users[0]
    timings: list[tuple[float, str, float]] = []  # (total, question, the server's share), medians
    spent: list[float] = []
    incomplete, cut = [], []
    async with Client(timed_server(build_server(settings, api.transport()), spent)) as client:
        for n, (question, tool, args) in enumerate(QUESTIONS):
            if "organization_user_id" in args:
                args = {**args, "organization_user_id": somebody}
            totals, servers = [], []
            for _ in range(REPEATS if n else 1):  # the first question reads the organization
                started = time.perf_counter()
                result = await client.call_tool(tool, args)
                totals.append(time.perf_counter() - started)
                servers.append(spent[-1])
            said = "\n".join(b.text for b in result.content if b.type == "text")
            if result.is_error or not complete(said):
                incomplete.append(question)
            if sized(said):
                cut.append(question)
            if n:  # answered from the snapshot
                timings.append((statistics.median(totals), question, statistics.median(servers)))
        requests = len(api.requests)
        # The snapshot's memory: read once more under tracemalloc (which slows Python, so the questions
        # above ran without it), then measured again without it.
        tracemalloc.start()
        await client.call_tool("list_users", {"count_only": True, "fresh": True})
        gc.collect()
        with_snapshot = tracemalloc.get_traced_memory()[0]
        for store in stores():
            store.clear()
        gc.collect()
        without = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    base = floor(api)
    return {
        "users": users,
        "teams": teams,
        "requests": requests,
        "floor": base,
        "target": int(base * 1.2 + 4),
        "incomplete": incomplete,
        "cut": cut,
        "snapshot_mb": (with_snapshot - without) / 1e6,
        "median_ms": statistics.median(t for t, _, _ in timings) * 1000,
        "max_ms": max(timings)[0] * 1000,
        "slowest": max(timings)[1],
        "server_median_ms": statistics.median(s for _, _, s in timings) * 1000,
        "server_max_ms": max(s for _, _, s in timings) * 1000,
        "server_slowest": max(timings, key=lambda t: t[2])[1],
    }


async def main(sizes: list[tuple[int, int]]) -> None:
    print(f"{len(QUESTIONS)} read questions in one session, sandbox app as the stand-in API (requests counted)")
    print(
        "users  teams | requests floor target | counts complete | snapshot MB | ms a question (median, max), "
        "as the host sees it | of it the server's (median, max)"
    )
    for users, teams in sizes:
        r = await conversation(users, teams)
        ok = "yes" if not r["incomplete"] else "no: " + ", ".join(r["incomplete"])
        print(
            f"{r['users']:>5} {r['teams']:>6} | {r['requests']:>8} {r['floor']:>5} {r['target']:>6} | {ok} | "
            f"{r['snapshot_mb']:>11.1f} | {r['median_ms']:.1f}, {r['max_ms']:.1f} ({r['slowest']}) | "
            f"{r['server_median_ms']:.1f}, {r['server_max_ms']:.1f} ({r['server_slowest']})"
        )
        if r["cut"]:
            print(f"    listings longer than the answer's size bound (first lines shown, the rest counted): {r['cut']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(u) for u, _ in SIZES), help="user counts, comma-separated")
    wanted = {int(s) for s in parser.parse_args().sizes.split(",")}
    anyio.run(main, [(u, t) for u, t in SIZES if u in wanted])
