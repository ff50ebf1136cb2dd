"""User notifications (module imported under an alias, class reached by attribute)."""

from __future__ import annotations

import netra_backend.app.websocket_core.manager as ws_manager
from netra_backend.app.websocket_core.types import UserExecutionContext, WebSocketConnection


async def notify(user_context: UserExecutionContext, connection: WebSocketConnection, text: str) -> int:
    manager = ws_manager.WebSocketManager(user_context)
    await manager.add_connection(connection)
    return await manager.send_to_user(user_context.user_id, {"type": "notification", "text": text})
