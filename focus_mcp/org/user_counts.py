"""list_users count_only: the numbers a question about the members asks for, instead of their lines.

Counted over every member the filters keep, in the organization snapshot, so that "how many admins have 2FA off"
is one call and a few hundred bytes, not 150 lines to count by hand.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable

from pydantic import BaseModel, Field

from focus_mcp.org.model import Member, Names
from focus_mcp.render.lines import counted
from focus_mcp.toolkit.base import Ref

# Each list of counts shows its largest entries; an organization with more workspaces or tags than this
# is told how many more there are (and can count one of them by filtering).
MAX_COUNTED_REFS = 30

STATUS_OF: dict[str, Callable[[Member], bool]] = {
    "active": lambda u: u.active and u.joined,
    "inactive": lambda u: not u.active,
    "invited": lambda u: u.invite_sent and not u.joined,
    "locked": lambda u: bool(u.locked_at),
}


class Counted(Ref):
    users: int


class Spread(BaseModel):
    """How a number is spread over the users who have it (no unit: neither Toggl source gives one)."""

    users: int
    low: float
    median: float
    high: float
    mean: float
    currency: str | None = None


def spread(values: list[float], currency: str | None = None) -> Spread:
    return Spread(
        users=len(values),
        low=min(values),
        median=statistics.median(values),
        high=max(values),
        mean=round(statistics.fmean(values), 2),
        currency=currency,
    )


class UserCounts(BaseModel):
    total: int
    active: int = Field(description="Active and joined.")
    inactive: int
    invited: int = Field(description="Invited, not joined yet.")
    locked: int
    admins: int
    owners: int
    two_factor_on: int
    two_factor_off: int
    two_factor_off_active: int = Field(description="Active (and joined) users with 2FA off.")
    two_factor_off_admins: int = Field(description="Admins with 2FA off.")
    in_no_team: int
    people_by_team_count: list[int] = Field(description="Item i: how many users are in exactly i teams.")
    workspaces: list[Counted] = Field(description="Users per workspace, most first.")
    tags: list[Counted] = Field(description="Users per member tag, most first.")
    untagged: int
    more_workspaces: int = Field(default=0, description="Workspaces beyond those listed.")
    more_tags: int = Field(default=0, description="Tags beyond those listed.")
    hourly_rates: list[Spread] = Field(default_factory=list, description="Rates set, per currency.")
    working_hours: Spread | None = Field(default=None, description="Working hours set (no zero).")


def _most_first(counter: Counter[int], names: dict[int, str]) -> tuple[list[Counted], int]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], names.get(item[0], ""), item[0]))
    shown = [Counted(id=i, name=names.get(i, ""), users=n) for i, n in ranked[:MAX_COUNTED_REFS]]
    return shown, max(0, len(ranked) - MAX_COUNTED_REFS)


def count_users(users: Iterable[Member], names: Names) -> UserCounts:
    users = list(users)
    workspaces: Counter[int] = Counter()
    tags: Counter[int] = Counter()
    teams_held: Counter[int] = Counter()
    for user in users:
        workspaces.update(user.workspaces)
        tags.update(user.tags)
        teams_held[len(user.groups)] += 1
    per_workspace, more_workspaces = _most_first(workspaces, names.workspaces)
    per_tag, more_tags = _most_first(tags, {i: label for i, (label, _) in names.tags.items()})
    on = sum(1 for u in users if u.two_factor)
    return UserCounts(
        total=len(users),
        **{status: sum(1 for u in users if test(u)) for status, test in STATUS_OF.items()},
        admins=sum(1 for u in users if u.admin),
        owners=sum(1 for u in users if u.owner),
        two_factor_on=on,
        two_factor_off=len(users) - on,
        two_factor_off_active=sum(1 for u in users if STATUS_OF["active"](u) and not u.two_factor),
        two_factor_off_admins=sum(1 for u in users if u.admin and not u.two_factor),
        in_no_team=teams_held[0],
        people_by_team_count=[teams_held[n] for n in range(max(teams_held, default=-1) + 1)],
        workspaces=per_workspace,
        tags=per_tag,
        untagged=sum(1 for u in users if not u.tags),
        more_workspaces=more_workspaces,
        more_tags=more_tags,
        hourly_rates=_rates(users),
        working_hours=spread(hours) if (hours := [u.working_hours for u in users if u.working_hours]) else None,
    )


def _rates(users: list[Member]) -> list[Spread]:
    """The hourly rates set (a zero is none), one spread a currency, the most used first."""
    by_currency: dict[str, list[float]] = {}
    for user in users:
        if user.rate:
            by_currency.setdefault(user.currency or "", []).append(user.rate)
    ranked = sorted(by_currency.items(), key=lambda item: (-len(item[1]), item[0]))
    return [spread(values, currency or None) for currency, values in ranked]


def _spread_text(s: Spread) -> str:
    unit = f" {s.currency}" if s.currency else ""
    return f"{s.users} set, {s.low:g}-{s.high:g}{unit}, median {s.median:g}, mean {s.mean:g}"


def _counted(refs: list[Counted], more: int) -> str:
    text = ", ".join(f"{r.name}#{r.id} {r.users}" for r in refs) or "none"
    return text + (f", and {more} more" if more else "")


def counts_lines(counts: UserCounts) -> list[str]:
    c = counts
    teams = ", ".join(f"{n}:{people}" for n, people in enumerate(c.people_by_team_count) if people)
    return [
        f"status: {c.active} active, {c.inactive} inactive, {c.invited} invited, {c.locked} locked",
        f"{counted(c.admins, 'admin')}, {counted(c.owners, 'owner')} | 2FA on {c.two_factor_on}, off "
        f"{c.two_factor_off} (of them {c.two_factor_off_active} active, {counted(c.two_factor_off_admins, 'admin')}) "
        f"| in no team {c.in_no_team}",
        f"people by number of teams (teams:people): {teams or 'none'}",
        f"per workspace: {_counted(c.workspaces, c.more_workspaces)}",
        f"per tag: {_counted(c.tags, c.more_tags)} | untagged {c.untagged}",
        *(["hourly rates: " + "; ".join(_spread_text(r) for r in c.hourly_rates)] if c.hourly_rates else []),
        *([f"working hours: {_spread_text(c.working_hours)}"] if c.working_hours else []),
    ]
