"""Legacy facade: wraps the unified manager but keeps its own copy of the connection state."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


class WebSocketManager:
    """Facade over ``UnifiedWebSocketManager`` with duplicated bookkeeping."""

    def __init__(self, user_context: UserExecutionContext) -> None:
        self.user_context = user_context
        self._manager = UnifiedWebSocketManager(user_context)
        # Duplicated state: drifts from the manager's own view of the connections.
        self._connections: dict[str, WebSocketConnection] = {}
        self._events_sent = 0

    async def add_connection(self, connection: WebSocketConnection, thread_id: str | None = None) -> None:
        self._connections[connection.connection_id] = connection
        await self._manager.add_connection(connection, thread_id)

    async def remove_connection(self, connection_id: str) -> None:
        self._connections.pop(connection_id, None)
        await self._manager.remove_connection(connection_id)

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> int:
        return await self._manager.send_to_user(user_id, message)

    async def send_agent_event(self, event_type: str, payload: dict[str, Any]) -> int:
        self._events_sent += 1
        return await self._manager.send_agent_event(event_type, payload)

    def get_stats(self) -> dict[str, Any]:
        stats = self._manager.get_stats()
        stats["connections"] = len(self._connections)
        return stats
