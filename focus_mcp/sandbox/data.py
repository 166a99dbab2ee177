"""The sandbox organization's seed: a believable company, generated the same way every time."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

ORGANIZATION_ID = 4_200_001
CREATED = "2025-03-03T09:00:00Z"

FIRST = [
    "Ana",
    "Bo",
    "Cleo",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amir",
    "Bianca",
    "Carlos",
    "Daria",
    "Emil",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Oscar",
    "Priya",
    "Rafael",
    "Sofia",
    "Tomas",
    "Ulla",
    "Viktor",
    "Wanda",
    "Yusuf",
    "Zara",
]
LAST = [
    "Silva",
    "Chen",
    "Park",
    "Novak",
    "Rossi",
    "Haddad",
    "Kim",
    "Laurent",
    "Moreau",
    "Berg",
    "Tanaka",
    "Murphy",
    "Patel",
    "Weber",
    "Ivanova",
    "Horvat",
    "Okafor",
    "Garcia",
    "Nakamura",
    "Schmidt",
    "Costa",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Dubois",
    "Mendes",
    "Fischer",
    "Sato",
    "Romero",
    "Nilsen",
    "Brennan",
    "Acheampong",
    "Varga",
    "Petrov",
    "Larsen",
    "Yilmaz",
    "Moretti",
    "Santos",
    "Keller",
    "Andersen",
]

WORKSPACES = {
    4_300_001: "Brightwave HQ",
    4_300_002: "Client Projects",
    4_300_003: "Product Lab",
    4_300_004: "Operations",
}

TAGS = [  # id, label, color
    (4_400_001, "Remote", "#1f77b4"),
    (4_400_002, "Contractor", "#ff7f0e"),
    (4_400_003, "Part-time", "#2ca02c"),
    (4_400_004, "Team lead", "#d62728"),
    (4_400_005, "New hire", "#9467bd"),
    (4_400_006, "On leave", "#8c564b"),
]

TEAMS = [  # name, emoji, workspace ids, member count, ghost names
    ("Design", "🎨", [4_300_001, 4_300_003], 9, ["Future senior designer"]),
    ("Frontend", "🖥️", [4_300_003], 11, []),
    ("Backend", "⚙️", [4_300_003], 12, ["Contract DBA"]),
    ("Mobile", "📱", [4_300_003], 7, []),
    ("QA", "🧪", [4_300_003], 5, []),
    ("Data", "📊", [4_300_001, 4_300_003], 6, ["Data intern (autumn)"]),
    ("Platform", "🛠️", [4_300_003, 4_300_004], 6, []),
    ("Security", "🔒", [4_300_004], 4, []),
    ("Support", "🎧", [4_300_001], 10, ["Weekend cover", "Holiday cover"]),
    ("Sales", "💼", [4_300_001, 4_300_002], 9, []),
    ("Marketing", "📣", [4_300_001], 8, []),
    ("Finance", "💶", [4_300_004], 5, []),
    ("People", "🤝", [4_300_004], 4, ["Recruiter (agency)"]),
    ("Legal", "⚖️", [4_300_004], 3, []),
    ("Client Alpha", "🅰️", [4_300_002], 8, []),
    ("Client Beta", "🅱️", [4_300_002], 7, ["Client-side PM"]),
    ("Client Gamma", "🟢", [4_300_002], 6, []),
    ("Leadership", "🧭", [4_300_001, 4_300_002, 4_300_003, 4_300_004], 6, []),
    ("Onboarding", "🌱", [4_300_001], 0, []),
    ("Hackathon 2026", "🏁", [4_300_003], 5, []),
]

PERMISSIONS = {  # name: (entity, description)
    "manage_organization": ("organization", "Edit organization settings and billing"),
    "manage_users": ("organization", "Invite, deactivate and edit members"),
    "manage_user_groups": ("workspace", "Create, edit and delete teams"),
    "view_user_groups": ("workspace", "See teams and their members"),
    "manage_team_reports": ("workspace", "See reports and member tags of the team"),
    "view_reports": ("workspace", "See reports"),
    "manage_projects": ("workspace", "Create and edit projects"),
    "track_time": ("workspace", "Track own time"),
    "view_team_focus": ("group", "See the team's focus time"),
    "manage_team_focus": ("group", "Set the team's focus goals"),
}

ROLES = [  # id, name, code, type, entity, level, require_group, permission names
    (1, "Owner", "owner", "owner", "organization", 100, False, list(PERMISSIONS)),
    (2, "Admin", "admin", "admin", "organization", 80, False, [p for p in PERMISSIONS if p != "manage_organization"]),
    (
        3,
        "Workspace admin",
        "workspace_admin",
        "admin",
        "workspace",
        70,
        False,
        [
            "manage_user_groups",
            "view_user_groups",
            "manage_team_reports",
            "view_reports",
            "manage_projects",
            "track_time",
        ],
    ),
    (
        4,
        "Team manager",
        "team_manager",
        "manager",
        "group",
        50,
        True,
        ["view_user_groups", "manage_team_reports", "view_team_focus", "manage_team_focus", "track_time"],
    ),
    (5, "Member", "member", "guest", "workspace", 20, False, ["view_user_groups", "track_time"]),
    (6, "Team viewer", "team_viewer", "guest", "group", 10, True, ["view_team_focus"]),
]


@dataclass
class SeedUser:
    id: int
    account_id: int
    name: str
    email: str
    owner: bool = False
    admin: bool = False
    active: bool = True
    joined: bool = True
    invite_sent: bool = False
    two_factor: bool = False
    locked: bool = False
    workspaces: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    working_hours: float = 8.0
    hourly_rate: float = 0.0
    currency: str = "EUR"
    created_at: str = CREATED


@dataclass
class SeedGroup:
    id: int
    name: str
    emoji: str
    workspaces: list[int]
    users: list[int]
    ghosts: list[tuple[int, str]]
    roles: dict[int, int | None] = field(default_factory=dict)  # organization user id -> focus role id
    created_at: str = CREATED
    updated_at: str = CREATED


def seed_users(count: int = 150) -> list[SeedUser]:
    rng = random.Random(20261127)
    pairs = [(f, last) for f in FIRST for last in LAST]
    rng.shuffle(pairs)
    users = []
    for n, (first, last) in enumerate(pairs[:count]):
        uid = 4_100_001 + n
        user = SeedUser(
            id=uid,
            account_id=9_100_001 + n,
            name=f"{first} {last}",
            email=f"{first.lower()}.{last.lower()}@brightwave.example",
            two_factor=rng.random() < 0.55,
            working_hours=rng.choice([8.0, 8.0, 8.0, 7.5, 6.0, 4.0]),
            hourly_rate=float(rng.choice([45, 55, 60, 70, 85, 95, 120])),
            workspaces=sorted(rng.sample(list(WORKSPACES), k=rng.choice([1, 1, 2, 2, 3]))),
            tags=sorted(t[0] for t in rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2]))),
            created_at=f"2025-{rng.randint(3, 12):02d}-{rng.randint(1, 28):02d}T09:00:00Z",
        )
        users.append(user)
    users[0].owner = users[0].admin = users[0].two_factor = True
    users[1].owner = users[1].admin = True
    for u in users[2:9]:
        u.admin = True
    users[4].two_factor = users[7].two_factor = False  # admins without 2FA, for the obvious question
    for u in users[-12:-4]:
        u.active = False
    for u in users[-4:]:
        u.joined, u.invite_sent, u.two_factor = False, True, False
    users[-13].locked = True
    users[0].workspaces = list(WORKSPACES)
    return users


def seed_groups(users: list[SeedUser]) -> list[SeedGroup]:
    rng = random.Random(42)
    member_pool = [u.id for u in users if u.joined][2:]
    groups = []
    ghost_id = 4_600_001
    for n, (name, emoji, workspaces, size, ghost_names) in enumerate(TEAMS):
        members = sorted(rng.sample(member_pool[:120], k=size))
        ghosts = []
        for ghost in ghost_names:
            ghosts.append((ghost_id, ghost))
            ghost_id += 1
        group = SeedGroup(id=4_500_001 + n, name=name, emoji=emoji, workspaces=workspaces, users=members, ghosts=ghosts)
        group.roles = {uid: (4 if i == 0 else 5) for i, uid in enumerate(members)}
        groups.append(group)
    owner = users[0].id
    for g in groups:
        if g.name in ("Leadership", "Design", "Support") and owner not in g.users:
            g.users.append(owner)
            g.roles[owner] = 4
    return groups


def role_json(role: tuple[Any, ...]) -> dict[str, Any]:
    """A role as GET roles answers it."""
    rid, name, code, kind, entity, level, require_group, perms = role
    names = list(PERMISSIONS)
    return {
        "role_id": rid,
        "name": name,
        "code": code,
        "type": kind,
        "entity": entity,
        "privilege_level": level,
        "description": f"{name} of the organization's {entity}s",
        "require_group": require_group,
        "default_for_levels": ["workspace"] if code == "member" else [],
        "organization_id": ORGANIZATION_ID,
        "permissions": [
            {
                "permission_id": names.index(p) + 1,
                "name": p,
                "description": PERMISSIONS[p][1],
                "entity": PERMISSIONS[p][0],
                "category_id": 1 if PERMISSIONS[p][0] == "organization" else 2,
                "category_name": PERMISSIONS[p][0].title(),
                "condition": "",
            }
            for p in perms
        ],
    }


def tag_json(tag: tuple[int, str, str], full: bool = False) -> dict[str, Any]:
    """A tag as a user carries it, or (full) as GET member-tags answers it."""
    data: dict[str, Any] = {"id": tag[0], "label": tag[1], "color": tag[2]}
    if full:
        data |= {"organization_id": ORGANIZATION_ID, "created_at": CREATED, "updated_at": CREATED}
    return data


# One custom field, "Level", a select with three options; each user has one. cf_filter entries are
# "fieldID:value", the value an option's id or name. The spec says a too-broad cf_filter is refused
# with 422 without saying where "too broad" starts: the sandbox's line is here.
LEVEL_FIELD = (7, "Level")
LEVELS = {71: "Junior", 72: "Mid", 73: "Senior"}
CF_FILTER_MAX_MATCHES = 25  # Operations has 28 Seniors: "7:Senior" there is too broad


def level_of(user: SeedUser) -> int:
    return list(LEVELS)[user.id % len(LEVELS)]


def custom_field_json(user: SeedUser) -> dict[str, Any]:
    option = level_of(user)
    return {
        "custom_field_id": LEVEL_FIELD[0],
        "custom_field_name": LEVEL_FIELD[1],
        "field_type": "select",
        "selected_options": [{"option_id": option, "option_name": LEVELS[option], "is_deleted": False}],
        "value": LEVELS[option],
    }


def custom_field_matches(user: SeedUser, entry: str) -> bool:
    field, _, value = entry.partition(":")
    option = level_of(user)
    return field == str(LEVEL_FIELD[0]) and value.casefold() in (str(option), LEVELS[option].casefold())
