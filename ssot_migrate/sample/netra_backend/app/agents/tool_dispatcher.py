"""Runs one tool for an agent and reports it to the user."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..services.agent_websocket_bridge import AgentWebSocketBridge

if TYPE_CHECKING:
    from ..websocket_core.manager import WebSocketManager

TOOLS = {
    "search": lambda query: f"3 documents about {query}",
    "summarize": lambda query: f"summary of {query}",
}


async def dispatch_tool(bridge: AgentWebSocketBridge, tool: str, query: str) -> str:
    await bridge.tool_executing(tool, {"query": query})
    await asyncio.sleep(0)  # a real tool awaits I/O here; lets concurrent users interleave
    result = TOOLS[tool](query)
    await bridge.tool_completed(tool, result)
    return result


def bridge_for(manager: WebSocketManager) -> AgentWebSocketBridge:
    return AgentWebSocketBridge(manager)
