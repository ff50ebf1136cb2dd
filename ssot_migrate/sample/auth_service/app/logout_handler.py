"""Logout: closes every connection of the user (function-local legacy import)."""

from __future__ import annotations

from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def logout(user_context: UserExecutionContext, connection: WebSocketConnection) -> int:
    from netra_backend.app.websocket_core.websocket_manager import WebSocketManager

    manager = WebSocketManager(user_context)
    await manager.add_connection(connection)
    await manager.send_to_user(user_context.user_id, {"type": "logged_out"})
    await manager.remove_connection(connection.connection_id)
    return manager.get_stats()["connections"]
