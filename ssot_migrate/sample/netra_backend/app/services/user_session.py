"""User sessions (package imported, class reached through the full dotted path)."""

from __future__ import annotations

import netra_backend.app.websocket_core.websocket_manager
from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def open_session(user_context: UserExecutionContext, connection: WebSocketConnection) -> object:
    manager = netra_backend.app.websocket_core.websocket_manager.WebSocketManager(user_context)
    await manager.add_connection(connection)
    return manager
