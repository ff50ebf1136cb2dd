"""Replays missed events after a reconnect (uses the copied connection manager)."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.connection_manager import WebSocketConnectionManager
from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def replay(
    user_context: UserExecutionContext, connection: WebSocketConnection, events: list[dict[str, Any]]
) -> int:
    manager = WebSocketConnectionManager(user_context)
    await manager.add_connection(connection)
    sent = 0
    for event in events:
        sent += await manager.send_to_user(user_context.user_id, event)
    return sent
