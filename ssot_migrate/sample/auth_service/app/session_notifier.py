"""Session expiry notices (built on the copied connection manager)."""

from __future__ import annotations

from netra_backend.app.websocket_core.connection_manager import WebSocketConnectionManager
from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def session_expired(user_context: UserExecutionContext, connection: WebSocketConnection) -> int:
    manager = WebSocketConnectionManager(user_context)
    await manager.add_connection(connection)
    return await manager.send_to_user(user_context.user_id, {"type": "session_expired"})
