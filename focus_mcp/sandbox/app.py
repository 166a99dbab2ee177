"""The embedded sandbox organization: the organization endpoints as an in-process ASGI app.

It behaves as Toggl's spec (tests/spec/organization.swagger.json) describes the real API (bare
arrays, the teams envelope, comma-separated filters, required workspace_id, PUT needing all four fields, `{error,
error_description}` bodies, quota headers counting down), over invented, deterministic data.
`SandboxAPI().transport()` plugs it into FocusClient without sockets; `.app` serves it on a port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from focus_mcp.sandbox import data as seed
from focus_mcp.sandbox.query import ApiProblem, Query, json_body, paginate
from focus_mcp.sandbox.state import Saved, StateFile
from focus_mcp.sandbox.wire import group_json, user_json

SANDBOX_BASE_URL = "http://sandbox.focus.invalid/api"
SANDBOX_API_KEY = "sandbox"  # any non-empty credential is accepted
DEFAULT_QUOTA = 600  # requests per hour, as on the Premium plan
QUOTA_WINDOW = 3600.0
NOW = "2026-11-27T12:00:00Z"


def _problem(status: int, code: str, description: str, **values: Any) -> ApiProblem:
    return ApiProblem(status, code, description, values or None)


class SandboxAPI:
    """One sandbox organization whose state lives as long as this object."""

    def __init__(self, quota: int = DEFAULT_QUOTA, state_file: Path | None = None) -> None:
        """`state_file`: keep the groups there between processes (`focus-mcp --sandbox call`)."""
        self.users = {u.id: u for u in seed.seed_users()}
        self.groups: dict[int, seed.SeedGroup] = {}
        self.next_group_id = 0
        self.groups, self.next_group_id = self._seed()
        self.me = next(iter(self.users.values())).id
        self.quota_limit = quota
        self.quota_left = quota
        self.window_start = time.monotonic()
        self.state = StateFile(state_file) if state_file is not None else None
        self.requests: list[tuple[str, str]] = []  # (method, path?query), for tests and benchmarks
        self.app = Starlette(
            routes=[
                Route(
                    "/api/organizations/{org:int}/{rest:path}", self._dispatch, methods=["GET", "POST", "PUT", "DELETE"]
                )
            ]
        )

    def _seed(self) -> Saved:
        groups = {g.id: g for g in seed.seed_groups(list(self.users.values()))}
        return groups, max(groups) + 1

    def transport(self) -> httpx2.ASGITransport:
        return httpx2.ASGITransport(app=self.app)

    # --- request handling ---------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> JSONResponse:
        self.requests.append(
            (request.method, request.url.path + ("?" + request.url.query if request.url.query else ""))
        )
        try:
            self._spend_quota()
            self._authenticate(request)
            org = request.path_params["org"]
            if org != seed.ORGANIZATION_ID:
                raise _problem(403, "forbidden", f"you have no access to organization {org}")
            parts = request.path_params["rest"].strip("/").split("/")
            if self.state is None:
                status, body = await self._route(request, parts)
            elif request.method == "GET":  # a read reads the file (always whole: it is replaced atomically)
                self.groups, self.next_group_id = self.state.load_for_reading() or self._seed()
                status, body = await self._route(request, parts)
            else:  # one-shot calls in several processes: read, change and write the file as one step
                self.state.load()  # a file that is not sandbox state is refused before the lock is even made
                async with self.state.locked():
                    self.groups, self.next_group_id = self.state.load() or self._seed()
                    status, body = await self._route(request, parts)
                    self.state.save(self.groups, self.next_group_id)
        except ApiProblem as problem:
            status, body = problem.status, problem.body()
        return JSONResponse(body, status_code=status, headers=self._quota_headers())

    def _spend_quota(self) -> None:
        if time.monotonic() - self.window_start >= QUOTA_WINDOW:
            self.window_start, self.quota_left = time.monotonic(), self.quota_limit
        if self.quota_left <= 0:
            raise _problem(402, "quota_exceeded", "hourly request quota exceeded")
        self.quota_left -= 1

    def _quota_headers(self) -> dict[str, str]:
        resets = max(0, round(QUOTA_WINDOW - (time.monotonic() - self.window_start)))
        return {"X-Toggl-Quota-Remaining": str(self.quota_left), "X-Toggl-Quota-Resets-In": str(resets)}

    @staticmethod
    def _authenticate(request: Request) -> None:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "basic") or not credential.strip():
            raise _problem(401, "unauthorized", "missing or malformed Authorization header")

    async def _route(self, request: Request, parts: list[str]) -> tuple[int, Any]:
        method, q = request.method, Query(request.query_params)
        match method, parts:
            case "GET", ["users"]:
                return 200, self.list_users(q)
            case "GET", ["teams"]:
                return 200, self.list_teams(q)
            case "GET", ["roles"]:
                return 200, [seed.role_json(r) for r in seed.ROLES]
            case "GET", ["member-tags"]:
                self._workspace(q)
                used = {t for u in self.users.values() for t in u.tags}
                return 200, [seed.tag_json(t, full=True) for t in seed.TAGS if t[0] in used]
            case "GET", ["groups", "me"]:
                mine = [g for g in self.groups.values() if self.me in g.users]
                return 200, [{"id": g.id, "name": g.name, "emoji": g.emoji} for g in mine]
            case "POST", ["groups"]:
                return 201, self.create_group(await json_body(request))
            case "PUT", ["groups", gid]:
                return 200, self.update_group(_group_id(gid), await json_body(request))
            case "DELETE", ["groups", gid]:
                return 200, self.delete_group(_group_id(gid), q)
            case "PUT", ["groups", gid, "user_role"]:
                return 200, self.set_user_role(_group_id(gid), await json_body(request))
        raise _problem(404, "not_found", f"no route {method} {'/'.join(parts)}")

    # --- endpoints ----------------------------------------------------------------------------

    def list_users(self, q: Query) -> list[dict[str, Any]]:
        q.known(
            "workspaces user_account_ids org_user_ids groups toggl_products active_status roles only_admins "
            "filter sort_dir page per_page tag_ids include_working_hours include_rates pinned_ids has_group "
            "cf_filter include_custom_fields"
        )
        workspaces = q.integers("workspaces")
        if (q.has("cf_filter") or q.boolean("include_custom_fields")) and len(workspaces or []) != 1:
            raise _problem(400, "invalid_request", "cf_filter and include_custom_fields need exactly one workspace")
        statuses = q.strings("active_status")
        for status in statuses or []:
            if status not in ("active", "inactive", "invited"):
                raise _problem(400, "invalid_request", f"invalid active_status {status!r}: active, inactive, invited")
        groups_of = self._groups_of_users()
        users = sorted(self.users.values(), key=lambda u: u.name.lower(), reverse=q.sort_desc())
        checks: list[tuple[Any, Callable[[seed.SeedUser, Any], Any]]] = [
            (workspaces, lambda u, v: set(u.workspaces) & set(v)),
            (q.integers("user_account_ids"), lambda u, v: u.account_id in v),
            (q.integers("org_user_ids"), lambda u, v: u.id in v),
            (q.integers("groups"), lambda u, v: {g.id for g in groups_of[u.id]} & set(v)),
            (q.strings("toggl_products"), lambda u, v: {"focus", "track"} & set(v)),
            (statuses, lambda u, v: _status(u) in v),
            (q.integers("roles"), lambda u, v: set(self._roles_of(u)) & set(v)),
            (q.integers("tag_ids"), lambda u, v: set(u.tags) & set(v)),
            (q.boolean("only_admins") or None, lambda u, v: u.admin or u.owner),
            (q.boolean("has_group"), lambda u, v: bool(groups_of[u.id]) == v),
            (q.text("filter"), lambda u, v: v.lower() in u.name.lower() or v.lower() in u.email.lower()),
            (q.strings("cf_filter"), lambda u, v: all(seed.custom_field_matches(u, f) for f in v)),
        ]
        for value, check in checks:
            if value is not None:
                users = [u for u in users if check(u, value)]
        if q.has("cf_filter") and len(users) > seed.CF_FILTER_MAX_MATCHES:  # the sandbox's own limit
            raise _problem(422, "cf_filter_too_broad", "cf_filter matches too many members; narrow the filter")
        pinned = q.integers("pinned_ids") or []
        users = [self.users[p] for p in pinned if p in self.users and self.users[p] in users] + [
            u for u in users if u.id not in pinned
        ]
        _page, _, rows = paginate(users, q)
        extras = {k: q.boolean(k) for k in ("include_working_hours", "include_rates", "include_custom_fields")}
        return [user_json(u, groups_of[u.id], **extras) for u in rows]

    def list_teams(self, q: Query) -> dict[str, Any]:
        q.known("workspace_id page per_page sort_dir filter query organization_user_id group_ids active_members_only")
        ws = self._workspace(q)
        groups = sorted(
            (g for g in self.groups.values() if ws in g.workspaces), key=lambda g: g.name.lower(), reverse=q.sort_desc()
        )
        if (name := q.text("filter")) is not None:
            groups = [g for g in groups if name.lower() in g.name.lower()]
        if (text := q.text("query")) is not None:
            t = text.lower()
            groups = [g for g in groups if t in g.name.lower() or any(t in self.users[u].name.lower() for u in g.users)]
        if (member := q.integer("organization_user_id")) is not None:
            groups = [g for g in groups if member in g.users]
        if (ids := q.integers("group_ids")) is not None:
            groups = [g for g in groups if g.id in ids]
        active_only = bool(q.boolean("active_members_only"))
        page, _, rows = paginate(groups, q)
        return {
            "data": [group_json(g, self.users, active_only) for g in rows],
            "page": page,
            "rows": len(rows),
            "total": len(groups),
        }

    def create_group(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._group_fields(body)
        group = seed.SeedGroup(id=self.next_group_id, ghosts=[], created_at=NOW, updated_at=NOW, **fields)
        group.roles = dict.fromkeys(group.users)
        self.next_group_id += 1
        self.groups[group.id] = group
        return group_json(group, self.users)

    def update_group(self, group_id: int, body: dict[str, Any]) -> dict[str, Any]:
        group = self._group(group_id)
        fields = self._group_fields(body)
        group.name, group.emoji, group.workspaces = fields["name"], fields["emoji"], fields["workspaces"]
        group.roles = {u: group.roles.get(u) for u in fields["users"]}
        group.users, group.updated_at = fields["users"], NOW
        return group_json(group, self.users)

    def delete_group(self, group_id: int, q: Query) -> dict[str, bool]:
        ws = self._workspace(q)
        group = self._group(group_id)
        if ws not in group.workspaces:
            raise _problem(403, "forbidden", f"group {group_id} does not belong to workspace {ws}")
        del self.groups[group_id]
        return {"success": True}

    def set_user_role(self, group_id: int, body: dict[str, Any]) -> dict[str, bool]:
        for key in ("focus_role_id", "organization_user_id", "workspace_id"):
            if key not in body:
                raise _problem(400, "invalid_request", f"{key} is required")
        group = self._group(group_id)
        user, role, ws = body["organization_user_id"], body["focus_role_id"], body["workspace_id"]
        if ws not in seed.WORKSPACES:
            raise _problem(403, "forbidden", f"you have no access to workspace {ws}")
        if user not in group.users:
            raise _problem(404, "not_found", f"group member not found: organization user {user} in group {group_id}")
        if role is not None and role not in {r[0] for r in seed.ROLES}:
            raise _problem(400, "invalid_request", f"role {role} does not exist")
        group.roles[user] = role
        return {"success": True}

    # --- helpers ------------------------------------------------------------------------------

    def _workspace(self, q: Query) -> int:
        ws = q.integer("workspace_id")
        if ws is None:
            raise _problem(400, "invalid_request", "workspace_id is required")
        if ws not in seed.WORKSPACES:
            raise _problem(403, "forbidden", f"you have no access to workspace {ws}")
        return ws

    def _group(self, group_id: int) -> seed.SeedGroup:
        if group_id not in self.groups:
            raise _problem(404, "not_found", f"group {group_id} not found")
        return self.groups[group_id]

    def _group_fields(self, body: dict[str, Any]) -> dict[str, Any]:
        for key, kind in (("name", str), ("emoji", str), ("organization_users", list), ("workspaces", list)):
            if key not in body:
                raise _problem(400, "invalid_request", f"{key} is required")
            if not isinstance(body[key], kind):
                raise _problem(400, "invalid_request", f"{key} must be a {kind.__name__}")
        if not body["name"].strip():
            raise _problem(400, "invalid_request", "name must not be empty")
        users, spaces = body["organization_users"], body["workspaces"]
        if not all(isinstance(i, int) for i in users + spaces):
            raise _problem(400, "invalid_request", "organization_users and workspaces must be integer ids")
        if unknown := [u for u in users if u not in self.users]:
            raise _problem(400, "invalid_request", f"unknown organization users: {unknown}", organization_users=unknown)
        if unknown := [w for w in spaces if w not in seed.WORKSPACES]:
            raise _problem(400, "invalid_request", f"unknown workspaces: {unknown}", workspaces=unknown)
        return {
            "name": body["name"],
            "emoji": body["emoji"],
            "users": list(dict.fromkeys(users)),
            "workspaces": list(dict.fromkeys(spaces)),
        }

    def _groups_of_users(self) -> dict[int, list[seed.SeedGroup]]:
        result: dict[int, list[seed.SeedGroup]] = {uid: [] for uid in self.users}
        for group in self.groups.values():
            for uid in group.users:
                result[uid].append(group)
        return result

    def _roles_of(self, user: seed.SeedUser) -> list[int]:
        base = 1 if user.owner else 2 if user.admin else 5
        return [base, *(g.roles.get(user.id) or 0 for g in self.groups.values() if user.id in g.users)]


def _group_id(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise _problem(400, "invalid_request", f"invalid group id {raw!r}")
    return int(raw)


def _status(user: seed.SeedUser) -> str:
    return "invited" if not user.joined else "active" if user.active else "inactive"
