"""Process-wide state (legacy module imported from its package)."""

from __future__ import annotations

from netra_backend.app.websocket_core import manager
from netra_backend.app.websocket_core.types import UserExecutionContext

SERVICE_CONTEXT = UserExecutionContext(user_id="system", thread_id="system", run_id="startup")


def system_manager() -> object:
    return manager.WebSocketManager(SERVICE_CONTEXT)
