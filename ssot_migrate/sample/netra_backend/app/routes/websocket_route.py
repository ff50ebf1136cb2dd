"""The WebSocket endpoint: one manager per connecting user."""

from __future__ import annotations

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager


async def connect(user_context: UserExecutionContext, websocket: object, connection_id: str) -> WebSocketManager:
    manager = WebSocketManager(user_context)
    connection = WebSocketConnection(connection_id, user_context.user_id, websocket)  # type: ignore[arg-type]
    await manager.add_connection(connection, user_context.thread_id)
    return manager
