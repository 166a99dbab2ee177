"""When to try an upstream request again, as named constants (the openai-python way).

GET, PUT and DELETE are idempotent on this API and are retried on 429, 502, 503, 504, on
connection failures and on read timeouts. POST is retried only when the request never left
(a connection could not be opened), since a retried create could make two groups.
"""

from __future__ import annotations

import random

import httpx2

MAX_ATTEMPTS = 3
INITIAL_BACKOFF = 0.5  # seconds before the second attempt, doubled each time
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 20.0  # a longer Retry-After fails at once, saying when to try again
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE"})
# Failures that prove the request never reached the server: safe to retry for any method.
NOT_SENT_ERRORS = (httpx2.ConnectError, httpx2.ConnectTimeout)


_RNG = random.Random()


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Delay after attempt number `attempt` (from 1): 0.5-0.75 s, 1-1.5 s, 2-3 s, ... never over 8 s."""
    base: float = INITIAL_BACKOFF * 2.0 ** (attempt - 1)
    return min(MAX_BACKOFF, base * (1 + (rng or _RNG).random() / 2))


def may_retry_status(method: str, status: int) -> bool:
    return method in IDEMPOTENT_METHODS and status in RETRY_STATUSES


def may_retry_error(method: str, exc: Exception) -> bool:
    if isinstance(exc, NOT_SENT_ERRORS):
        return True
    return method in IDEMPOTENT_METHODS and isinstance(exc, httpx2.TransportError)
