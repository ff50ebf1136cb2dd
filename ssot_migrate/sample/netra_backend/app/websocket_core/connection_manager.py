"""A second implementation copied from the manager long ago; its interface has drifted since.

``add_connection`` lost the ``thread_id`` argument, so a caller written against the unified
manager fails here with "takes 2 positional arguments but 3 were given", and it never checks
that a connection belongs to the manager's user.
"""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


class WebSocketConnectionManager:
    def __init__(self, user_context: UserExecutionContext) -> None:
        self.user_context = user_context
        self._connections: dict[str, WebSocketConnection] = {}

    async def add_connection(self, connection: WebSocketConnection) -> None:
        self._connections[connection.connection_id] = connection

    async def remove_connection(self, connection_id: str) -> None:
        self._connections.pop(connection_id, None)

    def get_user_connections(self, user_id: str) -> list[WebSocketConnection]:
        return [c for c in self._connections.values() if c.user_id == user_id]

    async def send_to_user(self, user_id: str, message: dict[str, Any]) -> int:
        delivered = 0
        for connection in self.get_user_connections(user_id):
            await connection.websocket.send_json(message)
            delivered += 1
        return delivered
