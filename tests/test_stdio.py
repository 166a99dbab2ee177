"""The event-loop stdio transport's bookkeeping of unanswered requests."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp_types import jsonrpc_message_adapter

from focus_mcp.stdio import _Pending

pytestmark = pytest.mark.anyio
QUOTED = 'x"y'  # an id that needs escaping on the wire


def message(**fields: object):  # type: ignore[no-untyped-def]
    return jsonrpc_message_adapter.validate_json(json.dumps({"jsonrpc": "2.0", **fields}))


async def test_pending_requests_are_cleared_by_answers_and_cancellations() -> None:
    pending = _Pending()
    pending.read(message(id=1, method="tools/list"))
    pending.read(message(id=QUOTED, method="tools/call"))
    pending.read(message(id=9, result={}))  # a client's answer to the server
    assert pending.ids == {1, QUOTED}
    pending.written(message(id=1, result={"tools": []}))
    pending.written(message(id=5, method="elicitation/create", params={}))  # the server asking
    assert pending.ids == {QUOTED}
    pending.read(message(method="notifications/cancelled", params={"requestId": QUOTED}))
    with anyio.fail_after(1):
        await pending.drained()


def test_an_error_answer_clears_its_request() -> None:
    pending = _Pending()
    pending.read(message(id=QUOTED, method="tools/list"))
    pending.written(message(id=QUOTED, error={"code": -1, "message": "x"}))
    assert pending.ids == set()
