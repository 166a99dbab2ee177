"""Settings: TOGGL_FOCUS_* variables through pydantic-settings, flags on top, plain sentences for errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from focus_mcp.config import ConfigurationError, Settings
from focus_mcp.sandbox.state import default_state_file


def refusal(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as caught:
        Settings.load(environ)
    return str(caught.value)


def test_every_setting_has_a_variable_and_a_default() -> None:
    settings = Settings.load({})
    assert settings.journal is None and settings.journal_days == 90 and settings.request_state_key is None
    assert settings.max_response_bytes >= 1024 * 1024 and settings.sandbox_state is None
    assert settings.allowed_origins == [] and settings.allowed_hosts == []


def test_variables_are_parsed_by_type() -> None:
    settings = Settings.load(
        {
            "TOGGL_FOCUS_READ_ONLY": "yes",
            "TOGGL_FOCUS_ALLOWED_HOSTS": " mcp.example.com, other.example ,",
            "TOGGL_FOCUS_ALLOWED_ORIGINS": "https://app.example.com",
            "TOGGL_FOCUS_API_KEY": " toggl_sk_pasted \n",
            "TOGGL_FOCUS_EMAIL": "  ",  # blank: unset
            "TOGGL_FOCUS_LOG_LEVEL": "debug",
            "TOGGL_FOCUS_JOURNAL": "OFF",
            "TOGGL_FOCUS_JOURNAL_DAYS": "7",
            "TOGGL_FOCUS_MAX_RESPONSE_BYTES": "2048",
            "TOGGL_FOCUS_SANDBOX_STATE": "/tmp/focus-state.json",
            "TOGGL_FOCUS_REQUEST_STATE_KEY": "k" * 32,
            "UNRELATED": "x",
        }
    )
    assert settings.read_only is True and settings.allowed_hosts == ["mcp.example.com", "other.example"]
    assert settings.allowed_origins == ["https://app.example.com"] and settings.email is None
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "toggl_sk_pasted"
    assert settings.log_level == "DEBUG" and settings.journal == "off" and settings.journal_days == 7
    assert settings.max_response_bytes == 2048 and settings.sandbox_state == Path("/tmp/focus-state.json")
    assert "k" * 32 not in repr(settings) and default_state_file(settings.sandbox_state) == settings.sandbox_state


def test_flags_override_the_environment_and_none_is_no_flag() -> None:
    environ = {"TOGGL_FOCUS_ORGANIZATION_ID": "5", "TOGGL_FOCUS_WORKSPACE_ID": "6"}
    settings = Settings.load(environ, organization_id=7, workspace_id=None)
    assert (settings.organization_id, settings.workspace_id) == (7, 6)


def test_the_given_environment_is_the_only_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGGL_FOCUS_ORGANIZATION_ID", "99")
    assert Settings.load({}).organization_id is None and Settings.load().organization_id == 99


@pytest.mark.parametrize("given", ["acme", "12a", "1.5", "0", "-3"])
def test_a_malformed_id_is_said_to_be_a_number(given: str) -> None:
    said = refusal({"TOGGL_FOCUS_ORGANIZATION_ID": given})
    assert "TOGGL_FOCUS_ORGANIZATION_ID must be a number" in said
    assert "Input should" not in said and "pydantic" not in said and "int_parsing" not in said


def test_each_problem_names_its_variable_in_a_sentence() -> None:
    said = refusal(
        {
            "TOGGL_FOCUS_READ_ONLY": "maybe",
            "TOGGL_FOCUS_TIMEOUT": "soon",
            "TOGGL_FOCUS_LOG_LEVEL": "loud",
            "TOGGL_FOCUS_JOURNAL_DAYS": "0",
            "TOGGL_FOCUS_REQUEST_STATE_KEY": "short-secret",
        }
    )
    assert "TOGGL_FOCUS_READ_ONLY must be true or false" in said and "TOGGL_FOCUS_TIMEOUT must be a number" in said
    assert "TOGGL_FOCUS_LOG_LEVEL must be one of" in said and "TOGGL_FOCUS_JOURNAL_DAYS must be at least 1" in said
    assert "TOGGL_FOCUS_REQUEST_STATE_KEY must be at least 32 characters" in said
    assert "short-secret" not in said and "Input should" not in said


def test_settings_are_frozen() -> None:
    settings = Settings.load({})
    with pytest.raises(ValueError):
        settings.read_only = True


@pytest.mark.parametrize(
    "pasted", ["toggl_sk_...", " toggl_sk_... ", "toggl_sk_… ", "toggl_sk_... (your API key, from your Toggl profile)"]
)
def test_the_docs_placeholder_is_no_key(pasted: str) -> None:
    settings = Settings.load({"TOGGL_FOCUS_API_KEY": pasted, "TOGGL_FOCUS_EMAIL": "ana@x.example"})
    assert settings.placeholder_key and not settings.has_credentials and settings.auth_method == "none"
    problem = settings.credentials_problem or ""
    assert "the placeholder from the docs, not a key" in problem and "Toggl profile page" in problem


@pytest.mark.parametrize("key", ["toggl_sk_3f9a1c", "0123456789abcdef0123456789abcdef", "my...key"])
def test_a_real_looking_key_is_a_key(key: str) -> None:
    settings = Settings.load({"TOGGL_FOCUS_API_KEY": key})
    assert settings.has_credentials and not settings.placeholder_key and settings.credentials_problem is None


@pytest.mark.parametrize("pasted", ["your organization id", " Your organization ID ", "<organization id>", "..."])
def test_a_placeholder_id_is_unset_and_says_what_to_put_there(pasted: str) -> None:
    settings = Settings.load({"TOGGL_FOCUS_ORGANIZATION_ID": pasted, "TOGGL_FOCUS_WORKSPACE_ID": "654321"})
    assert settings.organization_id is None and settings.placeholder_ids == ["organization_id"]
    said = settings.placeholder_id_problem("organization_id") or ""
    assert "TOGGL_FOCUS_ORGANIZATION_ID still holds a placeholder" in said and "me/organizations" in said
    assert settings.placeholder_id_problem("workspace_id") is None and settings.workspace_id == 654321
    assert settings.unfilled == said  # the key is not a placeholder: only the id is unfilled
    filled = settings.model_copy(update={"organization_id": 5})
    assert filled.placeholder_ids == [] and filled.unfilled is None


def test_the_sandbox_ignores_what_it_replaces() -> None:
    environ = {"TOGGL_FOCUS_ORGANIZATION_ID": "abc", "TOGGL_FOCUS_BASE_URL": "ftp://x", "TOGGL_FOCUS_SANDBOX": " 1 "}
    settings = Settings.load(environ)
    assert settings.sandbox and settings.organization_id is None and settings.placeholder_ids == []
    assert Settings.load(environ, organization_id=7).organization_id is None  # a flag too: the sandbox has its own
    assert "must be a number" in refusal({**environ, "TOGGL_FOCUS_SANDBOX": "0"})
