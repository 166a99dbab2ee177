"""GET users' and GET teams' filters, evaluated on the snapshot with the API's meaning.

The spec says what most filters keep; where it does not, the snapshot does what the sandbox (our
stand-in of the API) does, and the tools' descriptions say so:
- `filter`: case-insensitive substring of the name or the email (a team's name for teams);
- several ids in one filter (`groups`, `workspaces`, `roles`, `tag_ids`, `toggl_products`): a user
  with ANY of them is kept;
- `only_admins`: admins and owners; `false` is no filter, as on the wire;
- `roles`: the member's Focus role in any workspace or any team;
- `active_status`: invited (not joined), active (joined and active), inactive (joined, not active).
tests/test_snapshot_queries.py asks each filter the same question through the sandbox's query
parameters and through the snapshot, and checks they keep the same people.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from focus_mcp.api.models import Group, TeamsFilters, UsersQuery
from focus_mcp.org.model import Member, Snapshot

Test = Callable[[Member], bool]


def api_status(m: Member) -> str:
    """The member's active_status as the API's filter names it."""
    return "invited" if not m.joined else "active" if m.active else "inactive"


def user_tests(query: UsersQuery, snap: Snapshot) -> list[Test]:
    """One test per filter the query sets (page, per_page, order and includes are not filters)."""
    q = query
    tests: list[Test] = []

    def any_of(values: Iterable[Any] | None, held: Callable[[Member], Iterable[Any]]) -> None:
        if values:
            wanted = set(values)
            tests.append(lambda m: not wanted.isdisjoint(held(m)))

    any_of(q.workspaces, lambda m: m.workspaces)
    any_of(q.groups, lambda m: m.groups)
    any_of(q.tag_ids, lambda m: m.tags)
    any_of(q.toggl_products, lambda m: m.products)
    any_of(q.active_status, lambda m: (api_status(m),))
    roles_of = snap.team_roles
    any_of(q.roles, lambda m: {*(r for r in m.workspace_roles if r), *roles_of.get(m.id, ())})
    if q.org_user_ids:
        ids = set(q.org_user_ids)
        tests.append(lambda m: m.id in ids)
    if q.user_account_ids:
        accounts = set(q.user_account_ids)
        tests.append(lambda m: m.account_id in accounts)
    if q.only_admins:
        tests.append(lambda m: m.admin or m.owner)
    if q.has_group is not None:
        want = q.has_group
        tests.append(lambda m: bool(m.groups) == want)
    if q.filter is not None:
        text = q.filter.casefold()
        tests.append(lambda m: text in m.name.casefold() or text in m.email.casefold())
    return tests


def matching_users(query: UsersQuery, snap: Snapshot, extra: list[Test] | None = None) -> list[Member]:
    """The members every filter of `query` (and every test of `extra`) keeps, in the order read."""
    tests = user_tests(query, snap) + (extra or [])
    return [m for m in snap.members if all(test(m) for test in tests)]


def matching_teams(snap: Snapshot, filters: TeamsFilters, workspace_id: int | None) -> list[Group]:
    """The teams of `workspace_id` (None: every workspace, each team once) that the filters keep,
    by name as the API sorts them."""
    teams: Iterable[Group] = snap.teams.values()
    if workspace_id is not None:
        teams = [t for t in teams if any(w.workspace_id == workspace_id for w in t.workspaces)]
    if filters.filter is not None:
        text = filters.filter.casefold()
        teams = [t for t in teams if text in t.name.casefold()]
    if filters.organization_user_id is not None:
        member = filters.organization_user_id
        teams = [t for t in teams if any(u.organization_user_id == member for u in t.users)]
    if filters.group_ids:
        ids = set(filters.group_ids)
        teams = [t for t in teams if t.id in ids]
    return sorted(teams, key=lambda t: (t.name.casefold(), t.id))
