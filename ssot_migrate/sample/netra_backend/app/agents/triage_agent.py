"""Triage: decides which agent handles a message (aliased legacy import)."""

from __future__ import annotations

from netra_backend.app.agents.supervisor import SupervisorAgent
from netra_backend.app.websocket_core.types import UserExecutionContext
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as WSManager


def pick_tool(message: str) -> str:
    return "summarize" if message.lower().startswith("summarize") else "search"


async def triage(user_context: UserExecutionContext, message: str, manager: WSManager | None = None) -> str:
    if manager is None:
        manager = WSManager(user_context)
    return await SupervisorAgent(manager).run(message, tool=pick_tool(message))
