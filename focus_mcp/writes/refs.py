"""Roles and members given by name in a write: a Focus role by id or exact name (the roles read once,
cached), and `roles` objects (member -> role) resolved to ids, refused before any write."""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

from focus_mcp.api.models import OrganizationUser
from focus_mcp.tools import names
from focus_mcp.tools.base import AppState
from focus_mcp.tools.render import echoed

Roles = dict[int, int | None]
MAX_LISTED = 12


async def role_id(state: AppState, org: int, ref: int | str | None, argument: str) -> int | None:
    """A role's id: an id as given, a name matched exactly (case and outer spaces aside), else refused."""
    if ref is None or isinstance(ref, int):
        return ref
    roles = await state.client.list_roles(org)
    wanted = ref.strip().casefold()
    exact = [r for r in roles if r.name.strip().casefold() == wanted]
    if len(exact) == 1:
        return exact[0].role_id
    listed = ", ".join(f"{r.name}#{r.role_id}" for r in (exact or roles)[:MAX_LISTED])
    if exact:
        raise ToolError(f"Not changed: {argument} {echoed(ref)} names {len(exact)} roles: {listed}. Give the id.")
    raise ToolError(f"Not changed: {argument} {echoed(ref)} is no role's exact name. Roles: {listed}.")


def member_ref(key: str) -> int | str:
    """A key of `roles`: a string of digits is an id (as everywhere an id is taken), anything else a name."""
    digits = key.strip()
    return int(digits) if digits.isascii() and digits.isdigit() and int(digits) >= 1 else key


async def member_roles(
    state: AppState, org: int, roles: dict[str, int | str] | None, known: dict[int, OrganizationUser]
) -> Roles:
    """`roles` (member id, name or email -> role id or exact name) as ids."""
    if not roles:
        return {}
    ids = await names.user_ids(state, org, [member_ref(k) for k in roles], "roles", known)
    return {user: await role_id(state, org, ref, "roles") for user, ref in zip(ids, roles.values(), strict=True)}


def check_members(roles: Roles, members: list[int] | None, removed: list[int]) -> None:
    """Refuse, before any request, a member given a role who will not be in the group."""
    out = [u for u in roles if u in removed or (members is not None and u not in members)]
    if out:
        who = ", ".join(f"user {u}" for u in out)
        raise ToolError(f"Not changed: {who} given a role in roles but not a member after this change; nothing sent.")
