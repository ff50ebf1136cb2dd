"""Routes inbound chat messages (relative legacy import of the facade)."""

from __future__ import annotations

from typing import Any

from ..websocket_core.types import UserExecutionContext, WebSocketConnection
from ..websocket_core.websocket_manager import WebSocketManager


async def route_message(
    user_context: UserExecutionContext, connection: WebSocketConnection, message: dict[str, Any]
) -> int:
    manager = WebSocketManager(user_context=user_context)
    await manager.add_connection(connection, user_context.thread_id)
    return await manager.send_to_user(user_context.user_id, {"type": "ack", "id": message.get("id")})
