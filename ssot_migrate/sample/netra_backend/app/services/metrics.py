"""Metrics export (string annotations naming the legacy class)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netra_backend.app.websocket_core.manager import WebSocketManager


def snapshot(manager: "WebSocketManager") -> dict[str, Any]:
    stats = manager.get_stats()
    return {"websocket.connections": stats["connections"]}
