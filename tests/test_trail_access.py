"""The change trail of an organization, through the real protocol: listed
and undone only by a configuration whose key the API accepts for that organization, one malformed
entry skipped and named, never fatal to the listing nor to the next write of its group."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest
from conftest import ORG, SECRET_KEY, Routes, make_settings
from helpers import connect, make_change, sandbox_settings, text
from pydantic import SecretStr

from focus_mcp.journal import Change, SqliteJournal, now

pytestmark = pytest.mark.anyio

OTHER_ORG = 12
REFUSED = httpx2.Response(403, json={"error": "forbidden", "error_description": "Not a member of this organization"})


def org_routes(accepted: dict[int, bool]) -> Routes:
    """GET roles per organization: accepted, or the API's 403."""
    routes = Routes()
    for org, ok in accepted.items():
        answer = [{"role_id": 7, "name": "Team lead"}] if ok else REFUSED
        routes.table[("GET", f"/api/organizations/{org}/roles")] = answer
    return routes


async def journal_of_two_organizations(path: Path) -> tuple[Change, Change]:
    journal = SqliteJournal(path)
    ours, theirs = make_change(), make_change(organization_id=OTHER_ORG, group_name="Their team")
    for change in (ours, theirs):
        await journal.begin(change)
        await journal.settle(change.id, "written", note="answer")
    await journal.aclose()
    return ours, theirs


async def test_a_configuration_of_another_organization_neither_lists_nor_undoes_its_changes(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    ours, theirs = await journal_of_two_organizations(path)
    # Server B: configured for organization 12 with a key that organization 11 refuses, same journal file.
    b_settings = make_settings(organization_id=OTHER_ORG, api_key="toggl_sk_other_org_key", journal=str(path))
    b_routes = org_routes({ORG: False, OTHER_ORG: True})
    async with connect(b_settings, b_routes.transport()) as b:
        own = await b.call_tool("list_changes", {})
        asked = await b.call_tool("list_changes", {"organization_id": ORG})
        undo = await b.call_tool("undo_change", {"change_id": ours.id})
    assert not own.is_error and own.structured_content is not None
    assert [c["id"] for c in own.structured_content["changes"]] == [theirs.id] and ours.id not in text(own)
    for refused in (asked, undo):
        said = text(refused)
        assert refused.is_error and ours.id not in said.replace(f"change {ours.id}", ""), said
        assert f"The change trail of organization {ORG} is not shown" in said and "Not a member" in said
        assert SECRET_KEY not in said and "toggl_sk_other_org_key" not in said
    assert [r.method for r in b_routes.requests] == ["GET"] * len(b_routes.requests)  # nothing written
    got = await SqliteJournal(path).get(ours.id)
    assert got is not None and got.undone_by is None

    # Server A, whose key both organizations accept: each trail, the other one's said to be another's.
    a_routes = org_routes({ORG: True, OTHER_ORG: True})
    async with connect(make_settings(journal=str(path)), a_routes.transport()) as a:
        mine = await a.call_tool("list_changes", {})
        other = await a.call_tool("list_changes", {"organization_id": OTHER_ORG})
        again = await a.call_tool("list_changes", {"organization_id": OTHER_ORG})
    assert [c["id"] for c in (mine.structured_content or {})["changes"]] == [ours.id]
    assert text(mine).startswith("1 change, newest first.")
    assert text(other).startswith(f"1 change of organization {OTHER_ORG} (not the configured one, {ORG}), newest")
    assert not again.is_error
    roles_reads = [r for r in a_routes.requests if r.url.path.endswith("/roles")]
    assert len(roles_reads) == 2  # one confirmation per organization, then remembered


async def test_an_organization_the_api_cannot_confirm_is_not_listed(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    await journal_of_two_organizations(path)
    routes = Routes()  # every request answers 599: access cannot be confirmed
    async with connect(make_settings(journal=str(path)), routes.transport()) as client:
        result = await client.call_tool("list_changes", {})
    assert result.is_error and "could not be confirmed" in text(result) and "Try again" in text(result)


SECURITY, OPERATIONS = 4500008, 4300004  # a sandbox team and its workspace


def unreadable_row(path: Path, change_id: str, organization_id: int, group_id: int) -> None:
    """A pending entry of the group whose body is not a change (a hand edit, a disk fault, a bug)."""
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO changes (id, organization_id, at, group_id, group_key, tool, outcome, body) "
        "VALUES (?, ?, ?, ?, 'security', 'update_group', 'pending', ?)",
        (change_id, organization_id, now().timestamp(), group_id, '{"id": "' + change_id + '", "before": 7}'),
    )
    db.commit()
    db.close()


async def test_a_malformed_entry_is_named_and_holds_up_no_write(tmp_path: Path) -> None:
    settings, api = sandbox_settings()
    settings = settings.model_copy(
        update={"api_key": SecretStr(SECRET_KEY), "workspace_id": OPERATIONS, "journal": str(tmp_path / "j.sqlite")}
    )
    org = settings.organization_id
    assert org is not None
    async with connect(settings, api.transport()) as client:
        first = await client.call_tool("update_group", {"group_id": SECURITY, "name": "Security & Safety"})
        assert not first.is_error, text(first)
        unreadable_row(tmp_path / "j-sandbox.sqlite", "badrow22", org, SECURITY)
        listed = await client.call_tool("list_changes", {})
        edit = await client.call_tool("update_group", {"group_id": SECURITY, "name": "Security"})
    said = text(listed)
    assert not listed.is_error and "Skipped 1 unreadable entry: badrow22." in said, said
    changes: list[dict[str, Any]] = (listed.structured_content or {})["changes"]
    assert len(changes) == 1 and (listed.structured_content or {})["skipped"] == ["badrow22"]
    assert not edit.is_error and (edit.structured_content or {})["outcome"] == "written", text(edit)
    assert api.groups[SECURITY].name == "Security"
