"""Start-up checks."""

from __future__ import annotations

from netra_backend.app.websocket_core.factory import get_websocket_manager
from netra_backend.app.websocket_core.types import UserExecutionContext


def websocket_ready() -> bool:
    manager = get_websocket_manager(UserExecutionContext("probe", "probe", "probe"))
    return manager.get_stats()["connections"] == 0
