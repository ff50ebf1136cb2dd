"""Turns agent progress into the five WebSocket events the chat UI renders."""

from __future__ import annotations

from typing import Any

from netra_backend.app.websocket_core.manager import WebSocketManager
from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


class AgentWebSocketBridge:
    def __init__(self, manager: UnifiedWebSocketManager | WebSocketManager) -> None:
        self.manager = manager

    async def agent_started(self, query: str) -> None:
        await self.manager.send_agent_event("agent_started", {"query": query})

    async def agent_thinking(self, thought: str) -> None:
        await self.manager.send_agent_event("agent_thinking", {"thought": thought})

    async def tool_executing(self, tool: str, arguments: dict[str, Any]) -> None:
        await self.manager.send_agent_event("tool_executing", {"tool": tool, "arguments": arguments})

    async def tool_completed(self, tool: str, result: Any) -> None:
        await self.manager.send_agent_event("tool_completed", {"tool": tool, "result": result})

    async def agent_completed(self, answer: str) -> None:
        # Keywords, as the manager's interface names them today.
        await self.manager.send_agent_event(event_type="agent_completed", payload={"answer": answer})
