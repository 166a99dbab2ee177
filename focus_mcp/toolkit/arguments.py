"""A tool's arguments, checked in one place: the raw `tools/call` arguments against the tool's own
argument model, the model whose JSON schema is the one published.

The SDK's tool function receives them through a resolver (`checked`), which reads the raw arguments
from the request (`ServerRequestContext.params`) before anything else runs, so that unknown names
are seen (the SDK would drop them), the SDK's own argument model is empty (nothing is validated
twice), and a refusal is a value the tool answers in plain sentences, not an exception the SDK
would prefix with "Error executing tool". Resolvers that need the arguments (the delete
confirmation) depend on the same resolver and get the same checked value.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context
from pydantic import ValidationError

from focus_mcp.toolkit.base import ToolArgs


@dataclass(frozen=True)
class Refusal:
    """Arguments the tool's model refuses, said as the model should read it."""

    message: str


Resolver = Callable[[Context], Coroutine[Any, Any, Any]]

# Arguments the tools no longer take, with what says the same now: a call from an older script is
# refused (nothing sent) with the replacement named (docs/architecture.md, "What the tools offer").
TEAMS_PAGES = "list_teams reads every page itself"
REPLACED = {  # by tool: another tool's old argument is no argument of this one
    "list_users": {
        "include_rates": 'now fields ["rate"]',
        "include_working_hours": 'now fields ["working_hours"]',
        "include_custom_fields": 'now fields ["custom_fields"]',
        "active_status": "now status",
    },
    "list_teams": {
        "query": "now filter (a team's name), or list_users filter (a person's teams)",
        **dict.fromkeys(("page", "per_page", "all_pages", "max_items"), TEAMS_PAGES),
    },
}


@functools.cache
def checked(model: type[ToolArgs]) -> Resolver:
    """The resolver of `model`'s arguments: `model` itself, or a Refusal. One per model, so that
    every resolver of one call that asks for it shares one check."""

    async def arguments(ctx: Context) -> Any:
        params: Mapping[str, Any] = ctx.request_context.params or {}
        return check(str(params.get("name", "the tool")), model, params.get("arguments") or {})

    arguments.__qualname__ = f"checked.{model.__name__}"  # a stable key for the SDK's resolver state
    return arguments


def check(tool: str, model: type[ToolArgs], raw: object) -> ToolArgs | Refusal:
    if not isinstance(raw, Mapping):
        return Refusal(f"The arguments of {tool} must be a JSON object; nothing was sent.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        return Refusal(plain_refusal(tool, model, exc))


def plain_refusal(tool: str, model: type[ToolArgs], exc: ValidationError) -> str:
    """Pydantic's errors as sentences that name each argument; unknown ones with the valid names."""
    unknown: list[str] = []
    problems: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        where = _location(error["loc"])
        if error["type"] == "extra_forbidden":
            replaced = REPLACED.get(tool, {}).get(where)
            unknown.append(f"{where} ({replaced})" if replaced else where)
        elif error["type"] == "missing":
            problems.setdefault(where, []).append("is required")
        elif error["type"] == "too_short" and error.get("ctx", {}).get("min_length") == 1:
            problems.setdefault(where, []).append("is empty: an empty list matches no one, omit the filter instead")
        else:
            problems.setdefault(where, []).append(_reworded(error["msg"]))
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
