"""Chat threads (legacy import with a fallback for older deployments)."""

from __future__ import annotations

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection

try:
    from netra_backend.app.websocket_core.websocket_manager import WebSocketManager
except ImportError:  # pragma: no cover - deployments older than the facade
    from netra_backend.app.websocket_core.manager import WebSocketManager


async def announce_thread(user_context: UserExecutionContext, connection: WebSocketConnection) -> int:
    manager = WebSocketManager(user_context)
    await manager.add_connection(connection, user_context.thread_id)
    message = {"type": "thread_created", "thread_id": user_context.thread_id}
    return await manager.send_to_user(user_context.user_id, message)
