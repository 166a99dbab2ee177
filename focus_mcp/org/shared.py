"""The snapshot shared by replicas through Redis (TOGGL_FOCUS_REDIS_URL).

Per organization and credential (the keys carry SharedState's identity: a hash of the base URL and
the credential, never the credential), as zlib'd JSON (6,000 members: a few hundred KB), expiring
when its max age runs out. A short version key tells a replica, for one small GET, whether the
snapshot it holds is the latest; only a newer one is fetched and decoded. One replica reads the
organization at a time (a Redis lock); the others wait for it and take what it published.
Redis unreachable: each replica reads for itself (SharedState answers "nothing shared").
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from focus_mcp.api.models import Group, Role
from focus_mcp.org.model import Member, Names, Snapshot

if TYPE_CHECKING:  # api.shared imports redis: loaded only where Redis is configured (the client makes it)
    from focus_mcp.api.shared import SharedState

FORMAT = 1
MEMBER_FIELDS = [f.name for f in fields(Member)]


class SharedSnapshots:
    def __init__(self, shared: SharedState) -> None:
        self.shared = shared
        self._published: set[str] = set()  # versions this replica published or took from Redis

    @staticmethod
    def _keys(org: int) -> tuple[str, str]:
        return f"snapshot:{org}", f"snapshot-version:{org}"

    async def newer(self, org: int, held: Snapshot | None) -> Snapshot | bool | None:
        """The replicas' snapshot when it is not the one held; None when it is the same (or Redis is
        away, or none is shared and none held); False when the one held was shared and is gone (a
        write of unknown outcome dropped it: the copy held may predate that write)."""
        if not self.shared.available and held is not None:
            return None
        blob_key, version_key = self._keys(org)
        version = await self.shared.get(version_key)
        if version is None:
            return False if held is not None and self.shared.available and self.published(held) else None
        if held is not None and version.decode() == held.version:
            return None
        blob = await self.shared.get(blob_key)
        told = None if blob is None else decode(blob)
        if told is not None:
            self._published.add(told.version)
        return told

    def published(self, snap: Snapshot) -> bool:
        return snap.version in self._published

    async def publish(self, snap: Snapshot, max_age: float) -> None:
        left = snap.read_at + max_age - time.time()
        if left <= 0:
            return
        blob_key, version_key = self._keys(snap.organization_id)
        await self.shared.put(blob_key, encode(snap), left)
        await self.shared.put(version_key, snap.version.encode(), left)
        self._published.add(snap.version)

    async def forget(self, org: int) -> None:
        """A write of unknown outcome: no replica serves this snapshot again."""
        await self.shared.delete(*self._keys(org))

    @asynccontextmanager
    async def refreshing(self, org: int) -> AsyncIterator[bool]:
        """Hold the replicas' refresh lock of `org` (True when held; False when Redis is away)."""
        async with self.shared.holding(f"snapshot:{org}") as lock:
            yield lock.held


def encode(snap: Snapshot) -> bytes:
    names = snap.names
    data: dict[str, Any] = {
        "format": FORMAT,
        "organization_id": snap.organization_id,
        "members": [[getattr(m, name) for name in MEMBER_FIELDS] for m in snap.members],  # astuple deep-copies
        "teams": [g.model_dump(mode="json", exclude_none=True) for g in snap.teams.values()],
        "workspaces": list(names.workspaces.items()),
        "groups": [[i, *v[:2], list(v[2])] for i, v in names.groups.items()],
        "tags": [[i, *v] for i, v in names.tags.items()],
        "roles": None if snap.roles is None else [r.model_dump(mode="json", exclude_none=True) for r in snap.roles],
        "read_at": snap.read_at,
        "cost": snap.cost,
        "gaps": snap.gaps,
        "version": snap.version,
        "short": snap.short,
    }
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 6)


def decode(blob: bytes) -> Snapshot | None:
    """The snapshot, or None for anything this version cannot read (an older format, garbage)."""
    try:
        data = json.loads(zlib.decompress(blob))
        if data.get("format") != FORMAT:
            return None
        members = [_member(row) for row in data["members"]]
        names = Names(
            workspaces={int(i): n for i, n in data["workspaces"]},
            groups={int(i): (n, e, tuple(w)) for i, n, e, w in data["groups"]},
            tags={int(i): (label, color) for i, label, color in data["tags"]},
        )
        teams = {g["id"]: Group.model_validate(g) for g in data["teams"]}
        roles = None if data["roles"] is None else [Role.model_validate(r) for r in data["roles"]]
        return Snapshot(
            data["organization_id"],
            members,
            teams,
            names,
            roles,
            data["read_at"],
            data["cost"],
            data["gaps"],
            data["version"],
        )
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


def _member(row: list[Any]) -> Member:
    values = dict(zip(MEMBER_FIELDS, row, strict=True))
    for name in ("groups", "workspaces", "workspace_roles", "products", "tags"):
        values[name] = tuple(values[name])
    return Member(**values)
