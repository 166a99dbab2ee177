"""URLs: what goes into a path (validated ids only), and how a URL is shown (never with credentials)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Names that can never be reached over a network (RFC 6761): the embedded sandbox's base URL uses one.
NEVER_RESOLVED_SUFFIX = ".invalid"


def display_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def path_id(value: int) -> int:
    """Every value that reaches a URL path passes here: a positive int or nothing."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"an id must be a positive integer, not {value!r}")
    return value


def redirect_host(location: str) -> str:
    """Where a redirect points, as scheme and host only (a query could carry anything)."""
    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.hostname}" if parts.scheme and parts.hostname else "a path on the same host"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, localhost (and names under .localhost): traffic that never leaves the machine."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def clear_text_problem(url: str) -> str | None:
    """Why credentials must not be sent to `url` without TLS, or None (https, loopback, a .invalid name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or is_loopback(host) or host.endswith(NEVER_RESOLVED_SUFFIX):
        return None
    return (
        f"is plain http to {host}, so the API key (or password) would travel in clear; use https "
        "(the Toggl Focus API is https://focus.toggl.com/api). Plain http is accepted for loopback only "
        "(127.0.0.1, ::1, localhost), e.g. a local stand-in or a TLS-terminating proxy on this machine"
    )
