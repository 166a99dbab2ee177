"""The change journal: every write made through this server, before it is sent and once settled.

`open_journal(settings)` picks the store: TOGGL_FOCUS_JOURNAL=off keeps it in memory (the unsettled
writes are still remembered in this process); TOGGL_FOCUS_REDIS_URL shares it between replicas;
otherwise SQLite in the user's state directory or at the configured path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from focus_mcp.api.auth import credential
from focus_mcp.config import Settings
from focus_mcp.journal.memory import MemoryJournal
from focus_mcp.journal.model import (
    UNSETTLED,
    Change,
    Changes,
    Journal,
    JournalError,
    JournalUnavailable,
    Outcome,
    Step,
    new_change_id,
    now,
)
from focus_mcp.journal.sqlite import SqliteJournal

if TYPE_CHECKING:  # redis costs ~50 ms of every start: imported when a replica's journal is opened
    from focus_mcp.journal.redis_store import RedisJournal

__all__ = [
    "UNSETTLED",
    "Change",
    "Changes",
    "Journal",
    "JournalError",
    "JournalUnavailable",
    "MemoryJournal",
    "Outcome",
    "RedisJournal",
    "SqliteJournal",
    "Step",
    "fingerprint",
    "journal_path",
    "new_change_id",
    "now",
    "open_journal",
]

FINGERPRINT_DIGITS = 8  # 32 bits: tells a team's few keys apart, reveals nothing of a key


def fingerprint(settings: Settings) -> str:
    """Who made a change: a few hex digits of a hash of the credential in use, never the credential."""
    if not settings.has_credentials:
        return "none"
    digest = hashlib.sha256(f"focus-mcp journal\n{credential(settings)}".encode()).hexdigest()
    return digest[:FINGERPRINT_DIGITS]


def open_journal(settings: Settings) -> Journal:
    """The journal `settings` ask for. Opening does no I/O; the first use connects.

    `off` wins over Redis: no trail anywhere, the unsettled writes remembered in this process."""
    if settings.journal == "off":
        return MemoryJournal(settings.journal_days)
    if settings.redis_url is not None:
        from focus_mcp.journal.redis_store import RedisJournal

        scope = settings.base_url + (" sandbox" if settings.sandbox else "")
        return RedisJournal(settings.redis_url.get_secret_value(), scope, settings.journal_days)
    path = journal_path(settings)
    assert path is not None
    return SqliteJournal(path, settings.journal_days)


def journal_path(settings: Settings) -> Path | None:
    """The SQLite file: TOGGL_FOCUS_JOURNAL, else `journal.sqlite` in the user's state directory; the
    sandbox's is its own file beside it (`journal-sandbox.sqlite`). None when the journal is off or
    in Redis."""
    if settings.journal == "off" or settings.redis_url is not None:
        return None
    if settings.journal:
        path = Path(settings.journal).expanduser()
    else:
        path = platformdirs.user_state_path("focus-mcp", appauthor=False) / "journal.sqlite"
    if settings.sandbox:  # sandbox changes never mix with a real organization's
        path = path.with_name(f"{path.stem}-sandbox{path.suffix}")
    return path


def __getattr__(name: str) -> Any:
    """`from focus_mcp.journal import RedisJournal` still works: loaded when asked for."""
    if name == "RedisJournal":
        from focus_mcp.journal.redis_store import RedisJournal

        return RedisJournal
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
