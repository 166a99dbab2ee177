"""Who may read an organization's change trail: a configuration whose credential the API accepts for
that organization. Several configurations can share one journal (a SQLite file, a Redis), each with
its own key and organization; an entry is listed or undone only after one read of that organization
with the key in use succeeds (GET roles: cheap, and cached by the client for ten minutes anyway).

A confirmation is remembered per client (one credential), organization and credential fingerprint
for ACCESS_SECONDS, so a listing or an undo costs at most one request in that time; a refusal is never
remembered (the next call asks again)."""

from __future__ import annotations

import time
from weakref import WeakKeyDictionary

from focus_mcp.api.client import FocusClient
from focus_mcp.api.errors import (
    AuthenticationError,
    FocusError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
)
from focus_mcp.config import Settings
from focus_mcp.journal import Change, Journal, fingerprint

ACCESS_SECONDS = 600.0  # as long as the roles listing stays cached: a revoked key is found within it
_confirmed: WeakKeyDictionary[FocusClient, dict[tuple[int, str], float]] = WeakKeyDictionary()


class TrailAccessRefused(FocusError):
    """This configuration's credential is not accepted for the organization whose trail was asked."""


async def confirm_access(client: FocusClient, organization_id: int) -> None:
    """Return when the API accepts the client's credential for `organization_id`; otherwise raise
    TrailAccessRefused saying why (the API's own words) and what would be accepted."""
    who = fingerprint(client.settings)
    confirmed = _confirmed.setdefault(client, {})
    at = confirmed.get((organization_id, who))
    if at is not None and time.monotonic() - at < ACCESS_SECONDS:
        return
    try:
        await client.list_roles(organization_id)
    except (AuthenticationError, PermissionDeniedError, NotFoundError, NotConfiguredError) as exc:
        raise TrailAccessRefused(
            f"The change trail of organization {organization_id} is not shown: the API does not accept this "
            f"server's credential (fingerprint {who}) for it ({exc}). Its changes are listed and undone only "
            "by a configuration whose key reads that organization."
        ) from None
    except FocusError as exc:
        raise TrailAccessRefused(
            f"The change trail of organization {organization_id} is not shown: whether this server's credential "
            f"may read it could not be confirmed ({exc}). Try again."
        ) from None
    confirmed[(organization_id, who)] = time.monotonic()


async def find_change(journal: Journal, client: FocusClient, change_id: str) -> Change | None:
    """The journal entry `change_id`, once the credential is confirmed for its organization (None:
    no such entry). What undo_change resolves a change id with."""
    change = await journal.get(change_id)
    if change is not None:
        await confirm_access(client, change.organization_id)
    return change


def other_organization(organization_id: int, settings: Settings) -> str:
    """' of organization N (not the configured one, M)' when a change or a trail belongs to an
    organization other than the configured one, else ''."""
    if organization_id == settings.organization_id:
        return ""
    configured = f", {settings.organization_id}" if settings.organization_id is not None else ""
    return f" of organization {organization_id} (not the configured one{configured})"
