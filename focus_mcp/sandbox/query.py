"""Reading requests the way the Toggl Focus API does: comma-separated arrays, strict booleans, 400s."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from starlette.datastructures import QueryParams
from starlette.requests import Request

from focus_mcp.api.errors import FocusError

DEFAULT_PER_PAGE = 50

T = TypeVar("T")


class ApiProblem(FocusError):
    """An error answer: `{error, error_description, error_values?}` with a status."""

    def __init__(self, status: int, code: str, description: str, values: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.code, self.description, self.values = status, code, description, values

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "error_description": self.description}
        if self.values:
            body["error_values"] = self.values
        return body


def bad(description: str) -> ApiProblem:
    return ApiProblem(400, "invalid_request", description)


class Query:
    """Typed access to query parameters; anything malformed is a 400 naming the parameter."""

    def __init__(self, params: QueryParams) -> None:
        self.params = params

    def known(self, names: str) -> None:
        allowed = set(names.split())
        for key in self.params:
            if len(self.params.getlist(key)) > 1:
                raise bad(f"{key} was given more than once; arrays are comma-separated")
            if key not in allowed:
                raise bad(f"unknown query parameter {key!r}")

    def has(self, name: str) -> bool:
        return name in self.params

    def text(self, name: str) -> str | None:
        return self.params.get(name)

    def integer(self, name: str) -> int | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        if not raw.isdigit():
            raise bad(f"{name} must be a positive integer")
        return int(raw)

    def integers(self, name: str) -> list[int] | None:
        items = self.strings(name)
        if items is None:
            return None
        if not all(i.strip().isdigit() for i in items):
            raise bad(f"{name} must be comma-separated integers")
        return [int(i) for i in items]

    def strings(self, name: str) -> list[str] | None:
        raw = self.params.get(name)
        return None if raw is None else [i for i in raw.split(",") if i != ""]

    def boolean(self, name: str) -> bool | None:
        raw = self.params.get(name)
        if raw is None:
            return None
        if raw not in ("true", "false"):
            raise bad(f"{name} must be true or false")
        return raw == "true"

    def sort_desc(self) -> bool:
        direction = self.params.get("sort_dir", "asc")
        if direction not in ("asc", "desc"):
            raise bad("sort_dir must be asc or desc")
        return direction == "desc"


def paginate(items: list[T], q: Query) -> tuple[int, int, list[T]]:
    """(page, per_page, rows), serving per_page as asked: neither source documents a maximum."""
    page = q.integer("page") or 1
    per_page = q.integer("per_page") or DEFAULT_PER_PAGE
    if page < 1 or per_page < 1:
        raise bad("page and per_page must be at least 1")
    start = (page - 1) * per_page
    return page, per_page, items[start : start + per_page]


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise bad("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad("the body must be a JSON object")
    return body
