"""A tool's arguments in one line, for people: `focus-mcp tools` and the README's tools table.

The arguments every listing shares (the ids that default to the configured ones, paging, cache
and detail switches) are named once, apart; a tool's own come first, required ones marked `*`.
"""

from __future__ import annotations

from focus_mcp.toolkit.base import ToolSpec

COMMON = (
    "organization_id",
    "workspace_id",
    "fresh",
    "all_pages",
    "max_items",
    "detail",
    "page",
    "per_page",
)


def own_arguments(spec: ToolSpec) -> list[str]:
    """The tool's own arguments, required first (marked `*`), then the others in their declared order."""
    fields = spec.args.model_fields
    required = [f"{name}*" for name, field in fields.items() if field.is_required()]
    optional = [name for name, field in fields.items() if not field.is_required() and name not in COMMON]
    return required + optional


def main_arguments(spec: ToolSpec, limit: int = 6) -> str:
    """At most `limit` of the tool's own arguments, then how many more."""
    names = own_arguments(spec)
    shown = ", ".join(f"`{name}`" for name in names[:limit]) or "—"
    return shown + (f", +{len(names) - limit} more" if len(names) > limit else "")
