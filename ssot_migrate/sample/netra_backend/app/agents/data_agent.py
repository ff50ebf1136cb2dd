"""Data agent: builds its manager lazily (function-local legacy import)."""

from __future__ import annotations

from netra_backend.app.websocket_core.types import UserExecutionContext


async def report_rows(user_context: UserExecutionContext, rows: int) -> dict[str, object]:
    from netra_backend.app.websocket_core.manager import WebSocketManager

    manager = WebSocketManager(user_context)
    return {"rows": rows, "connections": manager.get_stats()["connections"]}
