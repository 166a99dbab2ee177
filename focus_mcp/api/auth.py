"""Who the client is: the Authorization header (a bearer key, or HTTP basic), and what tells users apart."""

from __future__ import annotations

from collections.abc import Generator
from urllib.parse import urlsplit

import httpx2
from pydantic import SecretStr

from focus_mcp.api.redaction import basic_credentials
from focus_mcp.config import Settings


class BearerAuth(httpx2.Auth):
    """`Authorization: Bearer <key>`, the key read from a SecretStr only when a request is sent."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(key=**********)"


def auth_for(settings: Settings) -> httpx2.Auth | None:
    if not settings.has_credentials:  # the docs' placeholder is never sent
        return None
    if settings.api_key is not None:
        return BearerAuth(settings.api_key)
    if settings.email is not None and settings.password is not None:
        return httpx2.BasicAuth(settings.email, settings.password.get_secret_value())
    return None


def credential(settings: Settings) -> str:
    """What tells one user from another, for the shared state's identity (hashed there, never stored)."""
    if settings.api_key is not None:
        return settings.api_key.get_secret_value()
    password = settings.password.get_secret_value() if settings.password is not None else ""
    return f"{settings.email}:{password}"


def credentials_in_use(settings: Settings) -> list[str]:
    """Every secret the settings hold, in the forms they are sent: for redaction, never for display.
    The sandbox's key is public (and a plain word), and so is the docs' placeholder: no secrets."""
    api_key = None if settings.sandbox or settings.placeholder_key else settings.api_key
    secrets = [s.get_secret_value() for s in (api_key, settings.password, settings.http_token) if s]
    if settings.email is not None and settings.password is not None:
        secrets.append(basic_credentials(settings.email, settings.password.get_secret_value()))
    if settings.redis_url is not None and (password := urlsplit(settings.redis_url.get_secret_value()).password):
        secrets.append(password)
    return secrets
