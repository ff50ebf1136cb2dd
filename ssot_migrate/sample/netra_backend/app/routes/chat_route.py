"""Chat messages: each one runs the triage agent for the sender."""

from __future__ import annotations

from netra_backend.app.agents.triage_agent import triage
from netra_backend.app.routes.websocket_route import connect
from netra_backend.app.websocket_core.types import UserExecutionContext


async def chat(user_context: UserExecutionContext, websocket: object, message: str) -> str:
    manager = await connect(user_context, websocket, f"conn-{user_context.run_id}")
    return await triage(user_context, message, manager)
