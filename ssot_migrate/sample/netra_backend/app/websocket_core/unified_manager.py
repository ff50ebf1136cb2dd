"""The canonical WebSocket manager: one instance per user execution context."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.types import (
    AGENT_EVENTS,
    IsolationError,
    UserExecutionContext,
    WebSocketConnection,
)


class UnifiedWebSocketManager:
    """Owns one user's connections and delivers their agent events, never anyone else's."""

    def __init__(self, user_context: UserExecutionContext) -> None:
        self.user_context = user_context
        self._connections: dict[str, WebSocketConnection] = {}
        self._threads: dict[str, str] = {}
        self._messages_sent = 0

    async def add_connection(self, connection: WebSocketConnection, thread_id: str | None = None) -> None:
        if connection.user_id != self.user_context.user_id:
            raise IsolationError(
                f"connection {connection.connection_id} belongs to {connection.user_id}, "
                f"not {self.user_context.user_id}"
            )
        self._connections[connection.connection_id] = connection
        self._threads[connection.connection_id] = thread_id or self.user_context.thread_id

    async def remove_connection(self, connection_id: str) -> None:
        self._connections.pop(connection_id, None)
        self._threads.pop(connection_id, None)

    def get_user_connections(self, user_id: str) -> list[WebSocketConnection]:
        if user_id != self.user_context.user_id:
            return []
        return list(self._connections.values())

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> int:
        if user_id != self.user_context.user_id:
            raise IsolationError(f"manager of {self.user_context.user_id} cannot send to {user_id}")
        delivered = 0
        for connection in list(self._connections.values()):
            await connection.websocket.send_json(message)
            delivered += 1
        self._messages_sent += delivered
        return delivered

    async def send_agent_event(self, event_type: str, payload: dict[str, Any]) -> int:
        if event_type not in AGENT_EVENTS:
            raise ValueError(f"unknown agent event: {event_type}")
        context = self.user_context
        message = {
            "type": event_type,
            "user_id": context.user_id,
            "thread_id": context.thread_id,
            "run_id": context.run_id,
            "payload": dict(payload),
        }
        return await self.send_to_user(context.user_id, message)

    async def disconnect_user(self, user_id: str) -> None:
        if user_id == self.user_context.user_id:
            self._connections.clear()
            self._threads.clear()

    def get_stats(self) -> dict[str, Any]:
        return {
            "user_id": self.user_context.user_id,
            "connections": len(self._connections),
            "messages_sent": self._messages_sent,
        }
