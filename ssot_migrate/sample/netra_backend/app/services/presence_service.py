"""Presence (built through the deprecated factory)."""

from __future__ import annotations

from netra_backend.app.websocket_core.factory import get_websocket_manager
from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def mark_online(user_context: UserExecutionContext, connection: WebSocketConnection) -> int:
    manager = get_websocket_manager(user_context)
    await manager.add_connection(connection)
    return await manager.send_to_user(user_context.user_id, {"type": "presence", "online": True})
