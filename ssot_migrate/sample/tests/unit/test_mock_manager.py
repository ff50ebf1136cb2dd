"""Agent code against the hand-written mock, and interception of the real manager by patch path."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

from netra_backend.app.agents.supervisor import SupervisorAgent
from netra_backend.app.routes.chat_route import chat
from netra_backend.app.websocket_core.types import AGENT_EVENTS
from test_framework.fake_websocket import FakeWebSocket, connection_for, user
from test_framework.mock_websocket_manager import MockWebSocketManager


def test_supervisor_against_the_mock() -> None:
    """Fails while the mock rejects the keywords production passes (phase 2 conforms it)."""
    manager = MockWebSocketManager(user("alice"))
    asyncio.run(manager.add_connection(connection_for(user("alice"), FakeWebSocket())))
    answer = asyncio.run(SupervisorAgent(manager).run("search invoices"))  # type: ignore[arg-type]
    assert manager.event_types() == list(AGENT_EVENTS)
    assert answer.endswith("3 documents about search invoices")


def test_agent_events_can_be_intercepted_by_patch_path() -> None:
    seen: list[tuple[str, str]] = []

    async def record(self: Any, event_type: str, payload: dict[str, Any]) -> int:
        seen.append((self.user_context.user_id, event_type))
        return 0

    socket = FakeWebSocket()
    with mock.patch("netra_backend.app.websocket_core.manager.WebSocketManager.send_agent_event", new=record):
        asyncio.run(chat(user("erin"), socket, "search logs"))
    assert seen == [("erin", event) for event in AGENT_EVENTS]
    assert socket.sent == []
