"""Golden path: concurrent users never see each other's events."""

from __future__ import annotations

import asyncio

import pytest

from netra_backend.app.routes.chat_route import chat
from netra_backend.app.routes.websocket_route import connect
from netra_backend.app.websocket_core.types import AGENT_EVENTS, IsolationError
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
from test_framework.fake_websocket import FakeWebSocket, connection_for, user

USERS = ("alice", "bob", "carol", "dave", "erin", "frank")


def test_concurrent_users_receive_only_their_own_events() -> None:
    sockets = {name: FakeWebSocket() for name in USERS}

    async def everyone() -> list[str]:
        return await asyncio.gather(*(chat(user(n), sockets[n], f"search {n}") for n in USERS))

    answers = asyncio.run(everyone())
    assert len(answers) == len(USERS)
    for name, socket in sockets.items():
        assert socket.types() == list(AGENT_EVENTS), name
        assert {m["user_id"] for m in socket.sent} == {name}
        assert {m["run_id"] for m in socket.sent} == {f"run-{name}-1"}
        assert socket.sent[0]["payload"] == {"query": f"search {name}"}


def test_a_manager_refuses_another_users_connection() -> None:
    async def scenario() -> None:
        manager = await connect(user("alice"), FakeWebSocket(), "alice-a")
        with pytest.raises(IsolationError):
            await manager.add_connection(connection_for(user("bob"), FakeWebSocket()))

    asyncio.run(scenario())


def test_a_manager_cannot_send_to_another_user() -> None:
    async def scenario() -> None:
        manager = UnifiedWebSocketManager(user("alice"))
        await manager.add_connection(connection_for(user("alice"), FakeWebSocket()))
        with pytest.raises(IsolationError):
            await manager.send_to_user("bob", {"type": "leak"})

    asyncio.run(scenario())
