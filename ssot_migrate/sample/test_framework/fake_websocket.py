"""A WebSocket that records what the server sends."""

from __future__ import annotations

import asyncio
from typing import Any

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


class FakeWebSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # a real socket yields here; exposes interleaving bugs
        self.sent.append(message)

    def types(self) -> list[str]:
        return [message["type"] for message in self.sent]


def user(name: str, run: str = "1") -> UserExecutionContext:
    return UserExecutionContext(user_id=name, thread_id=f"thread-{name}", run_id=f"run-{name}-{run}")


def connection_for(context: UserExecutionContext, socket: FakeWebSocket, suffix: str = "a") -> WebSocketConnection:
    return WebSocketConnection(f"{context.user_id}-{suffix}", context.user_id, socket)
