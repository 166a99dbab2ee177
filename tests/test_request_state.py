"""The sealed requestState of 2026-07-28 questions: the key ring replicas share, its rotation, and a state the
server refuses (forged, for another request) answered with a sentence that says nothing was deleted."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import mcp_types as types
import pytest
from helpers import sandbox_settings, text
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp.server.request_state import InvalidRequestState
from pydantic import SecretStr
from redis_server import redis_server

from focus_mcp.api.shared import SharedState
from focus_mcp.config import Settings
from focus_mcp.doctor import run_doctor
from focus_mcp.request_state import REFRESH, ROTATE_AFTER, TTL, SharedKeys, replica_warning, security, source
from focus_mcp.server import build_server

pytestmark = pytest.mark.anyio
ONBOARDING, FRONTEND = 4500019, 4500002


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
async def shared(redis_url: str) -> AsyncIterator[SharedState]:
    state = SharedState(redis_url, "ring-test")
    yield state
    await state.aclose()


async def test_the_first_replica_creates_the_ring_and_the_others_read_it(shared: SharedState) -> None:
    a, b = SharedKeys(), SharedKeys()
    assert await a.refresh(shared) and await b.refresh(shared)
    assert a.ring == b.ring and len(a.ring) == 1  # one key, made once
    assert b.unseal(a.seal(b"asked on A")) == b"asked on A"
    assert a.unseal(b.seal(b"asked on B")) == b"asked on B"
    assert not await a.refresh(shared)  # within REFRESH: its copy is trusted, nothing read
    leaked = a.seal(b"sealed with a key that leaked")
    await shared.redis.flushall()  # the ring deleted (or Redis restarted empty): the next replica makes a new one
    assert await b.refresh(shared, force=True) and await a.refresh(shared, force=True)
    assert a.ring == b.ring and b.unseal(a.seal(b"asked after the restart")) == b"asked after the restart"
    with pytest.raises(InvalidRequestState):
        b.unseal(leaked)


async def test_a_rotation_keeps_the_retired_key_for_one_expiry_period(shared: SharedState) -> None:
    a, b = SharedKeys(), SharedKeys()
    await a.refresh(shared, now=1_000.0)
    await b.refresh(shared, now=1_000.0)
    before = a.seal(b"asked before the rotation")
    rotated_at = 1_000.0 + ROTATE_AFTER
    assert await a.refresh(shared, now=rotated_at)  # A finds the key old and rotates the ring
    assert len(a.ring) == 2 and a.ring[1] == b.ring[0]
    assert a.unseal(before) == b"asked before the rotation"
    stale = b.seal(b"sealed by a replica that has not looked yet")
    assert a.unseal(stale) == b"sealed by a replica that has not looked yet"
    fresh = a.seal(b"sealed with the new key")
    with pytest.raises(InvalidRequestState):
        b.unseal(fresh)
    assert await b.refresh(shared, now=rotated_at + 1, force=True)  # what a refused state makes it do
    assert b.unseal(fresh) == b"sealed with the new key" and b.ring == a.ring
    assert not await b.refresh(shared, now=rotated_at + 2, force=True)  # no second rotation
    later = rotated_at + TTL + REFRESH
    assert await a.refresh(shared, now=later, force=True)
    assert len(a.ring) == 1
    with pytest.raises(InvalidRequestState):
        a.unseal(before)


async def test_with_redis_unreachable_a_replica_seals_with_its_own_key() -> None:
    gone = SharedState("redis://127.0.0.1:1/0", "ring-test")
    keys = SharedKeys()
    assert not await keys.refresh(gone) and not keys.shared
    assert keys.unseal(keys.seal(b"asked here")) == b"asked here"
    await gone.aclose()


def test_where_the_key_comes_from_and_the_warning_without_one() -> None:
    secret = "k" * 40
    by_setting = Settings(request_state_key=SecretStr(secret))
    assert source(by_setting) == "TOGGL_FOCUS_REQUEST_STATE_KEY (value not shown)"
    assert security(by_setting)[1] is None and security(Settings())[0] is None
    assert security(Settings(redis_url=SecretStr("redis://127.0.0.1:1/0")))[1] is not None
    assert replica_warning(by_setting, stateless=True) is None
    assert replica_warning(Settings(), stateless=False) is None
    warning = replica_warning(Settings(), stateless=True) or ""
    assert "TOGGL_FOCUS_REDIS_URL" in warning and "TOGGL_FOCUS_REQUEST_STATE_KEY" in warning
    assert secret not in repr(by_setting)


def yes(questions: types.InputRequiredResult) -> dict[str, Any]:
    return {k: types.ElicitResult(action="accept", content={"confirm": True}) for k in questions.input_requests or {}}


async def test_a_state_forged_or_for_another_request_is_refused_saying_nothing_was_deleted() -> None:
    settings, api = sandbox_settings()

    async def never(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        raise AssertionError("this test answers the question itself")

    server = build_server(settings, api.transport())
    async with Client(server, mode="2026-07-28", elicitation_callback=never) as client:
        arguments = {"group_id": ONBOARDING}
        asked = await client.session.call_tool("delete_group", arguments, allow_input_required=True)
        assert isinstance(asked, types.InputRequiredResult) and asked.request_state
        state, answers = asked.request_state, yes(asked)
        forged = state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")
        refused = await client.session.call_tool(
            "delete_group", arguments, input_responses=answers, request_state=forged
        )
        assert refused.is_error and text(refused).startswith("[SANDBOX] Nothing was deleted:"), text(refused)
        assert "Call delete_group again" in text(refused)
        # The user's yes to Onboarding cannot delete Frontend: the state is bound to the request it was asked for.
        elsewhere = await client.session.call_tool(
            "delete_group", {"group_id": FRONTEND}, input_responses=answers, request_state=state
        )
        assert elsewhere.is_error and "Nothing was deleted" in text(elsewhere)
        assert ONBOARDING in api.groups and FRONTEND in api.groups
        done = await client.session.call_tool("delete_group", arguments, input_responses=answers, request_state=state)
    assert not done.is_error and "Deleted group 4500019" in text(done)
    assert ONBOARDING not in api.groups


async def test_doctor_says_where_the_key_comes_from_never_the_key() -> None:
    class Out:
        text = ""

        def write(self, chunk: str) -> None:
            self.text += chunk

    settings, api = sandbox_settings()
    # Not the sandbox (one process, nothing to say of keys), and a key of its own: a configuration's key is
    # redacted process-wide, and the sandbox's ("sandbox") is a word its messages use.
    settings = settings.model_copy(update={"sandbox": False, "api_key": SecretStr(secrets.token_hex(16))})
    alone, shared_key = Out(), Out()
    await run_doctor(settings, api.transport(), alone)  # type: ignore[arg-type]
    assert "[skip] request-state key: per process" in alone.text and "TOGGL_FOCUS_REDIS_URL" in alone.text
    secret = secrets.token_hex(32)
    with_key = settings.model_copy(update={"request_state_key": SecretStr(secret)})
    await run_doctor(with_key, api.transport(), shared_key)  # type: ignore[arg-type]
    assert "[ok  ] request-state key: TOGGL_FOCUS_REQUEST_STATE_KEY (value not shown)" in shared_key.text
    assert secret not in shared_key.text
