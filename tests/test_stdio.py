"""The event-loop stdio transport's bookkeeping of unanswered requests."""

from __future__ import annotations

import json

import anyio
import pytest

from focus_mcp.stdio import _Pending

pytestmark = pytest.mark.anyio
QUOTED = 'x"y'  # an id that needs escaping on the wire


async def test_pending_requests_are_cleared_by_answers_and_cancellations() -> None:
    pending = _Pending()
    pending.read(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
    pending.read(json.dumps({"jsonrpc": "2.0", "id": QUOTED, "method": "tools/call"}))
    pending.read(json.dumps({"jsonrpc": "2.0", "id": 9, "result": {}}))  # a client's answer to the server
    pending.read("not json")
    assert pending.ids == {"1", json.dumps(QUOTED)}
    pending.written('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\n')
    pending.written('{"jsonrpc":"2.0","id":5,"method":"elicitation/create","params":{}}\n')  # the server asking
    assert pending.ids == {json.dumps(QUOTED)}
    pending.read(json.dumps({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": QUOTED}}))
    with anyio.fail_after(1):
        await pending.drained()


def test_an_answer_with_an_escaped_string_id_clears_it() -> None:
    pending = _Pending()
    pending.read(json.dumps({"jsonrpc": "2.0", "id": QUOTED, "method": "tools/list"}))
    pending.written('{"jsonrpc":"2.0","id":' + json.dumps(QUOTED) + ',"error":{"code":-1,"message":"x"}}')
    assert pending.ids == set()
