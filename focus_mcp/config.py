"""Settings from the environment (TOGGL_FOCUS_*) and command-line overrides.

Secrets are kept as `SecretStr` so that no repr, log line or error can print them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, SecretStr, ValidationError, field_validator

from focus_mcp.api.errors import FocusError

DEFAULT_BASE_URL = "https://focus.toggl.com/api"
ENV_PREFIX = "TOGGL_FOCUS_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ConfigurationError(FocusError):
    """The environment or the flags hold a value that cannot be used."""


class Settings(BaseModel):
    """Everything the server needs to know, whatever its source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    email: str | None = None
    password: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    organization_id: PositiveInt | None = None
    workspace_id: PositiveInt | None = None
    read_only: bool = False
    http_token: SecretStr | None = None
    redis_url: SecretStr | None = None  # shared cache, quota view and edit locks for replicas; may hold a password
    allowed_hosts: list[str] = Field(default_factory=list)  # TOGGL_FOCUS_ALLOWED_HOSTS, comma-separated
    timeout: float = Field(default=6.0, gt=0, le=300)  # seconds per upstream request
    deadline: float = Field(default=10.0, gt=0, le=600)  # seconds per upstream read, retries included
    # Seconds to wait for the answer to a write. A write that may have reached the API is never sent
    # again (a late copy could undo a later edit), so its own answer is worth waiting for.
    write_timeout: float = Field(default=30.0, gt=0, le=600)
    # Seconds an edit whose outcome is unknown keeps the group's turn before its second, last check.
    write_settle: float = Field(default=5.0, ge=0, le=120)
    cache_ttl: float = Field(default=60.0, ge=0, le=86_400)  # seconds for teams/users; 0 disables the cache
    log_level: LogLevel = "WARNING"
    max_response_chars: int = Field(default=40_000, ge=2_000)
    sandbox: bool = False

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if "@" in (parts.netloc or value.split("/", 1)[0]):  # never echoed: it may hold a password
            raise ValueError(
                "the URL carries a user name or password; remove it and set TOGGL_FOCUS_EMAIL and "
                "TOGGL_FOCUS_PASSWORD (or TOGGL_FOCUS_API_KEY) instead"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not an http(s) URL; give it whole, with its scheme: https://focus.toggl.com/api"
            )
        return value.strip()

    @property
    def has_credentials(self) -> bool:
        return self.api_key is not None or (self.email is not None and self.password is not None)

    @property
    def half_credentials(self) -> str | None:
        """Which half of email and password is missing, when only the other is set (and no key)."""
        if self.api_key is not None or (self.email is None) == (self.password is None):
            return None
        given, missing = (
            ("TOGGL_FOCUS_EMAIL", "TOGGL_FOCUS_PASSWORD")
            if self.password is None
            else ("TOGGL_FOCUS_PASSWORD", "TOGGL_FOCUS_EMAIL")
        )
        return f"{given} is set but {missing} is not: set both, or TOGGL_FOCUS_API_KEY instead"

    @property
    def auth_method(self) -> str:
        if self.api_key is not None:
            return "API key (TOGGL_FOCUS_API_KEY)"
        if self.email is not None and self.password is not None:
            return "email and password (TOGGL_FOCUS_EMAIL, TOGGL_FOCUS_PASSWORD)"
        return "none"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read TOGGL_FOCUS_* variables, then apply non-None overrides (the CLI flags).

        Raises ConfigurationError naming the variable when a value is unusable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in cls.model_fields:
            raw = env.get(ENV_PREFIX + field.upper())
            if raw is None or raw.strip() == "":
                continue
            if field in ("read_only", "sandbox"):
                values[field] = _parse_bool(raw)
            elif field == "allowed_hosts":
                values[field] = [h.strip() for h in raw.split(",") if h.strip()]
            else:
                values[field] = raw.strip()
        if isinstance(values.get("log_level"), str):
            values["log_level"] = values["log_level"].upper()
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: "
                + err["msg"].removeprefix("Value error, ")
                for err in exc.errors(include_input=False)
            )
            raise ConfigurationError(f"invalid configuration: {problems}") from None


def _parse_bool(raw: str) -> bool | str:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    return raw  # let validation name the variable
