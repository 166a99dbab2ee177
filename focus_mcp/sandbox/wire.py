"""The sandbox's records as the API's wire shows them: every field the spec requires, invented values."""

from __future__ import annotations

from typing import Any

from focus_mcp.sandbox import data as seed

# The spec requires every field of a user; without include_rates the API has no rate to give.
NO_RATE = {
    "hourly_rate": 0,
    "currency": "",
    "workspace_id": 0,
    "start_at": "",
    "end_at": "",
    "workspace_rate_id": 0,
    "workspace_user_rate_id": 0,
}


def user_json(u: seed.SeedUser, groups: list[seed.SeedGroup], **include: bool | None) -> dict[str, Any]:
    role = 1 if u.owner else 2 if u.admin else 5
    data = {
        "id": u.id,
        "user_id": f"usr_{u.account_id:x}",
        "user_account_id": u.account_id,
        "organization_id": seed.ORGANIZATION_ID,
        "name": u.name,
        "email": u.email,
        "owner": u.owner,
        "admin": u.admin,
        "active": u.active,
        "joined": u.joined,
        "invite_sent": u.invite_sent,
        "2fa_enabled": u.two_factor,
        "account_locked_at": "2026-10-02T08:15:00Z" if u.locked else "",
        "can_edit_personal_details": u.admin,
        "groups": [{"id": g.id, "name": g.name, "emoji": g.emoji, "workspace_ids": g.workspaces} for g in groups],
        "workspaces": [
            {
                "id": ws,
                "name": seed.WORKSPACES[ws],
                "workspace_user_id": u.id * 10 + i,
                "focus_role_id": role,
                "track_role_id": role,
                "work_role_id": role,
                "toggl_products": ["focus", "track"],
                "groups": [{"id": g.id, "name": g.name, "emoji": g.emoji} for g in groups if ws in g.workspaces],
            }
            for i, ws in enumerate(u.workspaces)
        ],
        "tags": [seed.tag_json(t) for t in seed.TAGS if t[0] in u.tags],
        "working_hours": u.working_hours if include.get("include_working_hours") else 0,
        "rate": NO_RATE,
        "permissions": {"manage_users": u.admin, "manage_user_groups": u.admin, "view_reports": True},
        "created_at": u.created_at,
        "updated_at": u.created_at,
        "deleted_at": "",
    }
    if include.get("include_rates"):
        ws = u.workspaces[0]
        data["rate"] = {
            "hourly_rate": u.hourly_rate,
            "currency": u.currency,
            "workspace_id": ws,
            "start_at": u.created_at,
            "end_at": "",
            "workspace_rate_id": ws * 10,
            "workspace_user_rate_id": u.id * 10,
        }
    if include.get("include_custom_fields"):
        data["custom_field_values"] = [seed.custom_field_json(u)]
    return data


def group_json(g: seed.SeedGroup, users: dict[int, seed.SeedUser], active_only: bool = False) -> dict[str, Any]:
    members = [users[u] for u in g.users if not active_only or users[u].active]
    return {
        "id": g.id,
        "name": g.name,
        "emoji": g.emoji,
        "organization_id": seed.ORGANIZATION_ID,
        "users": [
            {
                "user_group_id": g.id * 1000 + n,
                "organization_user_id": u.id,
                "user_account_id": u.account_id,
                "display_name": u.name,
                "focus_role_id": g.roles.get(u.id) or 0,
                "track_role_id": 0,
                "work_role_id": 0,
                "created_at": g.created_at,
                "updated_at": g.updated_at,
                "deleted_at": "",
            }
            for n, u in enumerate(members)
        ],
        "workspaces": [
            {
                "workspace_group_id": g.id * 10 + n,
                "workspace_id": ws,
                "name": seed.WORKSPACES[ws],
                "focus_role_id": 0,
                "products": ["focus"],
                "created_at": g.created_at,
                "updated_at": g.updated_at,
                "deleted_at": "",
            }
            for n, ws in enumerate(g.workspaces)
        ],
        "ghosts": [{"id": gid, "name": name} for gid, name in g.ghosts],
        "created_at": g.created_at,
        "updated_at": g.updated_at,
        "deleted_at": "",
    }
