"""When to try an upstream request again: the rules (by method and failure) and the timing
(`RetryPolicy`, today's constants as its defaults; tests pass a fast one to the client).

GET and DELETE are retried on 429, 502, 503, 504, on connection failures and on read timeouts:
a repeated read changes nothing, and a repeated DELETE can only find the group gone (404).

PUT and POST are re-sent only when the first attempt certainly was not applied: the connection
could not be opened, or the API refused it with 429. Once a PUT may have reached the API, a
second copy could land after a later edit of the same group and undo it; a second POST could
make a second group. Such a write's outcome is reported as unknown and checked with a read.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx2

RETRY_STATUSES = frozenset({429, 502, 503, 504})
REFUSED_STATUSES = frozenset({429})  # answered before any processing: a write was not applied
REPEATABLE_METHODS = frozenset({"GET", "DELETE"})
# Failures that prove the request never reached the server: safe to retry for any method.
NOT_SENT_ERRORS = (httpx2.ConnectError, httpx2.ConnectTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again."""

    max_attempts: int = 3
    initial_backoff: float = 0.5  # seconds before the second attempt, doubled each time
    max_backoff: float = 8.0
    max_retry_after: float = 20.0  # a longer Retry-After fails at once, saying when to try again
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Delay after attempt number `attempt` (from 1): 0.5-0.75 s, 1-1.5 s, 2-3 s, ... never over 8 s."""
        base: float = self.initial_backoff * 2.0 ** (attempt - 1)
        return min(self.max_backoff, base * (1 + self.rng.random() / 2))


def may_retry_status(method: str, status: int) -> bool:
    if method in REPEATABLE_METHODS:
        return status in RETRY_STATUSES
    return status in REFUSED_STATUSES


def never_sent(exc: Exception) -> bool:
    return isinstance(exc, NOT_SENT_ERRORS)


def may_retry_error(method: str, exc: Exception) -> bool:
    return never_sent(exc) or (method in REPEATABLE_METHODS and isinstance(exc, httpx2.TransportError))


def is_write(method: str) -> bool:
    return method != "GET"
