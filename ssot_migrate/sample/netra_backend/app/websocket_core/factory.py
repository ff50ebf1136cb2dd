"""How managers are meant to be built: one fresh manager per user execution context."""

from __future__ import annotations

from netra_backend.app.websocket_core.manager import WebSocketManager
from netra_backend.app.websocket_core.types import UserExecutionContext
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


def create_websocket_manager(user_context: UserExecutionContext) -> UnifiedWebSocketManager:
    """The single supported way to obtain a manager (never shared between users)."""
    if not user_context.user_id:
        raise ValueError("a WebSocket manager needs a user context with a user_id")
    return UnifiedWebSocketManager(user_context)


def get_websocket_manager(user_context: UserExecutionContext) -> WebSocketManager:
    """Deprecated: use ``create_websocket_manager``."""
    return WebSocketManager(user_context)
