"""Settings from the environment (TOGGL_FOCUS_*) and command-line overrides, by pydantic-settings.

Secrets are kept as `SecretStr` so that no repr, log line or error can print them. A validation
error becomes one plain sentence per variable, naming it: that sentence is what the user reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PositiveInt,
    PrivateAttr,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticUseDefault
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from focus_mcp.api.errors import FocusError
from focus_mcp.api.urls import clear_text_problem

DEFAULT_BASE_URL = "https://focus.toggl.com/api"
ENV_PREFIX = "TOGGL_FOCUS_"
MIB = 1024 * 1024
UNFILLED_MCPB_SETTING = re.compile(r"\$\{user_config\.\w+\}")
# The key as the docs (README, `focus-mcp desktop-config`) show it: `toggl_sk_...`, maybe with
# a note after it. Pasted unchanged it is no key, and the API's 401 would not say so.
KEY_PLACEHOLDER = re.compile(r"toggl_sk_(\.\.\.|\N{HORIZONTAL ELLIPSIS})")
PLACEHOLDER_KEY = (
    "TOGGL_FOCUS_API_KEY is toggl_sk_..., the placeholder from the docs, not a key: copy your own API key "
    "from your Toggl profile page and set TOGGL_FOCUS_API_KEY to it"
)

# An id as `focus-mcp desktop-config` prints it unfilled ("your organization id"), or as docs write one
# ("<organization id>", "..."): text left where the id goes. Like the placeholder key, it does not stop
# the start (a host would show only "server failed to start"): the server runs and each call that
# needs the id says what to put there and where to find it. Any other non-number still stops the start.
ID_PLACEHOLDER = re.compile(r"your\b.*|<[^<>]*>|\.\.\.|\N{HORIZONTAL ELLIPSIS}", re.IGNORECASE | re.DOTALL)
ID_FIELDS = ("organization_id", "workspace_id")
# What the sandbox replaces with its own (cli.load_settings): set for the real API, so `load` does not
# read it for a sandbox; never a reason to refuse its start (TOGGL_FOCUS_ORGANIZATION_ID=abc and --sandbox).
SANDBOX_IGNORES = ("api_key", "email", "password", "base_url", *ID_FIELDS)

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
CommaList = Annotated[list[str], NoDecode]  # `a.example, b.example` in the environment, a list in code

# The environment `Settings.load` reads instead of os.environ, while it reads (tests pass their own).
_environ: ContextVar[Mapping[str, str] | None] = ContextVar("focus_mcp_environ", default=None)


class ConfigurationError(FocusError):
    """The environment or the flags hold a value that cannot be used."""


class _MappingEnvSource(EnvSettingsSource):
    """TOGGL_FOCUS_* variables from a given mapping rather than from os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env_vars = {key.lower(): value for key, value in environ.items()}


class Settings(BaseSettings):
    """Everything the server needs to know, whatever its source: the keyword arguments, then
    the TOGGL_FOCUS_* environment variables, then the defaults."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", env_ignore_empty=True, hide_input_in_errors=True
    )

    api_key: SecretStr | None = None
    email: str | None = None
    password: SecretStr | None = None
    base_url: str = DEFAULT_BASE_URL
    organization_id: PositiveInt | None = None
    workspace_id: PositiveInt | None = None
    read_only: bool = False
    http_token: SecretStr | None = None
    redis_url: SecretStr | None = None  # shared cache, quota view and edit locks for replicas; may hold a password
    # HTTP serving: the deployment's own Host names and the browser Origins to accept, comma-separated.
    allowed_hosts: CommaList = Field(default_factory=list)
    allowed_origins: CommaList = Field(default_factory=list)
    timeout: float = Field(default=6.0, gt=0, le=300)  # seconds per upstream request
    deadline: float = Field(default=10.0, gt=0, le=600)  # seconds per upstream read, retries included
    # Seconds to wait for the answer to a write. A write that may have reached the API is never sent
    # again (a late copy could undo a later edit), so its own answer is worth waiting for.
    write_timeout: float = Field(default=30.0, gt=0, le=600)
    # Seconds an edit whose outcome is unknown keeps the group's turn before its second, last check.
    write_settle: float = Field(default=5.0, ge=0, le=120)
    # Seconds a read (the organization snapshot included) is served before a new read; 0 reads every time.
    # 600: docs/architecture.md, "Organization snapshot", says why.
    cache_ttl: float = Field(default=600.0, ge=0, le=86_400)
    log_level: LogLevel = "WARNING"
    max_response_chars: int = Field(default=40_000, ge=2_000)  # what one tool answer may show the model
    # The largest upstream answer read, decoded; a real page is a few hundred KiB at most.
    max_response_bytes: int = Field(default=16 * MIB, ge=1024)
    sandbox: bool = False
    sandbox_state: Path | None = None  # `--sandbox call`'s state file; default in the user's state directory
    journal: str | None = None  # the change journal's SQLite path, or "off"; default in the user's state directory
    journal_days: int = Field(default=90, ge=1)  # how long journal entries are kept
    request_state_key: SecretStr | None = None  # replicas' shared secret for request state
    # The id settings that held a placeholder (ID_PLACEHOLDER) and so are unset; not a variable of its own.
    _placeholder_ids: tuple[str, ...] = PrivateAttr(default=())

    # Extra advice after the sentence for a variable, e.g. where to find an id (keyed by field name).
    # The Focus API documentation does not say where the app shows the ids, and no Focus endpoint
    # lists organizations; Toggl's Track API documents one that does (GET me/organizations).
    ADVICE: ClassVar[dict[str, str]] = {
        "organization_id": (
            "It is your Toggl organization's number: Toggl's Track API lists your organizations with their ids "
            "(`curl -u YOUR_EMAIL https://api.track.toggl.com/api/v9/me/organizations` asks for your password), "
            "or your organization's admin can tell you; leave it unset to name the organization in each call"
        ),
        "workspace_id": (
            "With the organization id set, `focus-mcp call list_workspaces` lists your workspaces with their ids; "
            "leave it unset to name the workspace in each call"
        ),
    }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _environ.get()
        return (init_settings, env_settings if environ is None else _MappingEnvSource(settings_cls, environ))

    @model_validator(mode="wrap")
    @classmethod
    def _placeholder_ids_unset(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        """Placeholder ids count as unset, and are remembered so that calls can say so."""
        placeholders: tuple[str, ...] = ()
        if isinstance(data, dict):
            placeholders = tuple(
                name
                for name in ID_FIELDS
                if isinstance(data.get(name), str) and ID_PLACEHOLDER.fullmatch(data[name].strip())
            )
            data = {key: value for key, value in data.items() if key not in placeholders}
        settings = handler(data)
        settings._placeholder_ids = placeholders
        return settings

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """Surrounding spaces (a pasted key) are dropped; a blank value means the default, and so does
        `${user_config.KEY}`: what an MCPB host (Claude Desktop) passes for an optional setting left empty."""
        if isinstance(value, str):
            value = value.strip()
            if not value or UNFILLED_MCPB_SETTING.fullmatch(value):
                raise PydanticUseDefault()
        return value

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("journal")
    @classmethod
    def _journal_off(cls, value: str | None) -> str | None:
        return "off" if value is not None and value.lower() == "off" else value

    @field_validator("request_state_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Several keys, comma-separated, during a rotation (docs/deploy.md): each must be long enough.
        keys = value.get_secret_value().split(",") if value is not None else []
        if value is not None and (not keys or any(len(key.strip()) < 32 for key in keys)):
            raise ValueError(
                "must be at least 32 characters long (e.g. `openssl rand -hex 32`); during a rotation, each of "
                "its comma-separated keys"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if "@" in (parts.netloc or value.split("/", 1)[0]):  # never echoed: it may hold a password
            raise ValueError(
                "the URL carries a user name or password; remove it and set TOGGL_FOCUS_EMAIL and "
                "TOGGL_FOCUS_PASSWORD (or TOGGL_FOCUS_API_KEY) instead"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{value!r} is not an http(s) URL; give it whole, with its scheme: https://focus.toggl.com/api"
            )
        if (problem := clear_text_problem(value)) is not None:
            raise ValueError(f"{value!r} {problem}")
        return value

    @property
    def placeholder_key(self) -> bool:
        """TOGGL_FOCUS_API_KEY still holds the docs' placeholder: no credential, even beside an email."""
        return self.api_key is not None and KEY_PLACEHOLDER.match(self.api_key.get_secret_value()) is not None

    @property
    def has_credentials(self) -> bool:
        if self.placeholder_key:
            return False
        return self.api_key is not None or (self.email is not None and self.password is not None)

    @property
    def credentials_problem(self) -> str | None:
        """Why the credentials that are set cannot be used (the docs' placeholder as the key, half of email
        and password), as the sentence the user reads; None when they can, or when none are set."""
        return PLACEHOLDER_KEY if self.placeholder_key else self.half_credentials

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
    def placeholder_ids(self) -> list[str]:
        """The id settings still holding a placeholder (and so unset), by field name."""
        return [name for name in self._placeholder_ids if getattr(self, name) is None]

    def placeholder_id_problem(self, name: str) -> str | None:
        """What to put in the id setting `name` when it holds a placeholder, and where to find it; None when
        it does not."""
        if name not in self.placeholder_ids:
            return None
        variable = ENV_PREFIX + name.upper()
        return (
            f"{variable} still holds a placeholder, not an id: put the id itself there (digits only, like 123456; "
            f'for Claude Desktop, in the "env" of its entry) and restart the server. {self.ADVICE[name]}'
        )

    @property
    def unfilled(self) -> str | None:
        """Every placeholder left in the configuration (the key, the ids), as the sentences a call answers;
        None when there is none."""
        problems = [PLACEHOLDER_KEY] if self.placeholder_key else []
        problems += [problem for name in ID_FIELDS if (problem := self.placeholder_id_problem(name))]
        return ". ".join(problems) if problems else None

    @property
    def auth_method(self) -> str:
        if self.api_key is not None and not self.placeholder_key:
            return "API key (TOGGL_FOCUS_API_KEY)"
        if self.email is not None and self.password is not None:
            return "email and password (TOGGL_FOCUS_EMAIL, TOGGL_FOCUS_PASSWORD)"
        return "none"

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The TOGGL_FOCUS_* variables of `environ` (default: os.environ), under the non-None
        `overrides` (the CLI flags).

        Raises ConfigurationError naming the variable when a value is unusable.
        """
        flags = {name: value for name, value in overrides.items() if value is not None}
        environ = os.environ if environ is None else environ
        if _is_true(flags.get("sandbox", environ.get(ENV_PREFIX + "SANDBOX"))):
            # The sandbox serves its own organization: what it replaces is never a reason to refuse its start.
            ignored = {ENV_PREFIX + name.upper() for name in SANDBOX_IGNORES}
            environ = {key: value for key, value in environ.items() if key.upper() not in ignored}
            flags = {name: value for name, value in flags.items() if name not in SANDBOX_IGNORES}
        try:
            with _reading(environ):
                return cls(**flags)
        except ValidationError as exc:
            problems = "; ".join(_sentence(error) for error in exc.errors(include_input=False, include_url=False))
            raise ConfigurationError(f"invalid configuration: {problems}") from None


def _is_true(value: Any) -> bool:
    """A setting's value as the boolean it is read as (False when it is none)."""
    try:
        return value is not None and TypeAdapter(bool).validate_python(
            value.strip() if isinstance(value, str) else value
        )
    except ValidationError:
        return False


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _environ.set(environ)
    try:
        yield
    finally:
        _environ.reset(token)


def _sentence(error: ErrorDetails) -> str:
    """One validation error as the plain sentence the user reads, naming the variable."""
    field = str(error["loc"][0]) if error["loc"] else ""
    variable = ENV_PREFIX + field.upper()
    kind, context = error["type"], error.get("ctx", {})
    if field in ("organization_id", "workspace_id"):
        said = f"{variable} must be a number (the id, digits only, like 123456)"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        said = f"{variable} must be a whole number"
    elif kind in ("float_parsing", "float_type"):
        said = f"{variable} must be a number"
    elif kind == "bool_parsing":
        said = f"{variable} must be true or false (1 or 0)"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": "more than", "greater_than_equal": "at least", "less_than": "less than"}
        limit = next(iter(context.values()), "")
        said = f"{variable} must be {bound.get(kind, 'at most')} {limit}"
    elif kind == "literal_error":
        said = f"{variable} must be one of {context.get('expected', '')}"
    elif kind == "extra_forbidden":
        said = f"{field} is not a setting"
    else:
        message = error["msg"].removeprefix("Value error, ")
        said = f"{variable} {message}" if message.startswith("must ") else f"{variable}: {message}"
    advice = Settings.ADVICE.get(field)
    return f"{said}. {advice}" if advice else said
