"""The API layer's errors, told in this server's terms: the next step names the tool to call.

The API layer knows nothing of MCP, so its errors end with what is wrong ("Group 5 was not found
in organization 11."); where a tool would help, this adds which one. Every place that hands a
FocusError to the model passes it through `explain`.
"""

from __future__ import annotations

from focus_mcp.api.errors import FocusError, NotFoundError


def explain(exc: FocusError) -> str:
    """The error's text, followed by the tool that helps, if one does."""
    advice = tool_advice(exc)
    return f"{exc} {advice}" if advice else str(exc)


def tool_advice(exc: FocusError) -> str:
    if isinstance(exc, NotFoundError):
        group = exc.request.params.get("group_id")
        if exc.missing == "member":
            return (
                f"Call list_teams with group_ids=[{group}] to see its members, or add the user first with update_group."
            )
        if exc.missing == "group":
            return "Call list_teams to find the group id."
        return "Call list_my_groups or ask the user for the right id."
    return ""
