"""One exception hierarchy for everything that can go wrong upstream, one table from status to type.

Every message says what failed, why (the API's own words) and what to do next, so that the tool
layer can hand `str(exc)` to the model unchanged. No message ever contains a credential.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from focus_mcp.api.redaction import redact

BODY_EXCERPT_CHARS = 300
# A header's number of seconds is believed up to a day: the quota resets hourly, and a bigger value
# (or inf) is a broken header, not a reason to tell anyone to wait for years.
MAX_HEADER_SECONDS = 86_400.0


@dataclass(frozen=True)
class RequestInfo:
    """What was asked, in the API's terms (never headers, never credentials)."""

    method: str
    endpoint: str  # the path template, e.g. "groups/{group_id}"
    params: Mapping[str, int] = field(default_factory=dict)  # path and id parameters

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint}"


def human_duration(seconds: float) -> str:
    """'45 s', '12 min', '1 h 5 min': how a person says how long to wait."""
    seconds = round(min(max(seconds, 0.0), MAX_HEADER_SECONDS)) if math.isfinite(seconds) else round(MAX_HEADER_SECONDS)
    if seconds < 60:
        return f"{seconds} s"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


class FocusError(Exception):
    """Base of every error focus-mcp raises about the Toggl Focus API or its configuration.

    Its text never shows a credential in use, whatever the upstream echoed (see redaction.py)."""

    def __str__(self) -> str:
        return redact(super().__str__())


class NotConfiguredError(FocusError):
    """A value the call needs (credentials, an organization or workspace id) is not configured."""


class RequestTooLongError(FocusError):
    """The query (filters, ids) would make a URL longer than an HTTP client builds: nothing was sent."""

    def __init__(self, request: RequestInfo, why: str) -> None:
        self.request = request
        super().__init__(
            f"{request} not sent: its query is too long for a URL ({why}). Shorten the text given (a filter, a "
            "name), or pass fewer ids (several calls, or a broader filter)."
        )


class TransportError(FocusError):
    """The API could not be reached, or did not answer in time."""


class UpstreamTimeoutError(TransportError):
    """The API did not answer within the configured timeout."""


class WriteOutcomeUnknown(TransportError):
    """A write was sent and may have been applied, but no answer said so (timeout, dropped
    connection, a 5xx from the API or a gateway). The write pipeline settles it with a fresh read.

    `ended`: the API itself answered, with its own JSON error (a 500 or 503 in its error format): the
    request ended there and cannot land later, so one fresh read settles it. Not so for no answer, a
    dropped connection, or a gateway's 502/504, whose request may still reach the API."""

    def __init__(self, request: RequestInfo, cause: str, ended: bool = False) -> None:
        self.request, self.cause, self.ended = request, cause, ended
        super().__init__(f"{request}: sent, but {cause}; it may or may not have been applied")


@dataclass(frozen=True)
class ErrorDetails:
    """What an error answer said besides its status and words, and how the request went."""

    code: str | None = None  # the API's `error`: set when the body is the API's own JSON error
    trace_id: str | None = None
    retry_after: float | None = None
    quota_resets_in: float | None = None
    attempts: int = 1
    after_uncertain_attempt: bool = False


class APIError(FocusError):
    """The API answered with an error status."""

    status: int = 0

    def __init__(
        self, request: RequestInfo, status: int, description: str, details: ErrorDetails | None = None
    ) -> None:
        details = details or ErrorDetails()
        self.request = request
        # An earlier attempt of this request may have reached the API (it timed out or dropped).
        self.after_uncertain_attempt = details.after_uncertain_attempt
        self.status = status
        self.description = description
        self.code = details.code
        self.trace_id = details.trace_id
        self.retry_after = details.retry_after
        self.quota_resets_in = details.quota_resets_in
        self.attempts = details.attempts
        super().__init__(self._message())

    def _message(self) -> str:
        why = self.description or "no reason given"
        tries = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        text = f"{self.request} failed with HTTP {self.status}{tries}: {why}."
        if self.trace_id:
            text += f" (trace_id {self.trace_id})"
        return f"{text} {self.next_step()}".strip()

    def _param(self, name: str) -> int | None:
        return self.request.params.get(name)

    def next_step(self) -> str:
        return ""


class BadRequestError(APIError):
    def next_step(self) -> str:
        return "Fix the arguments the message names and call again."


class AuthenticationError(APIError):
    def next_step(self) -> str:
        return (
            "The credentials were rejected: check TOGGL_FOCUS_API_KEY (or TOGGL_FOCUS_EMAIL and "
            "TOGGL_FOCUS_PASSWORD); the key may have been revoked or replaced. `focus-mcp doctor` checks them."
        )


class QuotaExceededError(APIError):
    def next_step(self) -> str:
        when = f"resets in {human_duration(self.quota_resets_in)}" if self.quota_resets_in is not None else ""
        return (
            f"The hourly API request quota is spent; it {when or 'resets within the hour'}. Do not retry before then."
        )


class PlanRestrictionError(APIError):
    def next_step(self) -> str:
        return "The organization's Toggl Focus plan does not include this; it needs an upgrade, not a retry."


class PermissionDeniedError(APIError):
    def next_step(self) -> str:
        org, ws = self._param("organization_id"), self._param("workspace_id")
        where = f"organization {org}" + (f" (workspace {ws})" if ws else "")
        return (
            f"The key's user lacks access to {where} for this action: check organization_id and "
            "workspace_id, or use a key of an admin."
        )


class NotFoundError(APIError):
    """A 404. What it is about (`missing`) tells the tools layer which of its tools to advise."""

    @property
    def missing(self) -> str:
        """'member' (of a group), 'group' or 'organization'."""
        if self.request.endpoint.endswith("/user_role") and self._param("organization_user_id") is not None:
            return "member"
        return "group" if self._param("group_id") is not None else "organization"

    def next_step(self) -> str:
        group, org = self._param("group_id"), self._param("organization_id")
        if self.missing == "member":
            member = self._param("organization_user_id")
            return (
                f"Organization user {member} is not a member of group {group} (or the group is not in that workspace)."
            )
        if self.missing == "group":
            return f"Group {group} was not found in organization {org}."
        return f"Check organization_id {org}."


class UnprocessableError(APIError):
    def next_step(self) -> str:
        return "The API refused the combination of arguments; change them as the message says."


class RateLimitedError(APIError):
    def next_step(self) -> str:
        wait = human_duration(self.retry_after) if self.retry_after is not None else "a minute"
        return f"The API is rate limiting; try again in {wait}."


class ServerError(APIError):
    def next_step(self) -> str:
        return "The Toggl Focus API failed on its side; try again in a minute."


class RedirectedError(APIError):
    """A 3xx: the base URL points somewhere that sends clients elsewhere (a login page, another host)."""

    def __init__(self, request: RequestInfo, status: int, location: str) -> None:
        self.location = location
        super().__init__(request, status, f"a redirect to {location or 'an unnamed place'}")

    def next_step(self) -> str:
        return "Nothing was done there. Check TOGGL_FOCUS_BASE_URL: the API lives at https://focus.toggl.com/api."


class InvalidResponseError(APIError):
    """A success status whose body is not what the spec promises (for a write: no readable answer)."""

    def next_step(self) -> str:
        return "The API's answer could not be read; check TOGGL_FOCUS_BASE_URL points at the Focus API."


class ResponseTooLargeError(InvalidResponseError):
    """A success answer longer (decoded) than TOGGL_FOCUS_MAX_RESPONSE_BYTES: refused, never buffered whole."""

    def __init__(self, request: RequestInfo, status: int, limit: int) -> None:
        self.limit = limit
        super().__init__(request, status, f"the answer is larger than {limit:,} bytes (decoded) and was refused")

    def _message(self) -> str:
        return f"{self.request}: {self.description}. {self.next_step()}"

    def next_step(self) -> str:
        return (
            "Ask for less (filters, a smaller per_page), or raise TOGGL_FOCUS_MAX_RESPONSE_BYTES if answers this "
            "big are expected; no real page of the Focus API comes near it, so check TOGGL_FOCUS_BASE_URL too."
        )


STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableError,
    429: RateLimitedError,
}


def error_from_response(
    request: RequestInfo,
    status: int,
    body: str,
    headers: Mapping[str, str],
    attempts: int = 1,
    after_uncertain_attempt: bool = False,
) -> APIError:
    """Build the exception for an error response: the table above, 402 split by the quota headers."""
    code, description, trace_id = _parse_error_body(body)
    resets_in = header_seconds(headers.get("x-toggl-quota-resets-in"))
    if status == 402:
        kind: type[APIError] = QuotaExceededError if quota_spent(headers, description) else PlanRestrictionError
    elif status >= 500:
        kind = ServerError
    else:
        kind = STATUS_ERRORS.get(status, APIError)
    details = ErrorDetails(
        code=code,
        trace_id=trace_id,
        retry_after=retry_after_seconds(headers.get("retry-after")),
        quota_resets_in=resets_in,
        attempts=attempts,
        after_uncertain_attempt=after_uncertain_attempt,
    )
    return kind(request, status, description, details)


def quota_spent(headers: Mapping[str, str], description: str = "") -> bool:
    """A 402 is the spent quota when the header says none is left or the API's words speak of the quota
    ("Hourly request quota exceeded"); otherwise it is the plan's restriction."""
    left = headers.get("x-toggl-quota-remaining", "").strip()
    return left == "0" or "quota" in description.casefold()


def _parse_error_body(body: str) -> tuple[str | None, str, str | None]:
    """(error code, description, trace id) from `{error, error_description, ...}` or a plain-text body.
    Credentials are redacted before the text is cut, so that no part of one survives at the cut."""
    text = body.strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = data.get("error")
        description = data.get("error_description") or data.get("message") or code or ""
        values = data.get("error_values")
        if isinstance(values, dict) and values:
            description = f"{description} ({json.dumps(values, ensure_ascii=False)})"
        trace = data.get("trace_id")
        return (
            redact(str(code)) if code else None,
            excerpt(redact(str(description))),
            redact(str(trace)) if trace else None,
        )
    return None, excerpt(redact(text)), None


def excerpt(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """One line of at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def header_seconds(value: str | None) -> float | None:
    """A header's number of seconds, within 0..MAX_HEADER_SECONDS; None when absent or not a number."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_HEADER_SECONDS)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (clamped as header_seconds does): either a number of seconds or an HTTP date."""
    seconds = header_seconds(value)
    if seconds is not None or value is None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - (now or datetime.now(UTC))).total_seconds()), MAX_HEADER_SECONDS)
