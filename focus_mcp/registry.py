"""How a tool is assembled: a pydantic argument model, an output model, annotations, a docstring.

Tools are built from models rather than from function signatures, so that the JSON schema the
model reads is the same pydantic model that validates the call, unknown arguments are refused,
and upstream errors become model-readable `ToolError`s in exactly one place.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from focus_mcp.api.client import FocusClient
from focus_mcp.api.errors import FocusError
from focus_mcp.config import Settings
from focus_mcp.edits import EditConflict
from focus_mcp.trim import one_line

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
ADDITIVE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=True)


@dataclass
class AppState:
    """What every tool call needs; the server's lifespan owns it."""

    client: FocusClient
    settings: Settings


class ToolArgs(ArgModelBase):
    """Base of every tool's arguments: unknown names are refused, the tool receives the model whole."""

    model_config = ConfigDict(extra="forbid")

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"args": self}


class TitlelessSchema(GenerateJsonSchema):
    """Schemas without generated titles: the property name already says it, and tokens are scarce."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


class CompactSchema(TitlelessSchema):
    """Input schemas: no titles, optional values without the `null` arm, repeated shapes in $defs."""

    def generate(self, schema: Any, mode: Any = "validation") -> JsonSchemaValue:
        result = super().generate(schema, mode)
        result.pop("title", None)
        properties = result.get("properties", {})
        for prop in properties.values():
            _drop_optional_null(prop)
        _share_repeated(result, properties)
        return result


def _share_repeated(result: dict[str, Any], properties: dict[str, Any]) -> None:
    """A sub-schema that several properties repeat (the id arrays) is stated once, in $defs."""
    shapes: dict[str, list[dict[str, Any]]] = {}
    for prop in properties.values():
        shape = {k: v for k, v in prop.items() if k not in ("description", "default")}
        if shape.get("type") == "array":
            shapes.setdefault(json.dumps(shape, sort_keys=True), []).append(prop)
    for n, (key, props) in enumerate(sorted(shapes.items())):
        if len(props) < 2:
            continue
        shared: dict[str, Any] = json.loads(key)
        item_type = shared.get("items", {}).get("type")
        name = {"integer": "ids", "string": "strings"}.get(item_type, f"list{n}")
        result.setdefault("$defs", {})[name] = shared
        for prop in props:
            for key in list(prop):
                if key not in ("description", "default"):
                    del prop[key]
            prop["$ref"] = f"#/$defs/{name}"


def _drop_optional_null(prop: dict[str, Any]) -> None:
    """`anyOf [X, null]` with default null is just an optional X; say it that way."""
    options = prop.get("anyOf")
    if "default" in prop and prop["default"] is None and isinstance(options, list) and len(options) == 2:
        rest = [o for o in options if o != {"type": "null"}]
        if len(rest) == 1:
            del prop["anyOf"], prop["default"]
            prop.update(rest[0])


def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The output schema with every $ref inlined and no generated titles.

    Clients validate each result against it (the Python SDK with jsonschema); inlined, that takes
    about half the time, and the tool list reads the same.
    """
    schema = model.model_json_schema(schema_generator=TitlelessSchema)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                target = inline(defs[node["$ref"].rsplit("/", 1)[-1]])
                return {**target, **{k: inline(v) for k, v in node.items() if k != "$ref"}}
            return {k: inline(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


ToolFn = Callable[..., Awaitable[CallToolResult]]


def make_tool(
    fn: ToolFn,
    *,
    title: str,
    args: type[ToolArgs],
    output: type[BaseModel],
    annotations: ToolAnnotations,
) -> Tool:
    """A Tool whose schema, validation and description come from `args`, `output` and `fn.__doc__`."""

    async def run(args: ToolArgs, ctx: Context, **resolved: Any) -> CallToolResult:
        try:
            return await fn(args, ctx, **resolved)
        except (FocusError, EditConflict, ToolError) as exc:
            state = ctx.request_context.lifespan_context
            sandbox = isinstance(state, AppState) and state.settings.sandbox
            message = one_line(str(exc))  # the API's own words may carry control characters
            raise ToolError(f"[SANDBOX] {message}" if sandbox else message) from None

    # Parameters filled by `Resolve(...)` (asking the user) work as in SDK-built tools.
    resolved_params = find_resolved_parameters(fn)

    return Tool(
        fn=run,
        name=fn.__name__,
        title=title,
        description=inspect.cleandoc(fn.__doc__ or ""),
        parameters=args.model_json_schema(schema_generator=CompactSchema),
        # The schema is published but not re-validated per call: records are built from API data
        # already validated on the way in, and revalidating a page cost ~0.1-0.2 ms a call. Tests call
        # every tool through the SDK's Client, which checks each result against this schema.
        fn_metadata=FuncMetadata(arg_model=args, output_model=None, output_schema=output_schema(output)),
        is_async=True,
        context_kwarg="ctx",
        resolved_params=dict(resolved_params),
        resolver_plans=build_resolver_plans(resolved_params, {"args"}),
        annotations=annotations,
    )


def is_write_tool(tool: Tool) -> bool:
    """Read-only mode keeps a tool only when its annotations say it reads."""
    return not (tool.annotations is not None and tool.annotations.read_only_hint)
