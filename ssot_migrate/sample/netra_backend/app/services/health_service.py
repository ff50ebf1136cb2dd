"""Health endpoint data (legacy import kept inside the function to dodge an old import cycle)."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.types import UserExecutionContext


def websocket_health(user_context: UserExecutionContext) -> dict[str, Any]:
    from netra_backend.app.websocket_core.websocket_manager import WebSocketManager

    manager = WebSocketManager(user_context)
    stats = manager.get_stats()
    return {"status": "ok", "connections": stats["connections"]}
