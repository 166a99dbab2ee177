"""The tool inventory, and how the tools reach the SDK through its public API.

Each tool is a `ToolSpec`: a handler taking one pydantic argument model. `as_tool` gives the SDK's
`Tool.from_function` a function whose only argument parameter is resolved by `arguments.checked`
(the one check of the raw arguments against that model), publishing the model's own schema,
compact, and returning `Annotated[CallToolResult, Output]` (the SDK publishes and checks the output
schema). Every failure is answered as a plain sentence, never the SDK's bare "Error executing tool".
`ToolServer` says that a write tool is off in read-only mode, where it is not registered.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Annotated, Any

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp_types import INVALID_PARAMS, CallToolResult, GetPromptResult, InputRequiredResult, TextContent
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from focus_mcp.api.errors import FocusError
from focus_mcp.config import Settings
from focus_mcp.render.lines import bounded, one_line
from focus_mcp.toolkit.advice import explain
from focus_mcp.toolkit.arguments import Refusal, checked
from focus_mcp.toolkit.base import AppState, ToolSpec
from focus_mcp.tools import (
    changes,
    deletion,
    groups,
    member_roles,
    memberships,
    roles_and_tags,
    teams,
    undo,
    users,
    workspaces,
)

log = logging.getLogger(__name__)

# The tool inventory: every area module lists its tools in a module-level TOOLS. Everything else is
# derived from it: the order clients show (reads first, then writes, each in this order), read-only
# mode, manifest.json's tools and the README's table (scripts/sync_tools.py), the tests' lists.
AREAS = (users, teams, workspaces, groups, member_roles, memberships, roles_and_tags, changes, deletion, undo)
SPECS: list[ToolSpec] = sorted((spec for area in AREAS for spec in area.TOOLS), key=lambda spec: spec.writes)


def tool_specs(settings: Settings) -> list[ToolSpec]:
    """The tools this server offers: read-only mode is a filter on annotations, not a second list."""
    return [s for s in SPECS if not (settings.read_only and s.writes)]


def as_tool(spec: ToolSpec) -> Tool:
    """The SDK Tool for `spec`, built by `Tool.from_function`; its input schema is `spec.args`'s."""
    resolved = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for name, p in inspect.signature(spec.handler, eval_str=True).parameters.items()
        if name not in ("args", "ctx")
    ]
    resolved_names = [p.name for p in resolved]

    async def call(ctx: Context, args: Any, **extra: Any) -> CallToolResult:
        state = ctx.request_context.lifespan_context
        settings = state.settings if isinstance(state, AppState) else None
        budget = settings.max_response_chars if settings else Settings.model_fields["max_response_chars"].default
        return bounded(await answered(ctx, args, **extra), budget)  # every answer, write or refusal

    async def answered(ctx: Context, args: Any, **extra: Any) -> CallToolResult:
        state = ctx.request_context.lifespan_context
        sandbox = isinstance(state, AppState) and state.settings.sandbox
        if isinstance(args, Refusal):
            return _refusal(args.message, sandbox)
        try:
            if isinstance(state, AppState):
                await state.client.refresh_quota()  # another replica may have spent it
            result = await spec.handler(args, ctx, **{name: extra[name] for name in resolved_names})
            if not result.is_error:
                spec.output.model_validate(result.structured_content)  # the SDK's check, without its bare error
            return result
        except (FocusError, ToolError, TimeoutError) as exc:
            return _refusal(explain(exc) if isinstance(exc, FocusError) else str(exc), sandbox)
        except Exception as exc:  # a bug: said plainly, logged with its traceback, never its text to the model
            log.exception("%s failed", spec.name)
            return _refusal(_internal_error(spec, exc), sandbox)

    checked_args = inspect.Parameter(
        "args", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, Resolve(checked(spec.args))]
    )
    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context), checked_args, *resolved]
    returns = Annotated[CallToolResult, spec.output]
    call.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    call.__name__ = call.__qualname__ = spec.name
    tool = Tool.from_function(
        call,
        name=spec.name,
        title=spec.title,
        description=description(spec),
        annotations=spec.annotations,
    )
    return tool.model_copy(update={"parameters": input_schema(spec.args)})


def description(spec: ToolSpec) -> str:
    """The docstring as the model reads it: its paragraphs one line each (a source line break is no
    break in the text), the first one what the tool does."""
    paragraphs = inspect.cleandoc(spec.handler.__doc__ or "").split("\n\n")
    return "\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def _internal_error(spec: ToolSpec, exc: Exception) -> str:
    said = f"{spec.name} failed inside focus-mcp ({type(exc).__name__}); the server's log has the details."
    if spec.writes:
        return said + " Whether anything was written is unknown: read it fresh (fresh=true) before trying again."
    return said + " Try again; if it fails the same way, report it."


def _refusal(message: str, sandbox: bool) -> CallToolResult:
    text = one_line(message)
    return CallToolResult(
        content=[TextContent(type="text", text=f"[SANDBOX] {text}" if sandbox else text)], is_error=True
    )


class ToolServer(MCPServer[AppState]):
    """The MCPServer, saying of a write tool in read-only mode that it is off (it is not registered)."""

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.off = set() if not settings.read_only else {s.name for s in SPECS if s.writes}
        self.sandbox = settings.sandbox

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[AppState, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        if name in self.off:
            said = (
                f"{name} is not available: this server runs in read-only mode (TOGGL_FOCUS_READ_ONLY or "
                "--read-only), so no tool can change anything."
            )
            raise ToolError(f"[SANDBOX] {said}" if self.sandbox else said)
        return await super().call_tool(name, arguments, context)

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context[AppState, Any] | None = None
    ) -> GetPromptResult | InputRequiredResult:
        """An unknown prompt is refused naming the prompts there are (the SDK says only "Unknown prompt")."""
        names = [prompt.name for prompt in await self.list_prompts()]
        if name not in names:
            raise MCPError(INVALID_PARAMS, f"No prompt {name!r}; the prompts are: {', '.join(names)}.")
        return await super().get_prompt(name, arguments, context)


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
            _merge_alternatives(prop)
            _merge_alternatives(prop.get("items", {}))
            if isinstance(prop.get("additionalProperties"), dict):  # an object's values (roles: member -> role)
                _merge_alternatives(prop["additionalProperties"])
            _enum_alone(prop)
            _enum_alone(prop.get("items", {}))
            if "default" in prop and prop["default"] in (False, "", None):
                del prop["default"]  # absent is false, empty or none: nothing the model needs told
        _share_repeated(result, properties)
        _share_nested_refs(result, properties)
        return result


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=CompactSchema)


def _share_repeated(result: dict[str, Any], properties: dict[str, Any]) -> None:
    """A sub-schema that several properties repeat (ids, id arrays) is stated once, in $defs, when
    that makes the schema shorter as a host prints it (JSON, indent 1)."""
    shapes: dict[str, list[dict[str, Any]]] = {}
    for prop in properties.values():
        shape = {k: v for k, v in prop.items() if k not in ("description", "default")}
        if shape.get("type") == "array" or "maximum" in shape or isinstance(shape.get("type"), list):
            shapes.setdefault(json.dumps(shape, sort_keys=True), []).append(prop)
    for n, (key, props) in enumerate(sorted(shapes.items())):
        if len(props) < 2:
            continue
        shared: dict[str, Any] = json.loads(key)
        item_type = shared.get("items", {}).get("type") if shared["type"] == "array" else f"one {shared['type']}"
        names = {
            "integer": "ids",
            "string": "strings",
            "one integer": "id",
            "['integer', 'string']": "refs",
            "one ['integer', 'string']": "ref",
        }
        name = names.get(str(item_type), f"shape{n}")
        before = _printed(result)
        said = [dict(prop) for prop in props]
        result.setdefault("$defs", {})[name] = shared
        for prop in props:
            for k in list(prop):
                if k not in ("description", "default"):
                    del prop[k]
            prop["$ref"] = f"#/$defs/{name}"
        if _printed(result) >= before:  # stated once it costs more than it saves: say it in place
            for prop, was in zip(props, said, strict=True):
                prop.clear()
                prop.update(was)
            del result["$defs"][name]
            if not result["$defs"]:
                del result["$defs"]


def _share_nested_refs(result: dict[str, Any], properties: dict[str, Any]) -> None:
    """An id-or-name shape that a property, an array's items and an object's values repeat (update_group:
    group_id, the user lists' items, roles' values) is stated once as `ref` when that prints shorter."""
    defs = result.get("$defs", {})
    places = [*properties.values()]
    places += [p.get(k) for p in [*properties.values(), *defs.values()] for k in ("items", "additionalProperties")]
    refs = [p for p in places if isinstance(p, dict) and isinstance(p.get("type"), list) and "$ref" not in p]
    shapes: dict[str, list[dict[str, Any]]] = {}
    for place in refs:
        shapes.setdefault(
            json.dumps({k: v for k, v in place.items() if k != "description"}, sort_keys=True), []
        ).append(place)
    for key, same in shapes.items():
        if len(same) < 2 or "ref" in defs:
            continue
        before, said = _printed(result), [dict(p) for p in same]
        result.setdefault("$defs", {})["ref"] = json.loads(key)
        for place in same:
            for k in [k for k in place if k != "description"]:
                del place[k]
            place["$ref"] = "#/$defs/ref"
        if _printed(result) >= before:
            for place, was in zip(same, said, strict=True):
                place.clear()
                place.update(was)
            del result["$defs"]["ref"]
            if not result["$defs"]:
                del result["$defs"]
        return


def _enum_alone(prop: dict[str, Any]) -> None:
    """`enum` lists every value a property takes; `type: string` beside an enum of strings adds nothing."""
    if prop.get("type") == "string" and all(isinstance(v, str) for v in prop.get("enum", [None])):
        del prop["type"]


def _printed(schema: dict[str, Any]) -> int:
    return len(json.dumps(schema, indent=1, ensure_ascii=False).encode())


def _drop_optional_null(prop: dict[str, Any]) -> None:
    """`anyOf [X, ..., null]` with default null is just an optional `anyOf [X, ...]`; say it that way."""
    options = prop.get("anyOf")
    if "default" in prop and prop["default"] is None and isinstance(options, list) and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del prop["default"]
        if len(rest) == 1:
            del prop["anyOf"]
            prop.update(rest[0])
        else:
            prop["anyOf"] = rest


# The keywords that apply to one JSON type only: an alternative made of them applies to its type alone.
TYPE_KEYWORDS = {
    "integer": {"minimum", "maximum"},
    "string": {"minLength", "maxLength", "pattern", "format"},
    "null": set(),
}


def _merge_alternatives(prop: dict[str, Any]) -> None:
    """`anyOf [{integer, min, max}, {string, minLength, ...}]` says the same as one schema of
    `type: [integer, string]` with both sets of keywords, since each keyword applies to one type only:
    an id or a name, in one line each."""
    options = prop.get("anyOf")
    if not isinstance(options, list):
        return
    types = [o.get("type") for o in options]
    if not all(isinstance(t, str) and t in TYPE_KEYWORDS for t in types) or len(set(types)) != len(types):
        return
    if any(set(o) - {"type"} - TYPE_KEYWORDS[o["type"]] for o in options):
        return
    del prop["anyOf"]
    for option in options:
        prop.update({k: v for k, v in option.items() if k != "type"})
    prop["type"] = types
