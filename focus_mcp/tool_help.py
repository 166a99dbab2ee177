"""`focus-mcp tools NAME`: one tool's description and each of its arguments with type, default and meaning.

The published schemas carry a description only where an argument's name, type and the tool's own
description leave it unclear: every conversation pays the tool list (its byte budget:
docs/architecture.md, "Argument descriptions"). People reading the command line pay nothing for
longer text, so `HELP` gives every argument a sentence of its own, printed when the schema has none;
it is never sent to a model. tests/test_tool_help.py checks that each published argument has one or
the other, and that `HELP` names no argument that no tool has.
"""

from __future__ import annotations

from typing import Any

from focus_mcp.registry import description, input_schema
from focus_mcp.toolkit.base import ToolSpec
from focus_mcp.toolkit.summary import COMMON

# Keyed by argument name, or by "tool.argument" where one name means different things in two tools.
HELP: dict[str, str] = {
    # What every tool shares; the server's instructions say it once to the model.
    "organization_id": "The organization to read or edit; default: TOGGL_FOCUS_ORGANIZATION_ID.",
    "workspace_id": "The workspace, where the endpoint needs one; default: TOGGL_FOCUS_WORKSPACE_ID.",
    "fresh": "true: read from the API, skipping the cache (TOGGL_FOCUS_CACHE_TTL), one request more.",
    "all_pages": "true: read every page, up to max_items (refused up front when the hour's quota cannot cover it).",
    "max_items": "With all_pages: stop after this many records.",
    "page": "The page to read (the API's paging), from 1.",
    "per_page": "Records per page, 1 to 100 (default: the API's).",
    # list_users answers from the organization's snapshot (every member read): its paging arguments
    # bound the lines shown, never what is read or counted.
    "list_users.all_pages": "Kept so older calls still work: every member is read anyway, and counts cover everyone.",
    "list_users.max_items": "At most this many lines shown; the counts still cover everyone.",
    "list_users.page": "The page of matching lines to show, from 1 (per_page lines a page).",
    "list_users.per_page": "Lines a page, 1 to 100 (default 50 when page is given); counts cover everyone.",
    # list_users: the API's filters, said as the API's own parameter names mean them.
    "only_admins": "true: only admins (owners are admins too).",
    "has_group": "true: only people in at least one team; false: only people in no team.",
    "groups": "Only members of any of these teams (group ids, from list_teams).",
    "list_users.workspaces": "Only members of any of these workspaces (ids, from list_workspaces).",
    "list_users.roles": "Only people with any of these roles (role ids, from list_roles).",
    "tag_ids": "Only people with any of these member tags (ids, from list_member_tags).",
    "org_user_ids": "Only these people (organization user ids, as list_users shows them).",
    "two_factor": "true: only people with 2FA on; false: only people with 2FA off. Reads every page.",
    "min_teams": "Only people in at least this many teams. Reads every page.",
    # list_teams
    "group_ids": "Only these teams (group ids).",
    # list_changes
    "list_changes.group_id": "Only the changes of this group: its id or exact name.",
    "limit": "At most this many changes, newest first (1 to 200).",
    # create_group / update_group
    "name": "The group's name.",
    "emoji": "The group's emoji (empty: none).",
    "create_group.workspaces": "The group's workspaces (ids); default: TOGGL_FOCUS_WORKSPACE_ID.",
    "allow_duplicate_name": "true: create it even when one of its workspaces has a group of that name.",
    "group_id": "The group: its id, or its exact name (without workspace_id, looked for in every workspace).",
    "add_users": "Add these members (ids, exact names or emails); the others are kept.",
    "remove_users": "Remove these members (ids, exact names or emails); the others are kept.",
    "add_workspaces": "Add these workspaces (ids); the others are kept.",
    "remove_workspaces": "Remove these workspaces (ids); the others are kept.",
    "dry_run": "true: show what would change, write nothing.",
    # create_group / update_group: not list_users' filter of the same name
    "roles": "Focus roles to give members: member (id, exact name or email) -> role (id or exact name).",
    # set_group_member_role
    "organization_user_id": "The member: their organization user id, exact name or email.",
    "focus_role_id": "The Focus role to give: its id or exact name (list_teams' legend, list_roles); null: none.",
    # update_user_groups
    "user": "The person: their organization user id, exact name or email.",
    "add_to": "Groups to add them to: ids or exact names.",
    "remove_from": 'Groups to take them out of: ids or exact names, or "all" (every group they are in).',
    "role": "The Focus role they get in the groups they join: its id or exact name (list_roles); default none.",
    "update_user_groups.dry_run": "true: name every group that would change and what it would cost, write nothing.",
    # delete_group / undo_change
    "confirm": (
        "true: the user has said yes to this delete. Without it the server asks the user when the client can "
        "show a question, else refuses."
    ),
    "change_id": "The change to undo, as list_changes shows it.",
    "undo_change.dry_run": "true: show the plan (what would be written, what is left alone), write nothing.",
    "undo_change.confirm": "true: the user has said yes; needed when the undo deletes a group (undoing a create).",
}


def argument_help(tool: str, argument: str, schema: dict[str, Any]) -> str:
    """What an argument means: the sentence of `HELP`, then the published description; either may be missing."""
    said = [HELP.get(f"{tool}.{argument}", HELP.get(argument, ""))]
    return " ".join(text for text in [*said, schema.get("description", "")] if text)


def type_text(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A property's JSON schema as a short phrase: `integer >= 1`, `list of integer >= 1, not empty`."""
    if "$ref" in schema:
        schema = {**defs[schema["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "enum" in schema:
        base = "|".join(map(str, schema["enum"]))
    elif kinds[0] == "array":
        base = "list of " + type_text(schema.get("items", {}), defs)
    elif "integer" in kinds and "string" in kinds:  # an id or a name (names.py)
        return "id (integer >= 1) or exact name"
    else:
        base = kinds[0]
    if "minimum" in schema and "maximum" in schema:
        base += f" {schema['minimum']} to {schema['maximum']}"
    elif "minimum" in schema:
        base += f" >= {schema['minimum']}"
    if schema.get("format") == "date-time":
        base += " (ISO 8601 date or time)"
    if schema.get("minItems") == 1 or (kinds[0] == "string" and schema.get("minLength") == 1):
        base += ", not empty"
    return base + (", or null" if "null" in kinds else "")


def default_text(spec: ToolSpec, argument: str) -> str:
    field = spec.args.model_fields[argument]
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "optional"
    if isinstance(value, bool):
        return f"default: {str(value).lower()}"
    return f"default: {value!r}" if value not in ("", []) else "default: empty"


def tool_help(spec: ToolSpec) -> str:
    """The tool's description, then one line per argument: name (`*` required), type, default, meaning."""
    schema = input_schema(spec.args)
    properties, defs = schema.get("properties", {}), schema.get("$defs", {})
    required = [name for name in properties if spec.args.model_fields[name].is_required()]
    order = required + [n for n in properties if n not in required and n not in COMMON]
    order += [n for n in properties if n in COMMON and n not in required]
    width = max((len(name) for name in properties), default=0) + 2
    lines = [f"{spec.name}: {spec.title}", *description(spec).splitlines(), "", "Arguments (* required):"]
    for name in order:
        shown = f"{name}*" if name in required else name
        facts = f"{type_text(properties[name], defs)}; {default_text(spec, name)}"
        lines.append(f"  {shown:<{width}}{facts}")
        lines.append(f"  {'':<{width}}{argument_help(spec.name, name, properties[name])}")
    if not properties:
        lines.append("  (none)")
    return "\n".join(lines)
