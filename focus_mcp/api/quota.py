"""The hourly request quota as the API's own headers tell it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import httpx2

from focus_mcp.api.errors import header_seconds

log = logging.getLogger(__name__)


@dataclass
class Quota:
    """The hourly request quota as the last response told it."""

    last_remaining: int | None = None
    resets_at: float | None = None  # time.monotonic() value
    told_at: float = 0.0  # time.time() of the answer that told it (another replica's, through Redis)

    @property
    def remaining(self) -> int | None:
        """Requests left this hour, or None when unknown (never told, or the told window has reset)."""
        if self.resets_at is not None and time.monotonic() >= self.resets_at:
            return None
        return self.last_remaining

    def resets_in(self) -> float | None:
        return None if self.resets_at is None else max(0.0, self.resets_at - time.monotonic())

    def update(self, headers: httpx2.Headers) -> None:
        """Read the quota headers of a response; one without them still spent a request."""
        remaining, resets = headers.get("x-toggl-quota-remaining"), headers.get("x-toggl-quota-resets-in")
        if remaining is None and self.last_remaining is not None:
            self.last_remaining = max(0, self.last_remaining - 1)
        try:
            if remaining is not None:
                self.last_remaining = max(0, int(remaining))
        except ValueError:
            log.debug("unreadable quota header: %r", remaining)
        if (seconds := header_seconds(resets)) is not None:
            self.resets_at = time.monotonic() + seconds
        self.told_at = time.time()

    def adopt(self, remaining: int, resets_in: float | None, told_at: float) -> None:
        """Take a view another replica published, when it is newer than this one's."""
        if told_at > self.told_at:
            self.last_remaining, self.told_at = remaining, told_at
            self.resets_at = None if resets_in is None else time.monotonic() + resets_in
