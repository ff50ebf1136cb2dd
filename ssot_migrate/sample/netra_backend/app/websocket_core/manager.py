"""Legacy import path kept for old callers: the manager under its pre-consolidation name."""

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager as WebSocketManager

__all__ = ["WebSocketManager"]
