"""The supervisor agent: one chat turn, streamed to the user as five events."""

from __future__ import annotations

import asyncio

from netra_backend.app.agents.tool_dispatcher import bridge_for, dispatch_tool
from netra_backend.app.websocket_core.manager import WebSocketManager


class SupervisorAgent:
    def __init__(self, manager: WebSocketManager) -> None:
        self.bridge = bridge_for(manager)

    async def run(self, query: str, tool: str = "search") -> str:
        await self.bridge.agent_started(query)
        await asyncio.sleep(0)
        await self.bridge.agent_thinking(f"choosing a tool for {query!r}")
        result = await dispatch_tool(self.bridge, tool, query)
        answer = f"Here is what I found: {result}"
        await self.bridge.agent_completed(answer)
        return answer
