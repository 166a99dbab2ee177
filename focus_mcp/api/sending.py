"""Sending one request to the API: retries by retry.py's rules, bounded answers, errors.py's types.

Every body is read as a stream (httpx2's `send(stream=True)` and `aiter_bytes`, which yields the
decoded bytes, so a gzip body is counted as it inflates) and refused past max_response_bytes: an
endless or gigantic answer costs at most that much memory. An error status's body is only its
first ERROR_BODY_BYTES: its status says what happened, and only an excerpt of the text is shown.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from focus_mcp.api import retry
from focus_mcp.api.errors import (
    InvalidResponseError,
    RedirectedError,
    RequestInfo,
    ResponseTooLargeError,
    TransportError,
    UpstreamTimeoutError,
    WriteOutcomeUnknown,
    error_from_response,
    quota_spent,
    retry_after_seconds,
)
from focus_mcp.api.quota import Quota
from focus_mcp.api.urls import display_url, redirect_host
from focus_mcp.config import Settings

if TYPE_CHECKING:  # redis is imported only when Redis is configured (FocusClient)
    from focus_mcp.api.shared import SharedState

log = logging.getLogger(__name__)

# A gateway in front of the API gave up waiting or could not reach it: the request may still arrive.
GATEWAY_TIMEOUTS = frozenset({502, 504})

ERROR_BODY_BYTES = 64 << 10


@dataclass(frozen=True)
class Answer:
    """A response's status and headers, and its body as read (whole for a success)."""

    status: int
    headers: httpx2.Headers
    body: bytes
    encoding: str


class Sender:
    """Sends requests through one httpx2.AsyncClient, retrying by `policy`, noting the quota of every answer."""

    def __init__(
        self,
        settings: Settings,
        http: httpx2.AsyncClient,
        auth: httpx2.Auth | None,
        quota: Quota,
        shared: SharedState | None,
        policy: retry.RetryPolicy,
    ) -> None:
        self.settings, self.http, self.auth = settings, http, auth
        self.quota, self.shared, self.policy = quota, shared, policy
        self.base_url = settings.base_url.rstrip("/")
        self.max_response_bytes = settings.max_response_bytes

    async def fetch(self, info: RequestInfo, url: httpx2.URL, payload: Any) -> bytes:
        """The body of the answer to one logical request, within the deadline, retries included."""
        write = retry.is_write(info.method)
        deadline = self.settings.deadline + (self.settings.write_timeout if write else 0.0)
        try:
            with anyio.fail_after(deadline):
                answer = await self._send_with_retries(info, url, payload)
        except TimeoutError:
            if write:
                raise WriteOutcomeUnknown(info, f"no answer came within {deadline:g} s") from None
            raise UpstreamTimeoutError(
                f"{info}: the Toggl Focus API at {display_url(self.base_url)} did not answer within "
                f"{self.settings.deadline:g} s. Try again shortly; if it persists, check the service status "
                "(TOGGL_FOCUS_TIMEOUT and TOGGL_FOCUS_DEADLINE set the limits)."
            ) from None
        return answer.body or b"{}"

    async def _send_with_retries(self, info: RequestInfo, url: httpx2.URL, payload: Any) -> Answer:
        """Send, retrying what retry.py allows; raise errors.py types for what stays a failure.

        A write that may have reached the API and got no answer raises WriteOutcomeUnknown, never
        a plain failure: the caller must not take it for "not written". A write's success answer
        too big to read raises ResponseTooLargeError, an InvalidResponseError: no readable answer.
        """
        method, policy = info.method, self.policy
        write = retry.is_write(method)
        # A write waits longer for its answer: it is not sent twice once it may have arrived.
        limits = (
            httpx2.Timeout(self.settings.timeout, read=self.settings.write_timeout)
            if write
            else httpx2.USE_CLIENT_DEFAULT
        )
        uncertain = False  # an attempt may have reached the API without an answer
        for attempt in range(1, policy.max_attempts + 1):
            last = attempt == policy.max_attempts
            started = time.perf_counter()
            try:
                answer = await self._exchange(info, method, url, payload, limits)
            except httpx2.TransportError as exc:
                uncertain = uncertain or not retry.never_sent(exc)
                if not last and retry.may_retry_error(method, exc):
                    delay = policy.backoff(attempt)
                    log.info("%s: %s, retrying in %.1f s", info, type(exc).__name__, delay)
                    await anyio.sleep(delay)
                    continue
                if write and uncertain:
                    raise WriteOutcomeUnknown(info, lost_answer(exc)) from None
                raise self._transport_error(info, exc, attempt) from None
            status = answer.status
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s -> %s in %.0f ms (quota remaining %s)",
                    method,
                    url.copy_with(query=None),
                    status,
                    (time.perf_counter() - started) * 1000,
                    self.quota.remaining,
                )
            if 300 <= status < 400:  # never followed: a redirect is no answer of the API's
                raise RedirectedError(info, status, redirect_host(answer.headers.get("location", "")))
            if status < 400:
                return answer
            if not last and retry.may_retry_status(method, status) and not quota_spent(answer.headers):
                wait = retry_after_seconds(answer.headers.get("retry-after"))
                if wait is None or wait <= policy.max_retry_after:
                    delay = policy.backoff(attempt) if wait is None else wait
                    log.info("%s: HTTP %s, retrying in %.1f s", info, status, delay)
                    await anyio.sleep(delay)
                    continue
            text = answer.body.decode(answer.encoding, "replace")
            error = error_from_response(
                info, status, text, answer.headers, attempts=attempt, after_uncertain_attempt=uncertain
            )
            if write and status >= 500:  # the API, or a gateway in front of it, may have applied it
                # Its own JSON error (a code in its format) ends the request; a gateway's 502/504 does not.
                ended = error.code is not None and status not in GATEWAY_TIMEOUTS
                raise WriteOutcomeUnknown(info, f"the API answered HTTP {status} ({error.description})", ended)
            raise error
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _exchange(self, info: RequestInfo, method: str, url: httpx2.URL, payload: Any, limits: Any) -> Answer:
        """One attempt: send, note the quota, read the body within its bound."""
        request = self.http.build_request(method, url, json=payload, timeout=limits)
        response = await self.http.send(request, auth=self.auth, stream=True)
        try:
            self.quota.update(response.headers)
            if self.shared is not None and self.quota.last_remaining is not None:
                await self.shared.publish_quota(self.quota.last_remaining, self.quota.resets_in())
            status = response.status_code
            try:
                if 300 <= status < 400:
                    body = b""
                elif status >= 400:
                    body = await read_at_most(response, ERROR_BODY_BYTES)
                else:
                    body = await read_at_most(response, self.max_response_bytes)
                    if len(body) > self.max_response_bytes:
                        raise ResponseTooLargeError(info, status, self.max_response_bytes)
            except httpx2.DecodingError:  # a corrupt gzip body, say: for an error, its status says enough
                if status < 400:
                    encoding = response.headers.get("content-encoding", "none")
                    raise InvalidResponseError(info, status, f"the body cannot be decoded ({encoding})") from None
                body = b""
            return Answer(status, response.headers, body, response.encoding or "utf-8")
        finally:
            await response.aclose()

    def _transport_error(self, info: RequestInfo, exc: httpx2.TransportError, attempts: int) -> TransportError:
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if isinstance(exc, httpx2.TimeoutException):
            return UpstreamTimeoutError(
                f"{info}: the Toggl Focus API at {display_url(self.base_url)} did not answer within "
                f"{self.settings.timeout:g} s{tries}. Try again shortly; if it persists, raise "
                "TOGGL_FOCUS_TIMEOUT or check the service status."
            )
        return TransportError(
            f"{info}: cannot reach {display_url(self.base_url)} ({type(exc).__name__}){tries}. Check "
            "TOGGL_FOCUS_BASE_URL and the network connection."
        )


async def read_at_most(response: httpx2.Response, limit: int) -> bytes:
    """The decoded body, or its first `limit` + 1 bytes when it is longer (the caller sees it is too long);
    the rest is never read."""
    chunks: list[bytes] = []
    size = 0
    async with contextlib.aclosing(response.aiter_bytes()) as decoded:
        async for chunk in decoded:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    return b"".join(chunks)[: limit + 1]


def lost_answer(exc: httpx2.TransportError) -> str:
    if isinstance(exc, httpx2.TimeoutException):
        return f"no answer came in time ({type(exc).__name__})"
    return f"the connection ended without an answer ({type(exc).__name__})"
