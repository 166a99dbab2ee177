"""How the tools reach the SDK, through its public API only.

Each tool is a `ToolSpec`: a handler taking one pydantic argument model. `as_tool` gives the SDK's
`Tool.from_function` a function whose signature is that model's fields (so the SDK validates what
the model validates, and resolvers find arguments by name) returning `Annotated[CallToolResult,
Output]` (so the SDK publishes and checks the output schema). The published input schema is the
argument model's own, compact.

`ArgumentCheck`, a server middleware, reads every `tools/call` before the SDK does and checks the
raw arguments against the same model with unknown names refused, answering a refusal in plain
sentences that name the argument (and for unknown ones, the valid names), before any request.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticUndefined

from focus_mcp.api.errors import FocusError
from focus_mcp.config import Settings
from focus_mcp.tools import changes, deletion, groups, roles_and_tags, teams, users, workspaces
from focus_mcp.tools.advice import explain
from focus_mcp.tools.base import AppState, ToolArgs, ToolSpec
from focus_mcp.tools.render import one_line

# The tool inventory: every area module lists its tools in a module-level TOOLS. Everything else is
# derived from it: the order clients show (reads first, then writes, each in this order), read-only
# mode, manifest.json's tools and the README's table (scripts/sync_tools.py), the tests' lists.
AREAS = (users, teams, workspaces, groups, roles_and_tags, changes, deletion)
SPECS: list[ToolSpec] = sorted((spec for area in AREAS for spec in area.TOOLS), key=lambda spec: spec.writes)


def tool_specs(settings: Settings) -> list[ToolSpec]:
    """The tools this server offers: read-only mode is a filter on annotations, not a second list."""
    return [s for s in SPECS if not (settings.read_only and s.writes)]


def as_tool(spec: ToolSpec) -> Tool:
    """The SDK Tool for `spec`, built by `Tool.from_function`."""
    resolved = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for name, p in inspect.signature(spec.handler, eval_str=True).parameters.items()
        if name not in ("args", "ctx")
    ]
    fields = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation,
            default=inspect.Parameter.empty if field.is_required() else _default(field.default, field.default_factory),
        )
        for name, field in spec.args.model_fields.items()
    ]
    resolved_names = [p.name for p in resolved]
    handler, model = spec.handler, spec.args

    async def call(ctx: Context, **kwargs: Any) -> CallToolResult:
        extra = {name: kwargs.pop(name) for name in resolved_names}
        state = ctx.request_context.lifespan_context
        try:
            if isinstance(state, AppState):
                await state.client.refresh_quota()  # another replica may have spent it
            return await handler(model.model_validate(kwargs), ctx, **extra)
        except (FocusError, ToolError, TimeoutError) as exc:
            message = explain(exc) if isinstance(exc, FocusError) else str(exc)
            return _refusal(message, isinstance(state, AppState) and state.settings.sandbox)

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context), *fields, *resolved]
    returns = Annotated[CallToolResult, spec.output]
    call.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    call.__name__ = call.__qualname__ = spec.name
    tool = Tool.from_function(
        call,
        name=spec.name,
        title=spec.title,
        description=inspect.cleandoc(handler.__doc__ or ""),
        annotations=spec.annotations,
    )
    return tool.model_copy(update={"parameters": input_schema(spec.args)})


def _default(default: Any, factory: Any) -> Any:
    if default is not PydanticUndefined:
        return default
    return factory() if callable(factory) else None


def _refusal(message: str, sandbox: bool) -> CallToolResult:
    text = one_line(message)
    return CallToolResult(
        content=[TextContent(type="text", text=f"[SANDBOX] {text}" if sandbox else text)], is_error=True
    )


class ArgumentCheck:
    """Middleware: a `tools/call` whose arguments its tool's model refuses is answered here, plainly."""

    def __init__(self, specs: list[ToolSpec], settings: Settings) -> None:
        self.models = {s.name: s.args for s in specs}
        self.off = {s.name for s in SPECS} - set(self.models)  # write tools, in read-only mode
        self.sandbox = settings.sandbox

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and isinstance(ctx.params, Mapping):
            name, arguments = ctx.params.get("name"), ctx.params.get("arguments") or {}
            problem = self.problem(name, arguments)
            if problem is not None:
                return _refusal(problem, self.sandbox)
        return await call_next(ctx)

    def problem(self, name: object, arguments: object) -> str | None:
        if name in self.off:
            return (
                f"{name} is not available: this server runs in read-only mode (TOGGL_FOCUS_READ_ONLY or "
                "--read-only), so no tool can change anything."
            )
        model = self.models.get(name) if isinstance(name, str) else None
        if model is None:
            return None  # the SDK answers for unknown tools
        if not isinstance(arguments, Mapping):
            return f"The arguments of {name} must be a JSON object; nothing was sent."
        try:
            model.model_validate(arguments)
        except ValidationError as exc:
            return plain_refusal(str(name), model, exc)
        return None


# The branches of an id-or-name argument, as pydantic names them in an error's location.
BRANCHES = {"int": "as an id", "constrained-int": "as an id", "str": "as a name", "constrained-str": "as a name"}


def plain_refusal(tool: str, model: type[ToolArgs], exc: ValidationError) -> str:
    """Pydantic's errors as sentences that name each argument; unknown ones with the valid names."""
    unknown: list[str] = []
    problems: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc, branch = error["loc"], None
        if loc and loc[-1] in BRANCHES:
            loc, branch = loc[:-1], BRANCHES[str(loc[-1])]
        where = _location(loc)
        if error["type"] == "extra_forbidden":
            unknown.append(where)
        elif error["type"] == "missing":
            problems.setdefault(where, []).append("is required")
        elif error["type"] == "too_short" and error.get("ctx", {}).get("min_length") == 1:
            problems.setdefault(where, []).append("is empty: an empty list matches no one, omit the filter instead")
        else:
            problems.setdefault(where, []).append(_reworded(error["msg"]) + (f" ({branch})" if branch else ""))
    sentences = [f"{where} {' or '.join(said)}" for where, said in problems.items()]
    if unknown:
        valid = ", ".join(model.model_fields)
        sentences.append(f"unknown argument{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (valid: {valid})")
    return f"Not sent: invalid arguments for {tool}: " + "; ".join(sentences) + "."


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "arguments"


def _reworded(message: str) -> str:
    for prefix, instead in (("Input should be", "must be"), ("String should", "must"), ("List should", "must")):
        if message.startswith(prefix):
            message = instead + message[len(prefix) :]
    return message.removeprefix("Value error, ")


# --- schemas ------------------------------------------------------------------------------------


class CompactSchema(GenerateJsonSchema):
    """Input schemas: no generated titles, optional values without the `null` arm, repeated array
    shapes stated once in $defs. The property name already says what the title would."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def generate(self, schema: Any, mode: Any = "validation") -> JsonSchemaValue:
        result = super().generate(schema, mode)
        result.pop("title", None)
        properties = result.get("properties", {})
        for prop in properties.values():
            _drop_optional_null(prop)
        _share_repeated(result, properties)
        return result


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=CompactSchema)


def _share_repeated(result: dict[str, Any], properties: dict[str, Any]) -> None:
    """A sub-schema that several properties repeat (ids, id arrays) is stated once, in $defs."""
    shapes: dict[str, list[dict[str, Any]]] = {}
    for prop in properties.values():
        shape = {k: v for k, v in prop.items() if k not in ("description", "default")}
        if shape.get("type") == "array" or (shape.get("type") == "integer" and "maximum" in shape):
            shapes.setdefault(json.dumps(shape, sort_keys=True), []).append(prop)
    for n, (key, props) in enumerate(sorted(shapes.items())):
        if len(props) < 2:
            continue
        shared: dict[str, Any] = json.loads(key)
        item_type = shared.get("items", {}).get("type") if shared["type"] == "array" else "id"
        name = {"integer": "ids", "string": "strings", "id": "id"}.get(item_type, f"list{n}")
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
