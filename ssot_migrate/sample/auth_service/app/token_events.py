"""Token refresh events (legacy path imported under a local name)."""

from __future__ import annotations

from netra_backend.app.websocket_core.manager import WebSocketManager as LegacyManager
from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def token_refreshed(user_context: UserExecutionContext, connection: WebSocketConnection, expires_in: int) -> int:
    manager = LegacyManager(user_context)
    await manager.add_connection(connection)
    message = {"type": "token_refreshed", "expires_in": expires_in}
    return await manager.send_to_user(user_context.user_id, message)
