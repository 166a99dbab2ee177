"""Toggl's own Swagger 2.0 spec (tests/spec, vendored from the API's docs) as a validator of what
crosses the wire: every request the tools send, and every answer the sandbox gives.

openapi-core validates OpenAPI 3, so the spec is converted here (parameters and bodies into 3.0
form, definitions into components, `x-nullable` into `nullable`); nothing in it is changed.
`Conformance` wraps a transport and records every violation, for a test to assert there are none.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC = Path(__file__).parent / "spec" / "organization.swagger.json"


def _schema(node: Any) -> Any:
    """A Swagger 2.0 schema as OpenAPI 3.0: refs into components, x-nullable as nullable."""
    if isinstance(node, list):
        return [_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {}
    for key, value in node.items():
        if key == "$ref":
            converted[key] = value.replace("#/definitions/", "#/components/schemas/")
        elif key == "x-nullable":
            converted["nullable"] = value
        else:
            converted[key] = _schema(value)
    return converted


def _parameter(swagger: dict[str, Any]) -> dict[str, Any]:
    schema = {k: swagger[k] for k in ("type", "items", "enum", "minimum", "maximum", "default") if k in swagger}
    parameter = {"name": swagger["name"], "in": swagger["in"], "schema": _schema(schema)}
    parameter["required"] = swagger.get("required", swagger["in"] == "path")
    if swagger.get("type") == "array":  # collectionFormat csv: 1,2,3
        parameter |= {"style": "form", "explode": False}
    return parameter


def openapi3(swagger: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, operations in swagger["paths"].items():
        for method, operation in operations.items():
            converted: dict[str, Any] = {"responses": {}}
            parameters = []
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "body":
                    content = {"application/json": {"schema": _schema(parameter["schema"])}}
                    converted["requestBody"] = {"required": parameter.get("required", False), "content": content}
                else:
                    parameters.append(_parameter(parameter))
            converted["parameters"] = parameters
            for status, answer in operation.get("responses", {}).items():
                response: dict[str, Any] = {"description": answer.get("description", "")}
                if "schema" in answer:
                    response["content"] = {"application/json": {"schema": _schema(answer["schema"])}}
                converted["responses"][status] = response
            paths.setdefault(path, {})[method] = converted
    return {
        "openapi": "3.0.3",
        "info": swagger["info"],
        "servers": [{"url": swagger.get("basePath", "/")}],
        "paths": paths,
        "components": {"schemas": _schema(swagger.get("definitions", {}))},
    }


SPEC_3 = OpenAPI.from_dict(openapi3(json.loads(SPEC.read_text(encoding="utf-8"))))


@dataclass
class WireRequest:
    """An httpx2 request as openapi-core reads one."""

    request: httpx2.Request
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        query = ImmutableMultiDict(list(self.request.url.params.multi_items()))
        self.parameters = RequestParameters(query=query, header=Headers(list(self.request.headers.items())))

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "application/json").lower()


@dataclass
class WireResponse:
    response: httpx2.Response
    data: bytes

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.items()))

    @property
    def content_type(self) -> str:
        return self.response.headers.get("content-type", "application/json").lower()


def _explained(exc: Exception) -> str:
    """openapi-core's error with the schema errors under it: which field, and why."""
    cause = exc.__cause__
    errors = getattr(cause, "schema_errors", None) or getattr(exc, "schema_errors", None) or []
    where = "; ".join(f"{'.'.join(map(str, e.absolute_path)) or 'body'}: {e.message[:120]}" for e in errors[:5])
    return f"{type(exc).__name__}: {where or cause or exc}"


# Validation reads only the bytes of an exchange (method, URL, headers, body; the answer's status,
# headers, body), so identical bytes get identical problems: each distinct exchange is validated once
# per process, keyed by a digest of all it reads. Most tests send the same few requests to the same
# sandbox, and validating is a large part of the suite's time.
_VALIDATED: dict[bytes, list[str]] = {}


def _digest(request: httpx2.Request, response: httpx2.Response | None = None, data: bytes = b"") -> bytes:
    exchange = hashlib.sha256()
    for part in (request.method, str(request.url), repr(request.headers.multi_items()), request.content):
        exchange.update(part if isinstance(part, bytes) else part.encode())
        exchange.update(b"\0")
    if response is not None:
        exchange.update(f"{response.status_code}\0{response.headers.multi_items()!r}\0".encode() + data)
    return exchange.digest()


def request_problems(request: httpx2.Request) -> list[str]:
    key = _digest(request)
    if key not in _VALIDATED:
        _VALIDATED[key] = _request_problems(request)
    return list(_VALIDATED[key])


def response_problems(request: httpx2.Request, response: httpx2.Response, data: bytes) -> list[str]:
    key = _digest(request, response, data)
    if key not in _VALIDATED:
        _VALIDATED[key] = _response_problems(request, response, data)
    return list(_VALIDATED[key])


def _request_problems(request: httpx2.Request) -> list[str]:
    try:
        SPEC_3.validate_request(WireRequest(request))
    except Exception as exc:  # every openapi-core validation error, whatever its class
        return [f"{request.method} {request.url}: {_explained(exc)}"]
    return []


def _response_problems(request: httpx2.Request, response: httpx2.Response, data: bytes) -> list[str]:
    try:
        SPEC_3.validate_response(WireRequest(request), WireResponse(response, data))
    except Exception as exc:
        return [f"{request.method} {request.url.path} -> {response.status_code}: {_explained(exc)}"]
    return []


class Conformance(httpx2.AsyncBaseTransport):
    """Passes each exchange on, recording where the request or the answer breaks the spec."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, responses: bool = True) -> None:
        self.inner, self.check_responses = inner, responses
        self.problems: list[str] = []
        self.exchanges = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.problems += request_problems(request)
        response = await self.inner.handle_async_request(request)
        data = await response.aread()
        self.exchanges += 1
        if self.check_responses:
            self.problems += response_problems(request, response, data)
        return httpx2.Response(response.status_code, headers=response.headers, content=data)
