"""list_changes through the real protocol: the journal's changes in names, its filters, a restart
on the same SQLite file, and replicas sharing one Redis."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SECRET_KEY, WS, Routes, group_json, make_settings
from helpers import connect, make_change, sandbox_settings, text
from pydantic import SecretStr
from redis_server import redis_server

from focus_mcp.config import Settings
from focus_mcp.journal import Change, Journal, RedisJournal, SqliteJournal, now
from focus_mcp.sandbox import SandboxAPI

pytestmark = pytest.mark.anyio


def body(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": group["name"],
        "emoji": group["emoji"],
        "organization_users": [u["organization_user_id"] for u in group["users"]],
        "workspaces": [w["workspace_id"] for w in group["workspaces"]],
    }


async def history(journal: Journal) -> dict[str, Change]:
    """A morning's changes: an edit (one in, one out), a rename, a role change, a create, a delete,
    and an undo of the edit."""
    t0 = now() - timedelta(hours=5)
    after_edit = group_json(5, "Design", (101, 103))
    after_edit["users"][1]["display_name"] = "Amir Khan"
    renamed = group_json(5, "Product Design", (101, 103))
    renamed["users"][1]["display_name"] = "Amir Khan"
    renamed["users"][0]["focus_role_id"] = 0  # how the API shows "no role"
    made = group_json(8, "Ops", (104,))
    made["users"][0]["display_name"] = "Bo Lee"
    entries = {
        "edit": make_change(at=t0, request=body(after_edit), after=after_edit),
        "rename": make_change(at=t0 + timedelta(hours=1), before=after_edit, request=body(renamed), after=renamed),
        "role": make_change(
            at=t0 + timedelta(hours=2),
            tool="set_group_member_role",
            group_name="Product Design",
            before=renamed,
            request={"focus_role_id": 7, "organization_user_id": 101, "workspace_id": WS},
        ),
        "create": make_change(
            at=t0 + timedelta(hours=3),
            tool="create_group",
            group_id=None,
            group_name="Ops",
            before=None,
            request=body(made),
        ),
        "delete": make_change(
            at=t0 + timedelta(hours=4),
            tool="delete_group",
            group_id=9,
            group_name="Old Team",
            before=group_json(9, "Old Team", (101, 102)),
            request={"workspace_id": WS},
        ),
    }
    entries["undo"] = make_change(
        tool="undo_change",
        group_name="Product Design",
        before=renamed,
        request=body(group_json(5, "Product Design", (101, 102))),
        undoes=entries["edit"].id,
        who="feedf00d",
        client="claude-ai",
    )
    for entry in entries.values():
        await journal.begin(entry)
    for name in ("edit", "rename", "role", "delete", "undo"):
        await journal.settle(entries[name].id, "written", note="answer")
    await journal.settle(entries["create"].id, "unknown", group_id=8, after=made, note="not seen after 5 s")
    await journal.mark_undone(entries["edit"].id, entries["undo"].id)
    return entries


def routes() -> Routes:
    return Routes().add("GET", "roles", [{"role_id": 7, "name": "Team lead"}])


async def listed(settings: Any, arguments: dict[str, Any] | None = None) -> tuple[str, list[dict[str, Any]]]:
    async with connect(settings, routes().transport()) as client:
        result = await client.call_tool("list_changes", arguments or {})
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return text(result), result.structured_content["changes"]


async def test_changes_in_names_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    entries = await history(SqliteJournal(path))
    shown, changes = await listed(make_settings(journal=str(path)))
    order = ["undo", "delete", "create", "role", "rename", "edit"]
    assert [c["id"] for c in changes] == [entries[n].id for n in order]
    lines = dict(zip(order, shown.splitlines()[1:], strict=True))
    assert shown.startswith("6 changes, newest first.")
    edit = entries["edit"]
    assert lines["edit"].startswith(f"{edit.id} {edit.at:%Y-%m-%d %H:%M}Z update_group Design#5: ")
    assert "added Amir Khan#103; removed User 102#102 -> written (answer)" in lines["edit"]
    assert f"UNDONE by {entries['undo'].id}" in lines["edit"]
    assert 'renamed "Design" to "Product Design"' in lines["rename"]
    assert "role of User 101#101 none to Team lead#7" in lines["role"]
    assert 'create_group Ops#8: created "Ops" 🎨; members Bo Lee#104; workspaces Main#22' in lines["create"]
    assert "-> unknown (not seen after 5 s)" in lines["create"]
    assert "delete_group Old Team#9: deleted; it had 2 members (User 101#101, User 102#102)" in lines["delete"]
    assert f"undoes {edit.id}" in lines["undo"] and "by feedf00d via claude-ai" in lines["undo"]
    assert "added User 102#102; removed Amir Khan#103" in lines["undo"]
    assert "; by " not in lines["rename"]  # the caller's own changes go unsigned (a random id may end in "by")
    assert changes[0]["client"] == "claude-ai" and changes[0]["who"] == "feedf00d"
    first = changes[-1]
    assert first["undone_by"] == entries["undo"].id and first["outcome"] == "written"
    assert first["did"] == "added Amir Khan#103; removed User 102#102"


async def test_filters_group_since_limit(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    entries = await history(SqliteJournal(path))
    settings = make_settings(journal=str(path))
    _, by_id = await listed(settings, {"group_id": 5})
    assert [c["id"] for c in by_id] == [entries[n].id for n in ("undo", "role", "rename", "edit")]
    # by a name it bore once: every change of that group, the later renamed ones too
    _, by_old_name = await listed(settings, {"group_id": "design"})
    assert [c["id"] for c in by_old_name] == [c["id"] for c in by_id]
    _, deleted = await listed(settings, {"group_id": "Old Team"})
    assert [c["id"] for c in deleted] == [entries["delete"].id]
    _, recent = await listed(settings, {"since": (entries["create"].at - timedelta(minutes=1)).isoformat()})
    assert [c["id"] for c in recent] == [entries[n].id for n in ("undo", "delete", "create")]
    _, day = await listed(settings, {"since": f"{now() + timedelta(days=1):%Y-%m-%d}"})
    assert day == []
    _, two = await listed(settings, {"limit": 2})
    assert [c["id"] for c in two] == [entries["undo"].id, entries["delete"].id]
    async with connect(settings, routes().transport()) as client:
        bad = await client.call_tool("list_changes", {"since": "yesterday"})
        none = await client.call_tool("list_changes", {"group_id": "Nobody"})
    assert bad.is_error and "since" in text(bad)
    assert text(none) == f"No changes recorded for group Nobody.\nChanges are kept 90 days; the journal is {path}."


async def test_a_restarted_server_lists_earlier_changes(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    entries = await history(SqliteJournal(path))
    settings = make_settings(journal=str(path))
    _, first = await listed(settings)
    _, again = await listed(settings)  # a new server, the same file
    assert [c["id"] for c in again] == [c["id"] for c in first] and len(first) == len(entries)


async def test_read_only_keeps_list_changes(tmp_path: Path) -> None:
    async with connect(make_settings(read_only=True), routes().transport()) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("list_changes", {})
    assert "list_changes" in names and not result.is_error


async def test_off_says_so() -> None:
    _, changes = await listed(make_settings(journal="off"))
    async with connect(make_settings(journal="off"), routes().transport()) as client:
        result = await client.call_tool("list_changes", {})
    assert changes == [] and "TOGGL_FOCUS_JOURNAL=off" in text(result)


async def test_replicas_on_one_redis_list_the_same_changes() -> None:
    with redis_server() as url:
        journal = RedisJournal(url, "https://focus.test/api")  # as a third replica journals
        entries = await history(journal)
        await journal.aclose()
        settings = make_settings(redis_url=url)
        _, one = await listed(settings)
        _, two = await listed(settings)
        _, by_name = await listed(settings, {"group_id": "Design"})
        _, elsewhere = await listed(make_settings(redis_url=url, base_url="https://other.test/api"))
    assert (
        [c["id"] for c in one]
        == [c["id"] for c in two]
        == [entries[n].id for n in ("undo", "delete", "create", "role", "rename", "edit")]
    )
    assert one[-1]["undone_by"] == entries["undo"].id
    assert [c["id"] for c in by_name] == [entries[n].id for n in ("undo", "role", "rename", "edit")]
    assert elsewhere == []


# --- writes made through the server, listed -------------------------------------------------------

SECURITY, OPERATIONS = 4500008, 4300004  # a sandbox team and its workspace


def writing_settings(**extra: Any) -> tuple[Settings, SandboxAPI]:
    settings, api = sandbox_settings()
    values = {"api_key": SecretStr(SECRET_KEY), "workspace_id": OPERATIONS, **extra}
    return settings.model_copy(update=values), api


async def test_a_write_is_listed_after_a_restart_from_a_private_file_without_the_key(tmp_path: Path) -> None:
    settings, api = writing_settings(journal=str(tmp_path / "journal.sqlite"))
    newcomer = next(u for u in api.users.values() if u.id not in api.groups[SECURITY].users)
    leaving = api.users[api.groups[SECURITY].users[-1]]
    async with connect(settings, api.transport()) as client:
        edit = {"group_id": "Security", "add_users": [newcomer.name], "remove_users": [leaving.id]}
        written = await client.call_tool("update_group", edit)
    assert written.structured_content is not None and written.structured_content["outcome"] == "written"
    async with connect(settings, api.transport()) as client:  # a restart: a new server, the same file
        result = await client.call_tool("list_changes", {"group_id": SECURITY})
    assert result.structured_content is not None
    [change] = result.structured_content["changes"]
    assert change["tool"] == "update_group" and change["outcome"] == "written"
    assert f"added {newcomer.name}#{newcomer.id}" in change["did"]
    assert f"removed {leaving.name}#{leaving.id}" in change["did"]
    path = tmp_path / "journal-sandbox.sqlite"  # the sandbox's own file beside the configured one
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and not (tmp_path / "journal.sqlite").exists()
    files = [p for p in tmp_path.iterdir() if p.name.startswith(path.name) and p.is_file()]  # noqa: ASYNC240
    stored = b"".join(p.read_bytes() for p in files)
    assert newcomer.name.encode() in stored  # the journal is in these bytes...
    assert SECRET_KEY.encode() not in stored  # ...and the key is not


async def test_a_change_made_through_one_replica_is_listed_and_undone_by_the_other() -> None:
    with redis_server() as url:
        settings, api = writing_settings(redis_url=SecretStr(url))
        async with connect(settings, api.transport()) as a, connect(settings, api.transport()) as b:
            await a.call_tool("update_group", {"group_id": SECURITY, "name": "Security & Safety"})
            result = await b.call_tool("list_changes", {})
            assert result.structured_content is not None
            [change] = result.structured_content["changes"]
            undone = await b.call_tool("undo_change", {"change_id": change["id"]})  # through the other replica
            after = await a.call_tool("list_changes", {})
    assert change["did"] == 'renamed "Security" to "Security & Safety"' and change["outcome"] == "written"
    assert not undone.is_error and api.groups[SECURITY].name == "Security", text(undone)
    assert after.structured_content is not None
    undo, edit = after.structured_content["changes"]
    assert undo["undoes"] == edit["id"] == change["id"] and edit["undone_by"] == undo["id"]
