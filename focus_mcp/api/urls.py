"""URLs: what goes into a path (validated ids only), and how a URL is shown (never with credentials)."""

from __future__ import annotations

from urllib.parse import urlsplit


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
