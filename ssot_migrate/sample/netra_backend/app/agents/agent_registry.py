"""Registry of agent kinds; annotates with the manager only for type checkers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netra_backend.app.websocket_core.websocket_manager import WebSocketManager

AGENTS = ("supervisor", "triage", "data")


def describe(manager: "WebSocketManager") -> dict[str, object]:
    return {"agents": list(AGENTS), "user_id": manager.user_context.user_id}
