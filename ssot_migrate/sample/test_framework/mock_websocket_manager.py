"""A hand-written test double of the manager, written against its interface of two releases ago.

Production has moved on since: ``send_agent_event`` names its parameters ``event_type`` and
``payload``, ``get_user_connections`` takes ``user_id``, and ``add_connection`` accepts a
``thread_id``. Agent code calling the real manager that way fails against this double. Events are
recorded instead of delivered.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


class MockWebSocketManager:
    def __init__(self, user_context: UserExecutionContext | None = None) -> None:
        self.user_context = user_context
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.connections: dict[str, WebSocketConnection] = {}

    async def add_connection(self, connection: WebSocketConnection) -> None:
        self.connections[connection.connection_id] = connection

    async def remove_connection(self, connection_id: str) -> None:
        self.connections.pop(connection_id, None)

    def get_user_connections(self, user: str) -> list[WebSocketConnection]:
        return [c for c in self.connections.values() if c.user_id == user]

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> int:
        self.events.append((message.get("type", "message"), message))
        return len(self.get_user_connections(user_id))

    async def send_agent_event(self, event: str, data: dict[str, Any]) -> int:
        # Record a copy: the caller may reuse its dict for the next event.
        self.events.append((event, dict(data)))
        return 1

    async def disconnect_user(self, user_id: str) -> None:
        for connection in self.get_user_connections(user_id):
            del self.connections[connection.connection_id]

    def get_stats(self) -> dict[str, Any]:
        return {"connections": len(self.connections), "events": len(self.events)}

    def event_types(self) -> list[str]:
        return [event for event, _ in self.events]
