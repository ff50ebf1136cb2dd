"""Admin endpoints (dual import: legacy facade and canonical class side by side)."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager


def inspect_manager(manager: object) -> dict[str, Any]:
    if not isinstance(manager, (UnifiedWebSocketManager, WebSocketManager)):
        raise TypeError(f"not a WebSocket manager: {manager!r}")
    return manager.get_stats()
