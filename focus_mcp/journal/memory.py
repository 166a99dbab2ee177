"""The journal kept in this process only: with TOGGL_FOCUS_JOURNAL=off nothing reaches a disk, but
the unsettled writes are still remembered while the process lives (a write still out must hold up
the next edit of its group whatever is configured)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from focus_mcp.journal.model import (
    Change,
    Changes,
    Outcome,
    Step,
    matches_group,
    matches_unsettled,
    now,
    settled_copy,
)

MAX_ENTRIES = 10_000  # a long-lived process forgets its oldest settled changes beyond this


class MemoryJournal:
    def __init__(self, days: float = 90) -> None:
        self.keep = timedelta(days=days)
        self._changes: dict[str, Change] = {}  # in the order begun

    def _expire(self) -> None:
        cutoff, excess = now() - self.keep, len(self._changes) - MAX_ENTRIES
        for change in list(self._changes.values()):  # oldest first
            if not change.settled:
                continue  # a write still out is remembered however old
            if change.at >= cutoff and excess <= 0:
                break
            del self._changes[change.id]
            excess -= 1

    async def begin(self, change: Change) -> None:
        self._changes[change.id] = change.model_copy(update={"outcome": "pending"}, deep=True)
        self._expire()

    async def settle(
        self,
        change_id: str,
        outcome: Outcome,
        *,
        group_id: int | None = None,
        group_name: str | None = None,
        after: dict[str, Any] | None = None,
        note: str = "",
        steps: list[Step] | None = None,
    ) -> None:
        change = self._changes.get(change_id)
        if change is not None:
            self._changes[change_id] = settled_copy(
                change, outcome, group_id=group_id, group_name=group_name, after=after, note=note, steps=steps
            )

    async def get(self, change_id: str) -> Change | None:
        change = self._changes.get(change_id)
        return None if change is None else change.model_copy(deep=True)

    async def changes(
        self,
        organization_id: int,
        *,
        group_id: int | None = None,
        since: datetime | None = None,
        limit: int = 20,
        group_name: str | None = None,
    ) -> Changes:
        found = [
            change.model_copy(deep=True)
            for change in reversed(self._changes.values())
            if change.organization_id == organization_id
            and (since is None or change.at >= since)
            and matches_group(change, group_id, group_name)
        ]
        # Newest begun first, then a stable sort by time: changes of one instant stay newest first.
        found.sort(key=lambda change: change.at, reverse=True)
        return Changes(found[: max(limit, 0)])

    async def unsettled(
        self, organization_id: int, *, group_id: int | None = None, create_name: str | None = None
    ) -> Changes:
        return Changes(
            change.model_copy(deep=True)
            for change in self._changes.values()
            if change.organization_id == organization_id and matches_unsettled(change, group_id, create_name)
        )

    async def mark_undone(self, change_id: str, undone_by: str) -> None:
        change = self._changes.get(change_id)
        if change is not None:
            self._changes[change_id] = change.model_copy(update={"undone_by": undone_by})

    async def aclose(self) -> None:
        return None
