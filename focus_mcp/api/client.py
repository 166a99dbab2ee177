"""FocusClient: the only code that speaks HTTP to the Toggl Focus API.

It returns pydantic models and raises `errors.FocusError` subclasses; it knows nothing of MCP.
One `httpx2.AsyncClient` serves the life of the client, so connections are reused.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

import anyio
import httpx2

from focus_mcp import __version__
from focus_mcp.api import redaction
from focus_mcp.api.auth import auth_for, credential, credentials_in_use
from focus_mcp.api.cache import Key, SingleFlight, TTLCache, cache_key
from focus_mcp.api.errors import (
    APIError,
    InvalidResponseError,
    NotConfiguredError,
    NotFoundError,
    RequestInfo,
    RequestTooLongError,
    ServerError,
)
from focus_mcp.api.models import (
    Group,
    GroupRequest,
    GroupUserRoleRequest,
    MemberTag,
    OrganizationUser,
    Role,
    TeamsPage,
    TeamsQuery,
    UserGroupInfo,
    UsersQuery,
    query_params,
)
from focus_mcp.api.parse import confirms_success, parse, written_answer
from focus_mcp.api.quota import Quota
from focus_mcp.api.retry import RetryPolicy
from focus_mcp.api.sending import Sender
from focus_mcp.api.urls import path_id
from focus_mcp.config import Settings

if TYPE_CHECKING:  # api.shared imports redis (~50 ms of every start): loaded only when Redis is configured
    from focus_mcp.api.shared import SharedState

log = logging.getLogger(__name__)

T = TypeVar("T")

# Roles and member tags change rarely: they are kept this many times longer than the rest.
SLOW_CHANGING = frozenset({"roles", "member-tags"})
SLOW_DATA_FACTOR = 10
CHANGED_BY_GROUP_WRITES = frozenset({"teams", "groups/me", "users"})

NO_CREDENTIALS = (
    "No Toggl Focus credentials are configured: set TOGGL_FOCUS_API_KEY (or TOGGL_FOCUS_EMAIL and "
    "TOGGL_FOCUS_PASSWORD) in the server's environment and restart it, or start it with --sandbox "
    "to try the embedded sandbox organization. As a Claude Desktop extension: fill in its API key, or "
    "turn on its Sandbox option."
)


class WriteObserver(Protocol):
    """What learns of group writes from the client itself (the organization snapshot): each confirmed
    result, a group read now, and a write whose outcome is unknown."""

    async def group_written(self, organization_id: int, group: Group) -> None: ...
    async def group_deleted(self, organization_id: int, group_id: int) -> None: ...
    async def role_set(self, organization_id: int, group_id: int, user_id: int, role_id: int | None) -> None: ...
    async def groups_read(
        self, organization_id: int, workspace_id: int, asked: list[int], found: list[Group]
    ) -> None: ...
    async def outcome_unknown(self, organization_id: int) -> None: ...


# How a GET is read: through the caches, now (not from a cache nor a read already under way), or now
# and kept nowhere (the caller, the snapshot, keeps what it reads).
Reading = Literal["cached", "fresh", "unkept"]


def reading(fresh: bool, keep: bool = True) -> Reading:
    return "unkept" if not keep else "fresh" if fresh else "cached"


class FocusClient:
    """Async client of the organization endpoints. Use as `async with FocusClient(settings) as c`."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx2.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        # From now on no text of this process (errors, answers, log lines) shows what it sends.
        redaction.register(credentials_in_use(settings))
        self.settings = settings
        self.quota = Quota()
        self.cache = TTLCache()
        # The most users the API has served in one page so far: a page shorter than that was its last
        # (neither Toggl source gives a page cap, so none is assumed before one is seen).
        self.longest_users_page = 0
        self._flights: SingleFlight[Any] = SingleFlight()
        self.base_url = settings.base_url.rstrip("/")
        self._auth = auth_for(settings)
        self.shared: SharedState | None = None
        if settings.redis_url is not None:
            from focus_mcp.api.shared import SharedState, identity

            who = identity(self.base_url, credential(settings))
            self.shared = SharedState(settings.redis_url.get_secret_value(), who)
        self._http = httpx2.AsyncClient(  # requests carry absolute URLs
            timeout=settings.timeout,
            transport=transport,
            headers={"User-Agent": f"focus-mcp/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        self._sender = Sender(settings, self._http, self._auth, self.quota, self.shared, retry_policy or RetryPolicy())
        # Told of every group write's confirmed result, or that its outcome is unknown (the snapshot).
        self.write_observers: list[WriteObserver] = []

    async def __aenter__(self) -> FocusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self.shared is not None:
            await self.shared.aclose()

    async def refresh_quota(self) -> None:
        """Adopt the quota view another replica published, if newer (with Redis only)."""
        if self.shared is not None and (told := await self.shared.read_quota()) is not None:
            self.quota.adopt(*told)

    # --- the endpoints ------------------------------------------------------------------------

    async def create_group(self, organization_id: int, body: GroupRequest) -> Group:
        async with self._observed(organization_id):
            data = await self._call("POST", "groups", organization_id, payload=body.model_dump())
            group = cast("Group", parse(Group, data, "POST", "groups"))
        for observer in self.write_observers:
            await observer.group_written(organization_id, group)
        return group

    async def list_my_groups(self, organization_id: int, fresh: bool = False) -> list[UserGroupInfo]:
        data = await self._call("GET", "groups/me", organization_id, read=reading(fresh))
        return cast("list[UserGroupInfo]", parse(list[UserGroupInfo], data, "GET", "groups/me"))

    async def update_group(self, organization_id: int, group_id: int, body: GroupRequest) -> Group:
        async with self._observed(organization_id):
            data = await self._call(
                "PUT", "groups/{group_id}", organization_id, ids={"group_id": group_id}, payload=body.model_dump()
            )
            group = cast("Group", parse(Group, data, "PUT", "groups/{group_id}"))
        for observer in self.write_observers:
            await observer.group_written(organization_id, group)
        return group

    async def delete_group(self, organization_id: int, group_id: int, workspace_id: int) -> dict[str, Any]:
        """DELETE the group. A 404 to a retry, after an attempt that may have reached the API, means
        that attempt deleted it: the answer is then `{"deleted_by_earlier_attempt": true}`."""
        try:
            async with self._observed(organization_id):
                data = await self._call(
                    "DELETE",
                    "groups/{group_id}",
                    organization_id,
                    query={"workspace_id": str(path_id(workspace_id))},
                    ids={"group_id": group_id, "workspace_id": workspace_id},
                )
        except NotFoundError as exc:
            if exc.after_uncertain_attempt:
                answer: dict[str, Any] = {"deleted_by_earlier_attempt": True}
                await self._deleted(organization_id, group_id, answer)
                return answer
            raise
        answer = written_answer(data, "DELETE", "groups/{group_id}")
        await self._deleted(organization_id, group_id, answer)
        return answer

    async def _deleted(self, organization_id: int, group_id: int, answer: dict[str, Any]) -> None:
        """A DELETE whose answer confirms it (no false in it) removes the group; else its outcome is unknown."""
        confirmed = confirms_success(answer)
        for observer in self.write_observers:
            if confirmed:
                await observer.group_deleted(organization_id, group_id)
            else:
                await observer.outcome_unknown(organization_id)

    async def set_group_member_role(
        self, organization_id: int, group_id: int, body: GroupUserRoleRequest
    ) -> dict[str, Any]:
        async with self._observed(organization_id):
            data = await self._call(
                "PUT",
                "groups/{group_id}/user_role",
                organization_id,
                payload=body.model_dump(),
                ids={
                    "group_id": group_id,
                    "workspace_id": body.workspace_id,
                    "organization_user_id": body.organization_user_id,
                },
            )
        answer = written_answer(data, "PUT", "groups/{group_id}/user_role")
        confirmed = confirms_success(answer)
        for observer in self.write_observers:
            if confirmed:
                await observer.role_set(organization_id, group_id, body.organization_user_id, body.focus_role_id)
            else:
                await observer.outcome_unknown(organization_id)
        return answer

    @asynccontextmanager
    async def _observed(self, organization_id: int) -> AsyncIterator[None]:
        """A write that fails with an outcome other than "not written" (no answer, an unreadable 2xx)
        tells the observers that what they hold of the organization may be stale."""
        try:
            yield
        except APIError as exc:
            if isinstance(exc, InvalidResponseError | ServerError) or exc.after_uncertain_attempt:
                for observer in self.write_observers:
                    await observer.outcome_unknown(organization_id)
            raise
        except BaseException:
            with anyio.CancelScope(shield=True):  # a cancelled write may have landed too
                for observer in self.write_observers:
                    await observer.outcome_unknown(organization_id)
            raise

    async def list_member_tags(self, organization_id: int, workspace_id: int, fresh: bool = False) -> list[MemberTag]:
        data = await self._call(
            "GET",
            "member-tags",
            organization_id,
            query={"workspace_id": str(path_id(workspace_id))},
            ids={"workspace_id": workspace_id},
            read=reading(fresh),
        )
        return cast("list[MemberTag]", parse(list[MemberTag], data, "GET", "member-tags"))

    async def list_roles(self, organization_id: int, fresh: bool = False) -> list[Role]:
        data = await self._call("GET", "roles", organization_id, read=reading(fresh))
        return cast("list[Role]", parse(list[Role], data, "GET", "roles"))

    async def cached_roles(self, organization_id: int) -> list[Role] | None:
        """The roles if this process or the replicas' cache holds them, else None: never a request."""
        org = path_id(organization_id)
        key = cache_key(f"organizations/{org}/roles", None)
        data = self.cache.get(key)
        if data is None and self.shared is not None and self.shared.available:
            data = await self.shared.get(await self._shared_key(key, "roles", org))
        return None if data is None else cast("list[Role]", parse(list[Role], data, "GET", "roles"))

    async def list_teams(
        self, organization_id: int, workspace_id: int, query: TeamsQuery, fresh: bool = False, keep: bool = True
    ) -> TeamsPage:
        """`keep=False`: read now and keep no copy (the organization snapshot holds what it reads)."""
        data = await self._call(
            "GET",
            "teams",
            organization_id,
            query=query_params(query, workspace_id=path_id(workspace_id)),
            ids={"workspace_id": workspace_id},
            read=reading(fresh, keep),
        )
        page = cast("TeamsPage", parse(TeamsPage, data, "GET", "teams"))
        if fresh and query.group_ids:  # a group read now (an edit's read under its turn) is the latest there is
            for observer in self.write_observers:
                await observer.groups_read(organization_id, workspace_id, query.group_ids, page.data)
        return page

    async def list_users(
        self, organization_id: int, query: UsersQuery, fresh: bool = False, keep: bool = True
    ) -> list[OrganizationUser]:
        data = await self._call("GET", "users", organization_id, query=query_params(query), read=reading(fresh, keep))
        users = cast("list[OrganizationUser]", parse(list[OrganizationUser], data, "GET", "users"))
        self.longest_users_page = max(self.longest_users_page, len(users))
        return users

    async def get_group(
        self, organization_id: int, group_id: int, workspace_id: int, fresh: bool = True
    ) -> Group | None:
        """The group as GET teams shows it in that workspace, or None; by default read now, not cached."""
        page = await self.list_teams(organization_id, workspace_id, TeamsQuery(group_ids=[group_id]), fresh=fresh)
        return next((group for group in page.data if group.id == group_id), None)

    # --- plumbing -----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        endpoint: str,
        organization_id: int,
        *,
        query: dict[str, str] | None = None,
        payload: Any = None,
        ids: dict[str, int] | None = None,
        read: Reading = "cached",
    ) -> Any:
        """One logical request: GETs through the cache and single-flight, writes invalidating. `ids`:
        the ids the request is about, named in its errors; its group_id also goes into the path."""
        params = {"organization_id": path_id(organization_id)}
        if ids and "group_id" in ids:
            params["group_id"] = path_id(ids["group_id"])
        info = RequestInfo(method, endpoint, {**params, **(ids or {})})
        if self._auth is None:
            raise NotConfiguredError(self.settings.credentials_problem or NO_CREDENTIALS)
        path = f"organizations/{params['organization_id']}/" + endpoint.format(**params)
        key = cache_key(path, query)
        try:
            url = httpx2.URL(f"{self.base_url}/{path}", params=query or None)
        except httpx2.InvalidURL as exc:  # the schema sets no length (the API gives none); a URL has one
            raise RequestTooLongError(info, str(exc)) from None
        if method != "GET":
            try:
                return await self._sender.fetch(info, url, payload)
            finally:  # even a failed write may have landed
                self._forget_group_data(params["organization_id"])
                if self.shared is not None:
                    await self.shared.bump(params["organization_id"])
        org = params["organization_id"]
        if read == "unkept":  # the caller keeps what it reads (the snapshot): no second copy in the cache
            return await self._sender.fetch(info, url, None)
        if read == "fresh":  # read now: not from the cache, nor from a request that left earlier (maybe before a write)
            return await self._read(info, key, url, endpoint, org)
        # With Redis up, what a group write changes is read through Redis, where every replica's write
        # shows; this process's own copy could predate another replica's write.
        own_copy = self.shared is None or not self.shared.available or endpoint not in CHANGED_BY_GROUP_WRITES
        if own_copy and (hit := self.cache.get(key)) is not None:
            log.debug("%s: answered from the cache", info)
            return hit
        if self.shared is not None and (hit := await self.shared.get(await self._shared_key(key, endpoint, org))):
            log.debug("%s: answered from the replicas' cache", info)
            self.cache.put(key, hit, self._ttl(endpoint))
            return hit
        return await self._flights.run(key, lambda: self._read(info, key, url, endpoint, org))

    async def _read(self, info: RequestInfo, key: Key, url: httpx2.URL, endpoint: str, org: int) -> bytes:
        """GET, and keep the answer unless a write landed while it was under way (it may predate it)."""
        generation = self.cache.generation
        shared_key = await self._shared_key(key, endpoint, org) if self.shared is not None else ""
        data = await self._sender.fetch(info, url, None)
        if self.cache.generation == generation:
            self.cache.put(key, data, self._ttl(endpoint))
            if self.shared is not None and shared_key == await self._shared_key(key, endpoint, org):
                await self.shared.put(shared_key, data, self._ttl(endpoint))
        return data

    async def _shared_key(self, key: Key, endpoint: str, org: int) -> str:
        """The key in Redis: for what a group write changes, under the organization's write generation."""
        assert self.shared is not None
        generation = await self.shared.generation(org) if endpoint in CHANGED_BY_GROUP_WRITES else 0
        path, query = key
        return f"{generation}:{path}?{'&'.join(f'{k}={v}' for k, v in query)}"

    def _ttl(self, endpoint: str) -> float:
        ttl = self.settings.cache_ttl
        return ttl * SLOW_DATA_FACTOR if endpoint in SLOW_CHANGING else ttl

    def _forget_group_data(self, organization_id: int) -> None:
        """A group write changes teams, my groups and users' memberships: drop them from the cache,
        and let no later call share a read of them that is still under way (it left before the write)."""
        prefix = f"organizations/{organization_id}/"

        def changed(path: str) -> bool:
            return path.startswith(prefix) and path[len(prefix) :] in CHANGED_BY_GROUP_WRITES

        self.cache.drop(changed)
        self._flights.forget(changed)
