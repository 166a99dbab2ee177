"""Reading the API's answers into the wire models: one error, InvalidResponseError, for any mismatch."""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from pydantic import TypeAdapter, ValidationError

from focus_mcp.api.errors import InvalidResponseError, RequestInfo, excerpt
from focus_mcp.api.redaction import redact

log = logging.getLogger(__name__)


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def parse(kind: Any, raw: bytes, method: str, endpoint: str) -> Any:
    """Validate the JSON body straight from bytes into `kind`; any mismatch is an InvalidResponseError.

    The spec marks most fields required, but an API may still send null ("emoji": null). Only then,
    the body is read again with nulls treated as absent, so that defaults apply: tolerance costs
    nothing while the API keeps to its spec.
    """
    adapter = _adapter(kind)
    try:
        return adapter.validate_json(raw)
    except ValidationError as exc:
        error = exc
    if any(e["type"] != "json_invalid" and e.get("input", ...) is None for e in error.errors()):
        try:
            return adapter.validate_python(_without_nulls(json.loads(raw)))
        except ValidationError as again:
            error = again
    first = error.errors(include_input=False)[0]
    request = RequestInfo(method, endpoint)
    if first["type"] == "json_invalid":
        text = redact(raw[:4096].decode("utf-8", "replace"))
        raise InvalidResponseError(request, 200, f"the body is not JSON: {excerpt(text, 120)!r}") from None
    where = ".".join(str(p) for p in first["loc"]) or "body"
    raise InvalidResponseError(
        request, 200, f"the answer does not have the documented shape ({where}: {first['msg']})"
    ) from None


def _without_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        return {key: _without_nulls(value) for key, value in data.items() if value is not None}
    if isinstance(data, list):
        return [_without_nulls(item) for item in data]
    return data


def parse_object(raw: bytes, method: str, endpoint: str) -> dict[str, Any]:
    data = parse(Any, raw, method, endpoint)
    return data if isinstance(data, dict) else {"result": data}


def written_answer(raw: bytes, method: str, endpoint: str) -> dict[str, Any]:
    """The answer to a write whose body nobody needs: a 2xx says it was written, whatever the body."""
    try:
        return parse_object(raw, method, endpoint)
    except InvalidResponseError:
        log.info("%s %s: written (2xx), with a body that is not the documented JSON", method, endpoint)
        return {}


def confirms_success(answer: dict[str, Any]) -> bool:
    """The documented answer of DELETE and PUT user_role: an object of booleans, none false."""
    return bool(answer) and all(value is not False for value in answer.values())
