"""Golden path: a chat message yields the five agent events, in order, to the sender only."""

from __future__ import annotations

import asyncio

from netra_backend.app.routes.chat_route import chat
from netra_backend.app.websocket_core.types import AGENT_EVENTS
from test_framework.fake_websocket import FakeWebSocket, user


def test_five_agent_events_in_order() -> None:
    socket = FakeWebSocket()
    context = user("alice")
    answer = asyncio.run(chat(context, socket, "search pricing plans"))
    assert socket.types() == list(AGENT_EVENTS)
    assert "pricing plans" in answer
    assert {m["user_id"] for m in socket.sent} == {"alice"}
    assert {m["run_id"] for m in socket.sent} == {context.run_id}
    assert socket.sent[2]["payload"] == {"tool": "search", "arguments": {"query": "search pricing plans"}}


def test_tool_choice_reaches_the_user() -> None:
    socket = FakeWebSocket()
    asyncio.run(chat(user("bob"), socket, "summarize the last call"))
    completed = [m for m in socket.sent if m["type"] == "tool_completed"]
    assert completed == [
        {
            "type": "tool_completed",
            "user_id": "bob",
            "thread_id": "thread-bob",
            "run_id": "run-bob-1",
            "payload": {"tool": "summarize", "result": "summary of summarize the last call"},
        }
    ]
    assert socket.sent[-1]["type"] == "agent_completed"
