"""MCP prompts: the workflows a user comes for, one click in a host (Claude Desktop and Claude Code show
them as slash commands), each rendered as the user message that starts it.

A prompt is a plan over the tools, written for the model: which calls answer the question at the
least cost (the API allows as few as 30 requests an hour, so one filtered call over many), what to
report, and where a human must say yes. Rendering one costs no API request. In read-only mode the
edit workflows stop at the plan; in the sandbox they say the data is invented.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer, Message, UserMessage
from mcp.server.mcpserver.prompts import Prompt
from mcp_types import INVALID_PARAMS, InputRequiredResult
from pydantic import Field

from focus_mcp.config import Settings
from focus_mcp.registry import tool_specs
from focus_mcp.toolkit.base import AppState

Person = Annotated[str, Field(description="The person: a name, an email or a user id.", min_length=1, max_length=200)]
Teams = Annotated[
    str, Field(description="The teams, comma-separated: names or ids (e.g. 'Design, Support').", min_length=1)
]
Team = Annotated[str, Field(description="The team: its name or id.", min_length=1, max_length=200)]

CHEAP = (
    "Use as few tool calls as the answer needs: the Toggl Focus API allows as few as 30 requests an hour, "
    "so prefer one filtered call to many, and cached answers (no fresh=true) unless told otherwise."
)
SANDBOX_NOTE = " This is the sandbox: an invented demo organization. Say so in your answer."
WRITES = (
    "Each write's answer says written, not_written or unknown: report it as said, and never repeat an "
    "unknown write blindly (list the team with fresh=true and decide from what it shows)."
)
READ_ONLY_STOP = (
    "This server is read-only: stop at the plan, and tell the user the edits must be made in Toggl Focus or "
    "through a server that is not read-only."
)


class Workflow(Prompt):
    """A prompt that refuses a missing or blank required argument in a sentence naming it and what goes there.

    The SDK's own check raises a ValueError, which its dispatcher answers as "Internal server error"
    (and logs as a crash); an MCPError reaches the client as it is (`MCPServer.get_prompt` re-raises it)."""

    async def render(
        self, arguments: dict[str, Any] | None, context: Context[Any, Any]
    ) -> list[Message] | InputRequiredResult:
        given = arguments or {}
        unusable = [a for a in self.arguments or [] if a.required and not str(given.get(a.name) or "").strip()]
        if unusable:
            said = missing_arguments(self.name, [(a.name, a.description) for a in unusable], given)
            raise MCPError(INVALID_PARAMS, said)
        return await super().render(arguments, context)


def missing_arguments(prompt: str, unusable: list[tuple[str, str | None]], given: dict[str, Any]) -> str:
    """'The onboard_person prompt needs teams, which was not given. teams is the teams, comma-separated: ...'
    (`unusable`: each argument's name and description)."""
    blank = [name in given for name, _ in unusable]
    how = "left blank" if all(blank) else "not given" if not any(blank) else "not given or left blank"
    names = " and ".join(name for name, _ in unusable)
    said = [f"The {prompt} prompt needs {names}, which {'were' if len(unusable) > 1 else 'was'} {how}."]
    for name, description in unusable:
        what = (description or "required").rstrip(".")
        said.append(f"{name} is {what[:1].lower()}{what[1:]}.")
    return " ".join(said)


def security_review() -> str:
    """Review the organization's security: admins and owners without 2FA, locked accounts, pending invitations."""
    return (
        "Review the security of our Toggl Focus organization and tell me what needs action.\n"
        "1. The overview, in one call: list_users with count_only=true (totals by status, admins, owners, "
        "2FA on and off, people in no team), well under 2 KB.\n"
        "2. Admins and owners without two-factor authentication: list_users with only_admins=true, "
        'two_factor=false, all_pages=true and fields=["email", "flags"] (owners carry the `owner` flag).\n'
        "3. Locked accounts and pending invitations, in one call: list_users with "
        'status=["locked", "invited"], all_pages=true and fields=["email", "flags"]. Say since when each '
        "account is locked, and who was invited but never joined.\n"
        '4. Inactive people still in teams: list_users with status=["inactive"], has_group=true and '
        'fields=["email", "teams"].\n'
        "5. Only if the findings call for it, list_roles: which roles carry permissions over users or groups.\n"
        "Report one short table per finding (name, email, what is wrong, the fix you suggest), the count of "
        "each, and what you did not check. Change nothing: this review only reads. " + CHEAP
    )


def team_health_check(team: Team) -> str:
    """Check one team: its members' roles and status, ghosts, members outside its workspaces."""
    return (
        f"Check the health of the team {team!r} in our Toggl Focus organization.\n"
        f"1. Find it: list_teams with filter={team!r} and all_workspaces=true (or group_ids=[id] if it is an "
        "id). If several teams match, ask me which; if none does, list the closest names and stop.\n"
        "2. From that answer: how many members, their roles (who manages the team; a team without a manager "
        "is a finding), the ghosts the API lists, and the team's workspaces.\n"
        "3. The members' status in one call: list_users with org_user_ids=[the members' ids] and "
        'fields=["email", "flags", "workspaces"]. Findings: '
        "inactive or locked members, invitations never accepted (not-joined), members in none of the team's "
        "workspaces.\n"
        "Report the team in a few lines, then each finding with the fix you suggest (for example update_group "
        "with remove_users, or set_group_member_role). Ask me before changing anything. " + CHEAP
    )


def onboard_person(person: Person, teams: Teams, read_only: bool, one_call: bool = False) -> str:
    steps = (
        "3. " + READ_ONLY_STOP
        if read_only
        else "3. update_user_groups with user=<the person's id>, add_to=[<the teams' ids>] and dry_run=true: show "
        "me the plan, its cost and its warnings (a member in none of a team's workspaces, an invitation not yet "
        "accepted) and wait for my yes.\n"
        "4. Then the same call without dry_run: one change, one undo_change if I change my mind. " + WRITES
        if one_call
        else "3. For each team, update_group with group_id=<the team's name or id>, add_users=[<the person's "
        "id>] and dry_run=true: show me the plans and their warnings (a member in none of the team's "
        "workspaces, an invitation not yet accepted) and wait for my yes.\n"
        "4. Then the same calls without dry_run, one per team. " + WRITES
    )
    return (
        f"Onboard {person!r} into these teams: {teams}.\n"
        f"1. Find the person: list_users with filter={person!r}. If no one or several people match, show "
        "the candidates and ask me; note whether they have joined and their workspaces.\n"
        "2. Find the teams in one call: list_teams with all_workspaces=true lists every team with its members; "
        "skip teams the person is already in, and ask me about a name that matches no team or several.\n"
        f"{steps}\n"
        "Finish with one line per team: added, already a member, or not done and why. " + CHEAP
    )


def offboard_person(person: Person, read_only: bool, one_call: bool = False) -> str:
    steps = (
        "3. " + READ_ONLY_STOP
        if read_only
        else '3. update_user_groups with user=<their id>, remove_from="all" and dry_run=true: show me every team '
        "it names and wait for my yes. A team left empty is worth a word; do not delete it unless I ask.\n"
        "4. Then the same call without dry_run: one change, one undo_change if I change my mind. " + WRITES
        if one_call
        else "3. For each team, update_group with group_id=<the team's id>, remove_users=[<the person's id>] "
        "and dry_run=true: show me the plans and wait for my yes. A team left empty is worth a word; do not "
        "delete it unless I ask.\n"
        "4. Then the same calls without dry_run. " + WRITES
    )
    return (
        f"Offboard {person!r} from every team in our Toggl Focus organization.\n"
        f"1. Find the person: list_users with filter={person!r}. If no one or several people match, show "
        "the candidates and ask me.\n"
        "2. Their teams: list_teams with all_workspaces=true and organization_user_id=<their id>.\n"
        f"{steps}\n"
        + ("Finish with the teams they are in, each to be left" if read_only else "Finish with the teams they left")
        + ", and say that their account itself is untouched (this server edits teams, not accounts). "
        + CHEAP
    )


def add_prompts(server: MCPServer[AppState], settings: Settings) -> None:
    """Register the workflows; their wording follows read-only mode and the sandbox."""
    note = SANDBOX_NOTE if settings.sandbox else ""
    read_only = settings.read_only
    # One person across teams in one call, where the server offers update_user_groups.
    one_call = any(spec.name == "update_user_groups" for spec in tool_specs(settings))

    async def security_review_prompt() -> UserMessage:
        return UserMessage(security_review() + note)

    async def team_health_check_prompt(team: Team) -> UserMessage:
        return UserMessage(team_health_check(team) + note)

    async def onboard_person_prompt(person: Person, teams: Teams) -> UserMessage:
        return UserMessage(onboard_person(person, teams, read_only, one_call) + note)

    async def offboard_person_prompt(person: Person) -> UserMessage:
        return UserMessage(offboard_person(person, read_only, one_call) + note)

    edits = " (read-only: the plan only)" if read_only else ", dry run first, then on your yes"
    for fn, name, title, description in (
        (security_review_prompt, "security_review", "Security review", security_review.__doc__),
        (team_health_check_prompt, "team_health_check", "Team health check", team_health_check.__doc__),
        (
            onboard_person_prompt,
            "onboard_person",
            "Onboard a person into teams",
            "Add a person to one or more teams" + edits + ".",
        ),
        (
            offboard_person_prompt,
            "offboard_person",
            "Offboard a person from their teams",
            "Remove a person from every team they are in" + edits + ".",
        ),
    ):
        server.add_prompt(Workflow.from_function(fn, name=name, title=title, description=description))
