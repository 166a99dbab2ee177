"""Pydantic models of the Toggl Focus organization API: request bodies, query parameters, responses.

Field names are the API's own (see tests/spec/organization.swagger.json). Response models accept what they do
not know (`extra="allow"`), so that nothing the API sends is lost; request and query models refuse
it, so that a typo never silently drops a filter.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator

# The largest integer that every JSON client holds exactly: I-JSON (RFC 7493, section 2.2), the JSON
# profile for interoperable messages, allows no integer beyond it. The schema states `minimum: 1` and
# not this bound, which JSON itself sets (docs/architecture.md, "What the schema says").
MAX_ID = 2**53 - 1
ID_DIGITS = len(str(MAX_ID))


def _as_id(value: object) -> int:
    """An id whatever its JSON type: 5, 5.0 or "5" (ASCII digits only: Arabic-Indic or fullwidth digits are no id);
    `true` is not id 1, and 0 or an id past 2^53 is refused before it costs a request."""
    if isinstance(value, str):
        digits = value.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(f"must be an id (digits 0-9, from 1 to {MAX_ID}), not {value[:40]!r}")
        if len(digits.lstrip("0")) > ID_DIGITS:
            raise ValueError(f"must be an id from 1 to {MAX_ID}; {digits[:12]}... has {len(digits)} digits")
        value = int(digits)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an id: a whole number from 1 to {MAX_ID}")
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"must be an id from 1 to {MAX_ID}, not {value if abs(value) < 10**20 else 'that'}")
    return value


def _as_id_or_name(value: object) -> int | str:
    """A valid id (see _as_id) is an id; any other text is a name, found or refused by its caller."""
    try:
        return _as_id(value)
    except ValueError:
        if not isinstance(value, str):
            raise ValueError(f"must be an id (a whole number from 1 to {MAX_ID}) or a name") from None
    if not value.strip():
        raise ValueError("must be an id or a name, not blank")
    return value


# The schema says integer (what a client should send); a string of digits is read as the id too.
Id = Annotated[int, PlainValidator(_as_id, json_schema_input_type=Annotated[int, Field(ge=1)])]
IdOrName = Annotated[
    int | str,
    PlainValidator(
        _as_id_or_name,
        json_schema_input_type=Annotated[int, Field(ge=1)] | Annotated[str, Field(min_length=1)],
    ),
]
IdList = list[Id]
# A filter of ids: an empty one would be sent as no filter at all and match everyone, so it is refused.
IdFilter = Annotated[list[Id], Field(min_length=1)]
SortDir = Literal["asc", "desc"]
PerPage = Annotated[int, Field(strict=True, ge=1, le=100)]
Page = Annotated[int, Field(strict=True, ge=1)]
SearchText = Annotated[str, Field(min_length=1)]
Word = Annotated[str, Field(pattern=r"^[^,]+$")]  # not empty, no comma: arrays travel comma-joined


def _no_comma(value: str) -> str:
    if "," in value:
        raise ValueError("a value with a comma cannot be sent: the API reads each comma as the start of another filter")
    return value


CustomFieldFilter = Annotated[str, Field(pattern=r"^\d+:.+$"), AfterValidator(_no_comma)]
Words = Annotated[list[Word], Field(min_length=1)]


class Request(BaseModel):
    """Base of what we send: unknown fields are an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    """Base of what we read: tolerant of missing and extra fields."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- request bodies ---------------------------------------------------------------------------


class GroupRequest(Request):
    """Body of POST groups and PUT groups/{group_id}: the API needs all four fields."""

    name: Annotated[str, Field(min_length=1)]
    emoji: str = ""
    organization_users: list[Id] = Field(default_factory=list)
    workspaces: list[Id] = Field(default_factory=list)


class GroupUserRoleRequest(Request):
    """Body of PUT groups/{group_id}/user_role; a null focus_role_id clears the role."""

    focus_role_id: Id | None
    organization_user_id: Id
    workspace_id: Id


# --- query parameters -------------------------------------------------------------------------


class TeamsFilters(Request):
    """The filters of GET teams that the tools offer the model (workspace_id is passed separately:
    the API requires it)."""

    filter: SearchText | None = Field(default=None, description="In the team name.")
    organization_user_id: Id | None = Field(default=None, description="Teams with this member.")
    group_ids: IdFilter | None = None


class TeamsQuery(TeamsFilters):
    """Every query parameter of GET teams. The tools read every page themselves, and leave out
    `query` (a team's or a member's name: what `filter` and the users' teams say) and what the spec
    does not explain (what active_members_only keeps, what sort_dir orders by): docs/architecture.md,
    "What the tools offer of the API"."""

    page: Page | None = None
    per_page: PerPage | None = None
    query: SearchText | None = None
    active_members_only: bool | None = None
    sort_dir: SortDir | None = None


class UsersFilters(Request):
    """The filters of GET users that the tools offer the model, all optional; arrays go on the wire
    comma-separated."""

    filter: SearchText | None = Field(default=None, description="In name or email.")
    only_admins: bool | None = None
    has_group: bool | None = None  # false: in no team (the server's instructions say so)
    groups: IdFilter | None = None
    workspaces: IdFilter | None = None
    roles: IdFilter | None = None
    tag_ids: IdFilter | None = None
    toggl_products: Words | None = Field(default=None, description='e.g. ["focus"].')
    org_user_ids: IdFilter | None = None
    page: Page | None = None
    per_page: PerPage | None = None


class UsersQuery(UsersFilters):
    """Every query parameter of GET users. The tools say some in their own words (a status filter for
    active_status, columns for the three includes) and leave out those that need ids the answers
    never show (user account ids, custom field ids) or say nothing a model needs (pinning, order):
    docs/architecture.md, "What the tools offer of the API"."""

    active_status: Words | None = None
    user_account_ids: IdFilter | None = None
    pinned_ids: IdFilter | None = None
    cf_filter: Annotated[list[CustomFieldFilter], Field(min_length=1)] | None = None  # "fieldID:value", ANDed
    include_working_hours: bool | None = None
    include_rates: bool | None = None
    include_custom_fields: bool | None = None  # needs exactly one workspace in `workspaces`
    sort_dir: SortDir | None = None


def query_params(query: BaseModel | None = None, **extra: Any) -> dict[str, str]:
    """Wire form of query parameters: unset ones dropped, arrays comma-joined, booleans lower-case."""
    values: dict[str, Any] = dict(query.model_dump(exclude_none=True)) if query is not None else {}
    values.update({k: v for k, v in extra.items() if v is not None})
    params: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, list):
            if value:
                params[key] = ",".join(str(item) for item in value)
        elif isinstance(value, bool):
            params[key] = "true" if value else "false"
        else:
            params[key] = str(value)
    return params


# --- responses --------------------------------------------------------------------------------


class GroupMember(Response):
    organization_user_id: int
    display_name: str = ""
    user_account_id: int | None = None
    user_group_id: int | None = None
    focus_role_id: int | None = None
    track_role_id: int | None = None
    work_role_id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None


class GroupWorkspace(Response):
    workspace_id: int
    name: str = ""
    focus_role_id: int | None = None
    products: list[str] | None = None
    workspace_group_id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None


class Ghost(Response):
    """A placeholder member without an account."""

    id: int
    name: str = ""


class Group(Response):
    """orgprivate.Group: a team with its members, workspaces and ghosts."""

    id: int
    name: str = ""
    emoji: str = ""
    organization_id: int | None = None
    users: list[GroupMember] = Field(default_factory=list)
    workspaces: list[GroupWorkspace] = Field(default_factory=list)
    ghosts: list[Ghost] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None


class TeamsPage(Response):
    data: list[Group] = Field(default_factory=list)
    page: int = 1
    rows: int = 0
    total: int = 0


class UserGroupInfo(Response):
    id: int
    name: str = ""
    emoji: str = ""


class Permission(Response):
    permission_id: int | None = None
    name: str = ""
    description: str = ""
    entity: str | None = None
    condition: str | None = None
    category_id: int | None = None
    category_name: str | None = None


class Role(Response):
    role_id: int
    name: str = ""
    code: str = ""
    type: str | None = None
    entity: str | None = None
    privilege_level: int | None = None
    description: str = ""
    require_group: bool = False
    default_for_levels: list[str] | None = None
    organization_id: int | None = None
    permissions: list[Permission] = Field(default_factory=list)


class MemberTag(Response):
    id: int
    label: str = ""
    color: str = ""
    organization_id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class UserTag(Response):
    id: int
    label: str = ""
    color: str = ""


class UserGroup(Response):
    id: int
    name: str = ""
    emoji: str = ""
    workspace_ids: list[int] = Field(default_factory=list)


class UserWorkspaceGroup(Response):
    id: int
    name: str = ""
    emoji: str = ""


class UserWorkspace(Response):
    id: int
    name: str = ""
    workspace_user_id: int | None = None
    focus_role_id: int | None = None
    track_role_id: int | None = None
    work_role_id: int | None = None
    toggl_products: list[str] | None = None
    groups: list[UserWorkspaceGroup] | None = None


class Rate(Response):
    hourly_rate: float | None = None
    currency: str | None = None
    workspace_id: int | None = None
    start_at: str | None = None
    end_at: str | None = None
    workspace_rate_id: int | None = None
    workspace_user_rate_id: int | None = None


class OrganizationUser(Response):
    id: int
    name: str = ""
    email: str = ""
    user_id: str | None = None
    user_account_id: int | None = None
    organization_id: int | None = None
    owner: bool = False
    admin: bool = False
    active: bool = True
    joined: bool = True
    invite_sent: bool = False
    two_factor_enabled: bool = Field(default=False, alias="2fa_enabled")
    account_locked_at: str | None = None
    can_edit_personal_details: bool | None = None
    groups: list[UserGroup] | None = None
    workspaces: list[UserWorkspace] | None = None
    tags: list[UserTag] | None = None
    working_hours: float | None = None
    rate: Rate | None = None
    permissions: dict[str, Any] | None = None
    custom_field_values: list[dict[str, Any]] | None = None
    created_at: str | None = None
    updated_at: str | None = None
    deleted_at: str | None = None
