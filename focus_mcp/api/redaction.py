"""The credentials in use never leave the process in text: not in an error, a tool's answer or a log line.

An upstream may echo what it was sent (an error body quoting the Authorization header, a proxy's
debug page), and httpcore2 logs response headers at DEBUG. So every credential a client of this
process sends is registered here, in each form it travels in (the key, the password, the base64 of
`email:password`, and those as JSON, URL and bytes-repr escapes), and is replaced by REDACTED:
- in every error's text (errors.FocusError.__str__) and in upstream bodies before they are cut;
- in every log record of every logger, httpx2's and httpcore2's included: the process's log record
  factory redacts the message (and a traceback's text) when the record is made, so no handler,
  filter or formatter, however configured, ever sees a credential.
Secrets shorter than MIN_SECRET_CHARS are redacted as whole words only, so that a short password
does not blank every word it happens to appear in.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"
MIN_SECRET_CHARS = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None
_installed = False


def forms(secret: str) -> set[str]:
    """The ways a secret appears in text: as is, JSON-escaped, URL-encoded, inside a bytes repr."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), repr(secret.encode())[2:-1]} - {""}


def basic_credentials(email: str, password: str) -> str:
    """What HTTP basic auth sends: base64 of `email:password`."""
    return base64.b64encode(f"{email}:{password}".encode()).decode()


def register(secrets: Iterable[str]) -> None:
    """Redact these from now on, everywhere in the process; and make sure log records are redacted."""
    global _pattern
    new = {form for secret in secrets if secret for form in forms(secret)}
    with _lock:
        if not new <= _secrets:
            _secrets.update(new)
            ordered = sorted(_secrets, key=len, reverse=True)  # a longer form first: it may contain a shorter
            _pattern = re.compile(
                "|".join(
                    re.escape(s) if len(s) >= MIN_SECRET_CHARS else rf"(?<!\w){re.escape(s)}(?!\w)" for s in ordered
                )
            )
    _install_log_redaction()


def redact(text: str) -> str:
    pattern = _pattern
    return text if pattern is None or not text else pattern.sub(REDACTED, text)


def _install_log_redaction() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _pattern is None:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when the record is emitted
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    logging.setLogRecordFactory(redacted_record)
