"""How an answer is composed: one line per record, within the response budget, marked when it is the
sandbox, saying so when few API requests are left this hour.

Each kind of record has a pydantic model (part of the tool's output schema) that the tool builds from
the API's record; its dump is the `structuredContent`, and a renderer turns the model into one line
of text: no keys repeated, no timestamps, nulls or empty lists, each fact once.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from focus_mcp.api.errors import human_duration
from focus_mcp.toolkit.base import AppState, Ref

SANDBOX_BANNER = "[SANDBOX: invented demo organization, not real data]"
# Characters kept free in the response budget for the notes after the records: what was cut, quota.
NOTE_RESERVE = 450
# From this many requests left in the hour, every answer says so: on the free plan (30 an hour) a
# third of the budget, when an agent should start leaning on the cache.
LOW_QUOTA = 10
# Joiners that emoji sequences need; every other control or format character is shown escaped.
KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
# Names are data: shown at most this long (the id beside them says which record it is).
NAME_LIMIT = 80
# A run of more spaces than this in a name is said as its count: padding cannot push what follows
# (a member count, a role) out of sight.
SPACE_RUN = re.compile(r" {4,}")
# What an escape sequence of one_line looks like when a cut falls inside it.
PARTIAL_ESCAPE = re.compile(r"\\(?:x[0-9a-f]?|u[0-9a-f]{0,3}|U[0-9a-f]{0,7})?$")
# In the structured content, a string past this many characters is cut (names, notes): the records'
# ids and numbers are kept whole, and no answer grows with a hostile name.
STRUCTURED_STRING_LIMIT = 1_000

M = TypeVar("M", bound=BaseModel)


class Emojied(Protocol):
    """A team or group as shown: id, emoji, name."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def emoji(self) -> str: ...


def counted(n: int, noun: str, plural: str = "") -> str:
    """`n noun`, the noun plural unless n is 1 ("1 user", "2 users"; `plural` when not noun + s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def echoed(given: str, limit: int = 80) -> str:
    """What the caller gave, quoted as a refusal repeats it: a text longer than `limit` (the schema sets
    no length) is cut, with its length said, so that a refusal is not as long as the argument."""
    return repr(given) if len(given) <= limit else f"{given[:limit]!r}... ({len(given):,} characters)"


def name(text: str, limit: int = NAME_LIMIT) -> str:
    """A name (of a team, member, workspace, role) as data, for any text a model or a person reads:
    newlines, control, format and bidi characters escaped visibly (\\n, \\u202e), a run of spaces
    said as its count, and a name longer than `limit` cut with a marker saying its length. Callers
    show the record's id beside it, so a cut or odd name still says which record it is."""
    shown = SPACE_RUN.sub(lambda run: f" [{len(run.group()):,} spaces] ", one_line(text))
    if len(shown) <= limit:
        return shown
    return f"{PARTIAL_ESCAPE.sub('', shown[:limit])}… [name cut: {len(text):,} characters]"


def refs_text(refs: Sequence[Ref]) -> str:
    return ", ".join(f"{name(r.name)}#{r.id}" if r.name else f"#{r.id}" for r in refs)


def id_emoji_name(group: Emojied) -> str:
    """`id emoji name`, the start of a team's or group's line."""
    shown = name(group.name)
    return f"{group.id} {name(group.emoji, 16)} {shown}" if group.emoji else f"{group.id} {shown}"


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as structured content: JSON types, absent values left out."""
    return model.model_dump(mode="json", exclude_none=True)


def one_line(text: str) -> str:
    """`text` with control, format (bidi overrides) and line-separator characters shown as escapes
    (a newline as \\n), so that no name from the API can break one record per line or forge one."""
    if text.isprintable():
        return text
    return "".join(
        ch
        if ch.isprintable() or ch in KEPT_FORMAT_CHARACTERS
        else " "
        if unicodedata.category(ch) == "Zs"
        else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def cut_line(line: str, limit: int) -> str:
    """A line cut to `limit` characters with a marker, when a value in it (a name, a record in
    detail) has no bound of its own: its start, the record's id, is kept."""
    if len(line) <= limit:
        return line
    marker = f"… [line cut: {len(line):,} characters]"
    return PARTIAL_ESCAPE.sub("", line[: max(limit - len(marker), 0)]) + marker


def bounded_strings(value: Any, limit: int = STRUCTURED_STRING_LIMIT) -> Any:
    """`value` (JSON) with every string longer than `limit` cut with a marker saying its length."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:limit]}… [cut: {len(value):,} characters]"
    if isinstance(value, list):
        return [bounded_strings(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: bounded_strings(v, limit) for k, v in value.items()}
    return value


def bounded(result: CallToolResult, budget: int) -> CallToolResult:
    """Every answer inside the response budget, the one place all of them pass (the tool registry):
    the text cut at a line boundary (a line longer than half the budget is cut itself, keeping its
    start), and the structured content's long strings cut (bounded_strings)."""
    texts = [block for block in result.content if isinstance(block, TextContent)]
    structured = result.structured_content
    if structured is not None:
        structured = bounded_strings(structured)
    if sum(len(block.text) for block in texts) <= budget and structured == result.structured_content:
        return result
    content: list[Any] = []
    left = budget
    for block in result.content:
        if not isinstance(block, TextContent):
            content.append(block)
            continue
        lines = [cut_line(line, max(budget // 2, 1)) for line in block.text.split("\n")]
        kept = fit([], lines, max(left - NOTE_RESERVE, 0)) if sum(len(x) + 1 for x in lines) > left else len(lines)
        if kept < len(lines):
            lines = [
                *lines[:kept],
                f"[cut: {len(lines) - kept} more lines not shown, to stay under the response budget]",
            ]
        text = "\n".join(lines)
        left -= len(text)
        content.append(block.model_copy(update={"text": text}))
    return result.model_copy(update={"content": content, "structured_content": structured})


def fit(heading: list[str], lines: list[str], budget: int) -> int:
    """How many of `lines` fit after `heading` in `budget` characters (at least what fits, maybe 0)."""
    used = sum(len(h) + 1 for h in heading)
    for kept, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            return kept
    return len(lines)


def answer(
    state: AppState, lines: list[str], structured: BaseModel | dict[str, Any], error: bool = False
) -> CallToolResult:
    """The text lines and the structured content (the tool's output model); `error` marks a failed call."""
    if isinstance(structured, BaseModel):
        structured = dump(structured)
    if state.settings.sandbox:
        lines = [SANDBOX_BANNER, *lines]
        structured = {**structured, "sandbox": True}
    quota = state.client.quota
    left = quota.remaining
    if left is not None and left <= LOW_QUOTA:
        resets = quota.resets_in()
        when = f", the quota resets in {human_duration(resets)}" if resets else ""
        lines = [
            *lines,
            f"[quota: {counted(left, 'Toggl Focus API request')} left this hour{when}. Cached answers cost none: "
            "avoid fresh=true and all_pages unless needed.]",
        ]
        structured = {**structured, "quota_remaining": left}
    text = "\n".join(one_line(line) for line in lines)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured, is_error=error)


def listing(
    state: AppState,
    heading: list[str],
    key: str,
    records: Sequence[M],
    render: Callable[[M], str],
    extra: dict[str, Any],
    narrow: str,
    full: list[Any] | None = None,
) -> CallToolResult:
    """A list answer cut at a record boundary to fit TOGGL_FOCUS_MAX_RESPONSE_CHARS, saying how to narrow.

    With `full` (the API's own records, for detail=true) the text shows those as compact JSON lines.
    """
    budget = state.settings.max_response_chars - NOTE_RESERVE
    if full is not None:  # the API's records: a name in them is cut as in the structured content
        lines = [one_line(compact_json(bounded_strings(r, NAME_LIMIT * 4))) for r in full]
    else:
        lines = [one_line(render(r)) for r in records]
    # A line no bound shortened (a name rendered whole) is cut rather than the record dropped.
    lines = [cut_line(line, budget // 2) for line in lines]
    heading = [cut_line(one_line(line), budget // 4) for line in heading]  # legends name workspaces, teams, tags
    banner = [SANDBOX_BANNER] if state.settings.sandbox else []
    kept = fit(banner + heading, lines, budget)
    structured: dict[str, Any] = {key: [dump(r) for r in records[:kept]], **extra}
    if full is not None:
        structured["records"] = full[:kept]
    shown = heading + lines[:kept]
    if kept < len(lines):
        dropped = len(lines) - kept
        structured["truncated"] = dropped
        shown.append(f"[cut: {dropped} more not shown, to stay under the response budget; {narrow}]")
    return answer(state, shown, structured)


def may_fit(sizes: Sequence[int], budget: int) -> int:
    """How many records, by estimated line size, may fit `budget` characters: generously (a third
    more), so that `listing` cuts the last ones exactly and only those past this are never rendered."""
    used = 0
    for n, size in enumerate(sizes):
        used += size + 1
        if used > budget * 4 // 3:
            return n
    return len(sizes)


def cut_beyond(result: CallToolResult, after: int, narrow: str) -> CallToolResult:
    """A listing whose last `after` records were never rendered (`may_fit`): counted in `truncated` and
    said in the cut note (added when the records rendered all fitted)."""
    structured = result.structured_content
    if after and structured is not None:
        if "truncated" not in structured and result.content and result.content[0].type == "text":
            note = f"[cut: {after} more not shown, to stay under the response budget; {narrow}]"
            result.content[0].text += "\n" + note
        structured["truncated"] = structured.get("truncated", 0) + after
    return result
